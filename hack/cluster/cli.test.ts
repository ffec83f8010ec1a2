import { test } from 'node:test';
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/shared/config.ts';
import { FLAGS, helpText, parseConfig, stateDirOf } from './cli.ts';

void test('cluster tool: the command may come before or after the flags; defaults under OCR_CACHE_DIR', () => {
  const cfg = parseConfig(['up', '--with-metrics', '--scrape-target', '127.0.0.1:1', '--scrape-target', '127.0.0.1:2'], { OCR_CACHE_DIR: '/c' });
  assert.deepEqual(cfg, {
    command: 'up',
    name: 'dev',
    cacheDir: '/c',
    stateDir: undefined,
    binDir: '/c/bin',
    nodes: 2,
    withMetrics: true,
    profile: 'default',
    adapterConfigPath: undefined,
    scrapeTargets: ['127.0.0.1:1', '127.0.0.1:2'],
    help: false,
  });
  assert.equal(stateDirOf(cfg), '/c/clusters/dev');
  const down = parseConfig(['--name', 'it-x', 'down'], {});
  assert.deepEqual([down.command, stateDirOf(down)], ['down', join(homedir(), '.cache', 'ocr-platform', 'clusters', 'it-x')]);
  assert.equal(stateDirOf(parseConfig(['status', '--state-dir', '/s'], {})), '/s');
  assert.equal(parseConfig(['-h'], {}).help, true);
  assert.equal(parseConfig([], {}).command, undefined);
  assert.equal(parseConfig(['up', '--profile', 'bench'], {}).profile, 'bench');
});

void test('cluster tool: a bad node count or a second command is refused', () => {
  assert.throws(
    () => parseConfig(['up', '--nodes', '0'], {}),
    (err: unknown) => err instanceof ConfigError && /^--nodes must be an integer between 1 and 50, got "0"$/.test(err.message),
  );
  assert.throws(
    () => parseConfig(['up', 'down'], {}),
    (err: unknown) => err instanceof ConfigError && /^Unexpected argument "down"/.test(err.message),
  );
  assert.throws(() => stateDirOf(parseConfig(['up', '--name', 'Bad_Name'], {})), /invalid cluster name "Bad_Name"/);
  assert.throws(
    () => parseConfig(['up', '--profile', 'fast'], {}),
    (err: unknown) => err instanceof ConfigError && /--profile/.test(err.message),
  );
});

void test('cluster tool: --help lists the commands and every flag', () => {
  const help = helpText();
  for (const c of ['up', 'down', 'status', 'kubeconfig']) assert.match(help, new RegExp(`^ {2}${c} `, 'm'));
  for (const f of FLAGS) assert.match(help, new RegExp(`--${f.name}\\b`), f.name);
});
