import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandNotMappedError, mapCommand, sourceOf } from './commands.ts';

const root = '/repo';
const files =
  (...paths: string[]) =>
  (p: string) =>
    paths.map((f) => `${root}/${f}`).includes(p);

void test('the image entry points map to their sources and back', () => {
  assert.equal(sourceOf('dist/api/main.js'), 'src/api/main.ts');
  assert.equal(sourceOf('dist/worker/main.js'), 'src/worker/main.ts');
  assert.equal(sourceOf('dist/tools/x.js'), 'src/tools/x.ts');
  assert.equal(sourceOf('scripts/run.ts'), undefined);
});

const cases: { name: string; command: string[]; args?: string[]; exists: string[]; prefer?: 'src' | 'dist'; want: string[] }[] = [
  {
    name: 'the API command runs the TypeScript source by default',
    command: ['node', 'dist/api/main.js'],
    exists: ['src/api/main.ts', 'dist/api/main.js'],
    want: ['/repo/src/api/main.ts'],
  },
  {
    name: 'the worker command runs dist when dist is preferred and built',
    command: ['node', 'dist/worker/main.js'],
    exists: ['src/worker/main.ts', 'dist/worker/main.js'],
    prefer: 'dist',
    want: ['/repo/dist/worker/main.js'],
  },
  {
    name: 'dist preferred but not built falls back to the source',
    command: ['node', 'dist/worker/main.js'],
    exists: ['src/worker/main.ts'],
    prefer: 'dist',
    want: ['/repo/src/worker/main.ts'],
  },
  {
    name: 'args follow the script, as the image CMD would',
    command: ['node'],
    args: ['dist/api/main.js', '--flag'],
    exists: ['src/api/main.ts'],
    want: ['/repo/src/api/main.ts', '--flag'],
  },
  {
    name: 'an absolute path under the image WORKDIR /app is a checkout path',
    command: ['/usr/local/bin/node', '/app/dist/api/main.js'],
    exists: ['src/api/main.ts'],
    want: ['/repo/src/api/main.ts'],
  },
  {
    name: 'any other file of the checkout runs as it is',
    command: ['node', 'test/fixtures/server.ts'],
    exists: ['test/fixtures/server.ts'],
    want: ['/repo/test/fixtures/server.ts'],
  },
];

for (const c of cases) {
  void test(c.name, () => {
    const got = mapCommand(c.command, c.args, { root, node: '/bin/node24', prefer: c.prefer, exists: files(...c.exists) });
    assert.deepEqual(got, { file: '/bin/node24', args: c.want, cwd: root });
  });
}

const rejected: { name: string; command?: string[]; args?: string[]; message: RegExp }[] = [
  { name: 'a container without a command is rejected with the fix', message: /set command to \["node", "dist\/api\/main.js"\]/ },
  { name: 'a program other than node is rejected', command: ['sh', '-c', 'rm -rf /'], message: /not a Node.js command/ },
  { name: 'node -e is rejected (no script file)', command: ['node', '-e', '1'], message: /runs no script file/ },
  { name: 'a script outside the checkout is rejected', command: ['node', '../../etc/x.js'], message: /outside the image's app directory/ },
  {
    name: 'a script that does not exist names the paths it tried',
    command: ['node', 'dist/api/main.js'],
    message: /none of src\/api\/main.ts, dist\/api\/main.js exists/,
  },
];

for (const c of rejected) {
  void test(c.name, () => {
    assert.throws(
      () => mapCommand(c.command, c.args, { root, exists: () => false }),
      (e: unknown) => e instanceof CommandNotMappedError && c.message.test(e.message),
    );
  });
}
