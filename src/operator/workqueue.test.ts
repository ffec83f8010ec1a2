import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, WorkQueue } from './workqueue.ts';

/** A gate a test opens by hand, to hold a key "running". */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await sleep(2);
  }
}

void test('adding a waiting key again coalesces into one run', async () => {
  const runs: string[] = [];
  const hold = gate();
  const q = new WorkQueue({
    concurrency: 1,
    process: async (k) => {
      runs.push(k);
      if (k === 'a/block') await hold.opened;
    },
  });
  q.add('a/block'); // occupies the only slot
  for (let i = 0; i < 5; i++) q.add('ns/p');
  assert.equal(q.depth, 1);
  hold.open();
  await until(() => runs.length === 2);
  await sleep(10);
  assert.deepEqual(runs, ['a/block', 'ns/p']);
  await q.shutdown();
});

void test('a key never runs twice at once; an add while it runs yields exactly one more run', async () => {
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  const hold = gate();
  const q = new WorkQueue({
    concurrency: 4,
    process: async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      runs++;
      if (runs === 1) await hold.opened;
      running--;
    },
  });
  q.add('ns/p');
  await until(() => runs === 1);
  q.add('ns/p');
  q.add('ns/p');
  await sleep(10);
  assert.equal(runs, 1, 'no second run while the first is in progress');
  hold.open();
  await until(() => runs === 2);
  await sleep(10);
  assert.equal(runs, 2);
  assert.equal(maxRunning, 1);
  await q.shutdown();
});

void test('different keys run in parallel up to the concurrency', async () => {
  let running = 0;
  let maxRunning = 0;
  const hold = gate();
  const q = new WorkQueue({
    concurrency: 2,
    process: async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await hold.opened;
      running--;
    },
  });
  for (const k of ['a/1', 'a/2', 'a/3']) q.add(k);
  await until(() => running === 2);
  assert.equal(q.depth, 1);
  hold.open();
  await until(() => running === 0 && q.depth === 0);
  assert.equal(maxRunning, 2);
  await q.shutdown();
});

void test('a failing key is retried with growing delays and forgotten after a success', async () => {
  const times: number[] = [];
  let retried = 0;
  const q = new WorkQueue({
    backoff: { baseMs: 10, maxMs: 1000, jitter: 0 },
    hooks: { retried: () => retried++ },
    process: async () => {
      times.push(performance.now());
      if (times.length < 4) throw new Error('transient');
    },
  });
  q.add('ns/p');
  await until(() => times.length === 4);
  await sleep(5);
  assert.equal(retried, 3);
  assert.equal(q.failures('ns/p'), 0, 'success resets the failure count');
  const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
  // 10, 20, 40 ms (timers fire no earlier than asked)
  assert.ok((gaps[0] as number) >= 9 && (gaps[1] as number) >= 19 && (gaps[2] as number) >= 39, `gaps ${gaps.join(', ')}`);
  await q.shutdown();
});

const backoffCases: { name: string; failures: number; random: number; expected: number }[] = [
  { name: 'the first retry waits the base delay', failures: 1, random: 0.5, expected: 500 },
  { name: 'each further failure doubles the delay', failures: 4, random: 0.5, expected: 4000 },
  { name: 'the delay never exceeds the cap, however many failures', failures: 60, random: 0.5, expected: 300_000 },
  { name: 'jitter never pushes the delay over the cap', failures: 60, random: 0.999, expected: 300_000 },
  { name: 'jitter can shorten a delay by up to 20%', failures: 1, random: 0, expected: 400 },
  { name: 'jitter can lengthen a delay below the cap by up to 20%', failures: 1, random: 1, expected: 600 },
];
for (const c of backoffCases) {
  void test(`backoff: ${c.name}`, () =>
    assert.equal(
      backoffDelay(c.failures, undefined, () => c.random),
      c.expected,
    ));
}

void test('after shutdown the queue takes no work and cancels pending retries', async () => {
  let runs = 0;
  const q = new WorkQueue({
    backoff: { baseMs: 20, maxMs: 20, jitter: 0 },
    process: async () => {
      runs++;
      throw new Error('x');
    },
  });
  q.add('ns/p');
  await until(() => runs === 1);
  await q.shutdown();
  q.add('ns/q');
  await sleep(40);
  assert.equal(runs, 1);
});
