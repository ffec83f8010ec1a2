import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from './logger.ts';
import { handleShutdown } from './shutdown.ts';

void test('a shutdown runs stop once and exits 0, or with the code it was given', async () => {
  const exits: number[] = [];
  const reasons: string[] = [];
  const shutdown = handleShutdown({
    log: silentLogger(),
    signals: [],
    exit: (c) => exits.push(c),
    stop: async (r) => {
      reasons.push(r);
    },
  });
  await Promise.all([shutdown('SIGTERM'), shutdown('SIGINT')]);
  assert.deepEqual(reasons, ['SIGTERM']);
  assert.deepEqual(exits, [0]);

  const failedStart: number[] = [];
  await handleShutdown({ log: silentLogger(), signals: [], exit: (c) => failedStart.push(c), stop: async () => {} })('start-up failure', 1);
  assert.deepEqual(failedStart, [1]);
});

void test('a stop that throws exits 1', async () => {
  const exits: number[] = [];
  await handleShutdown({
    log: silentLogger(),
    signals: [],
    exit: (c) => exits.push(c),
    stop: async () => {
      throw new Error('close failed');
    },
  })('SIGTERM');
  assert.deepEqual(exits, [1]);
});

void test('a stop that outlasts forceExitAfterMs exits 1 at the deadline', async () => {
  const exits: number[] = [];
  let release: () => void = () => {};
  const shutdown = handleShutdown({
    log: silentLogger(),
    signals: [],
    forceExitAfterMs: 20,
    exit: (c) => exits.push(c),
    stop: () =>
      new Promise<void>((resolve) => {
        release = resolve;
      }),
  });
  const done = shutdown('SIGTERM');
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(exits, [1]);
  release();
  await done;
});
