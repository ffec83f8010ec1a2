// The namespace poller's publication (issue 14, item 7): a read publishes once to the pipelines
// of the queues it read; a new subscription never makes every other pipeline be read or
// reported again. In-memory QueueReader (our interface); the SDK path is in test/integration/scaling/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../shared/logger.ts';
import type { QueueReader } from './client.ts';
import { NamespacePoller, type PipelineSubscription } from './namespace-poller.ts';
import { DEFAULT_POLL_TIMING } from './schedule.ts';
import type { QueueCounts } from './signal.ts';

const counts = (active: number): QueueCounts => ({ active, scheduled: 0, deadLettered: 0, transfer: 0, transferDeadLettered: 0, total: active });
const credential = { kind: 'connectionString' as const, connectionString: 'Endpoint=sb://ns1.servicebus.windows.net/;SharedAccessKeyName=m;SharedAccessKey=k' };

const sub = (pipeline: string, queueName: string): PipelineSubscription => ({
  key: `team/${pipeline}`,
  namespace: 'team',
  pipeline,
  queueName,
  credential,
  countInFlight: true,
  activationMessages: 0,
  minReplicas: 1,
  workersRunning: 1,
});

/** A poller whose regular rounds are far away (10 min), counting reads per queue and reports per pipeline. */
function poller(idleMs = 600_000, busyMs = idleMs) {
  const reads = new Map<string, number>();
  const reports = new Map<string, number>();
  const reader: QueueReader = {
    counts: async (name) => {
      reads.set(name, (reads.get(name) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 1));
      return counts(0);
    },
    status: async () => 'Active',
  };
  const p = new NamespacePoller({
    credential,
    reader,
    timing: { ...DEFAULT_POLL_TIMING, idleMs, busyMs, jitter: 0 },
    historyMs: 300_000,
    clock: Date.now,
    random: () => 0.5,
    inFlight: undefined,
    log: silentLogger(),
    onView: (s) => reports.set(s.key, (reports.get(s.key) ?? 0) + 1),
    onReadError: () => {},
  });
  return { p, reads, reports };
}

const settle = () => new Promise((r) => setTimeout(r, 30));
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

const RAMPS = [
  { name: 'a ramp of 40 pipelines on 40 queues reads each queue once and reports each pipeline once', pipelines: 40, queues: 40, reads: 40, reports: 40 },
  { name: 'a ramp of 40 pipelines on one shared queue reads it once and reports each pipeline once', pipelines: 40, queues: 1, reads: 1, reports: 40 },
];

for (const c of RAMPS) {
  void test(c.name, async (t) => {
    const { p, reads, reports } = poller();
    t.after(() => p.close());
    // One subscription at a time, each after the previous read finished: the reconcile's pace during a ramp.
    for (let i = 0; i < c.pipelines; i++) {
      p.subscribe(sub(`p${i}`, `q${i % c.queues}`));
      await settle();
    }
    assert.equal(total(reads), c.reads);
    assert.equal(total(reports), c.reports);
    assert.ok(
      [...reports.values()].every((n) => n === 1),
      'no pipeline is reported twice',
    );
  });
}

void test('subscriptions that arrive during a read are read right after it, not left to the next round', async (t) => {
  const { p, reads, reports } = poller();
  t.after(() => p.close());
  p.subscribe(sub('a', 'qa'));
  // No settle: qb arrives while qa's read runs.
  await new Promise((r) => setImmediate(r));
  p.subscribe(sub('b', 'qb'));
  await settle();
  assert.deepEqual([...reads.keys()].sort(), ['qa', 'qb']);
  assert.equal(reports.get('team/b'), 1);
});

void test('a regular round reads every queue once and reports every pipeline once', async (t) => {
  const { p, reads, reports } = poller(50);
  t.after(() => p.close());
  for (let i = 0; i < 5; i++) p.subscribe(sub(`p${i}`, `q${i}`));
  await settle();
  assert.equal(total(reads), 5);
  await new Promise((r) => setTimeout(r, 70));
  p.close();
  assert.equal(total(reads), 10);
  assert.equal(total(reports), 10);
});

void test('wake runs a regular round at once instead of at its timer, once for several wakes', async (t) => {
  const { p, reads } = poller(600_000, 10);
  t.after(() => p.close());
  p.subscribe(sub('a', 'qa'));
  await settle();
  p.wake();
  p.wake();
  await settle();
  assert.equal(reads.get('qa'), 2, 'the first read, then one round for two wakes');
});

void test('a wake within busyMs of the last round is ignored: the API signal never adds reads beyond the busy pace', async (t) => {
  const { p, reads } = poller(600_000, 60_000);
  t.after(() => p.close());
  p.subscribe(sub('a', 'qa'));
  await settle();
  p.wake(); // the first round: no round yet, so it runs
  await settle();
  p.wake(); // within busyMs (60 s) of that round
  await settle();
  assert.equal(reads.get('qa'), 2);
});

void test('a wake during a failure backoff is ignored: the backoff stands', async (t) => {
  const reads: string[] = [];
  const p = new NamespacePoller({
    credential,
    reader: {
      counts: async (name) => {
        reads.push(name);
        throw Object.assign(new Error('busy'), { code: 'ServerBusyError' });
      },
      status: async () => 'Active',
    },
    timing: { ...DEFAULT_POLL_TIMING, busyMs: 1, jitter: 0 },
    historyMs: 300_000,
    clock: Date.now,
    random: () => 0.5,
    inFlight: undefined,
    log: silentLogger(),
    onView: () => {},
    onReadError: () => {},
  });
  t.after(() => p.close());
  p.subscribe(sub('a', 'qa'));
  await settle();
  p.wake();
  await settle();
  assert.equal(reads.length, 1);
});
