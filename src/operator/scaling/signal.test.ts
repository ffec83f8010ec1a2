import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveMessages, queueSignal, type QueueCounts } from './signal.ts';

/** Counters with small setters: only what a case is about differs from an empty queue. */
const counts = (c: Partial<QueueCounts> = {}): QueueCounts => {
  const base = { active: 0, scheduled: 0, deadLettered: 0, transfer: 0, transferDeadLettered: 0, ...c };
  return { total: base.active + base.scheduled + base.deadLettered + base.transfer + base.transferDeadLettered, ...base, ...c };
};

void test('live messages leave out dead letters, scheduled and transfer messages', () => {
  assert.equal(liveMessages(counts({ active: 7, scheduled: 3, deadLettered: 2, transfer: 1, total: 13 })), 7);
});

void test('live messages include locked messages the broker keeps out of the active count', () => {
  // 10 stored, 6 active, nothing else: 4 are locked by receivers
  assert.equal(liveMessages(counts({ active: 6, total: 10 })), 10);
});

void test('live messages never fall below the active count, even with an inconsistent total', () => {
  assert.equal(liveMessages(counts({ active: 5, total: 2 })), 5);
});

const cases: Array<{
  name: string;
  counts: QueueCounts;
  workers: number | undefined;
  countInFlight: boolean;
  backlog: number;
  inFlight: number;
  waiting: number;
}> = [
  { name: 'an empty queue has no backlog', counts: counts(), workers: 0, countInFlight: true, backlog: 0, inFlight: 0, waiting: 0 },
  {
    name: "a broker that counts locked messages as active is not double counted with the workers' gauge",
    counts: counts({ active: 10 }),
    workers: 4,
    countInFlight: true,
    backlog: 10,
    inFlight: 4,
    waiting: 6,
  },
  {
    name: 'a broker that leaves locked messages out of active still counts them, through the total',
    counts: counts({ active: 6, total: 10 }),
    workers: 4,
    countInFlight: true,
    backlog: 10,
    inFlight: 4,
    waiting: 6,
  },
  {
    name: 'prefetched messages locked but not yet processed count as in flight',
    counts: counts({ active: 0, total: 10 }),
    workers: 5,
    countInFlight: true,
    backlog: 10,
    inFlight: 10,
    waiting: 0,
  },
  {
    name: 'workers that hold more than the broker shows (a read between two settles) are not undercounted',
    counts: counts({ active: 2 }),
    workers: 5,
    countInFlight: true,
    backlog: 5,
    inFlight: 5,
    waiting: 0,
  },
  {
    name: 'without Prometheus the broker counters stand alone',
    counts: counts({ active: 8, scheduled: 4 }),
    workers: undefined,
    countInFlight: true,
    backlog: 8,
    inFlight: 0,
    waiting: 8,
  },
  {
    name: "countInFlight false scales on waiting messages only (KEDA's behaviour)",
    counts: counts({ active: 10 }),
    workers: 4,
    countInFlight: false,
    backlog: 6,
    inFlight: 4,
    waiting: 6,
  },
  {
    name: 'countInFlight false with locked messages outside active scales on active',
    counts: counts({ active: 6, total: 10 }),
    workers: 4,
    countInFlight: false,
    backlog: 6,
    inFlight: 4,
    waiting: 6,
  },
  {
    name: 'dead letters and scheduled messages never drive the backlog',
    counts: counts({ active: 0, scheduled: 50, deadLettered: 90 }),
    workers: 0,
    countInFlight: true,
    backlog: 0,
    inFlight: 0,
    waiting: 0,
  },
];

for (const c of cases) {
  void test(c.name, () => {
    const s = queueSignal(c.counts, c.workers, c.countInFlight);
    assert.deepEqual({ backlog: s.backlog, inFlight: s.inFlight, waiting: s.waiting }, { backlog: c.backlog, inFlight: c.inFlight, waiting: c.waiting });
  });
}

void test('negative, fractional and missing counters are read as plain non-negative integers', () => {
  const s = queueSignal({ active: 3.7, scheduled: -2, deadLettered: Number.NaN, total: 3.7, transfer: 0, transferDeadLettered: 0 }, -1, true);
  assert.deepEqual(s, { activeMessages: 3, scheduled: 0, deadLettered: 0, inFlight: 0, waiting: 3, backlog: 3 });
});
