import { test } from 'node:test';
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../shared/config.ts';
import { FLAGS, helpText, parseConfig } from './start.ts';

void test('npm start: defaults, KUBECONFIG and OCR_CACHE_DIR from the environment', () => {
  assert.deepEqual(parseConfig([], {}), {
    load: 0,
    exitAfterLoad: false,
    check: false,
    kubeconfig: undefined,
    basePort: undefined,
    cacheDir: join(homedir(), '.cache', 'ocr-platform'),
    help: false,
  });
  const cfg = parseConfig([], { KUBECONFIG: '/k', OCR_CACHE_DIR: '/c' });
  assert.deepEqual([cfg.kubeconfig, cfg.cacheDir], ['/k', '/c']);
  assert.equal(parseConfig(['--kubeconfig', '/flag'], { KUBECONFIG: '/k' }).kubeconfig, '/flag');
});

void test('npm start: --load N, or N as the first argument (npm run start:load -- N), and -h', () => {
  assert.equal(parseConfig(['--load', '50'], {}).load, 50);
  assert.equal(parseConfig(['50', '--exit-after-load'], {}).load, 50);
  assert.equal(parseConfig(['--base-port', '28080', '--check'], {}).basePort, 28080);
  assert.equal(parseConfig(['-h'], {}).help, true);
});

void test('npm start: a bad load or port is refused naming the flag', () => {
  for (const [argv, message] of [
    [['many'], /^--load must be an integer between 0 and 100000, got "many"$/],
    [['--load=-1'], /^--load must be an integer between 0 and 100000/],
    [['--base-port', 'x'], /^--base-port must be an integer between 1 and 65535, got "x"$/],
  ] as const) {
    assert.throws(
      () => parseConfig(argv, {}),
      (err: unknown) => err instanceof ConfigError && message.test(err.message),
      argv.join(' '),
    );
  }
});

void test('npm start: --help lists every flag', () => {
  const help = helpText();
  for (const f of FLAGS) assert.match(help, new RegExp(`--${f.name}\\b`), f.name);
  assert.match(help, /OCR_CACHE_DIR/);
});
