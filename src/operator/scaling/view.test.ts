import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QueueCounts } from './signal.ts';
import { deadLetterGrowth, fingerprint, pendingView, queueView, stampObservedAt, type QueueReading, type ViewOptions } from './view.ts';

const counts = (active: number): QueueCounts => ({ active, scheduled: 0, deadLettered: 0, total: active, transfer: 0, transferDeadLettered: 0 });
const reading = (r: Partial<QueueReading> = {}): QueueReading => ({
  lastSeenNonEmpty: false,
  deadLetterHistory: [],
  read: true,
  counts: counts(3),
  observedAtMs: 1_000,
  ...r,
});
const options = (o: Partial<ViewOptions> = {}): ViewOptions => ({ countInFlight: true, activationMessages: 0, minReplicas: 1, workersRunning: 1, ...o });

void test('a queue not read yet gives a pending view', () => {
  assert.deepEqual(queueView(undefined, options(), undefined), pendingView());
  assert.deepEqual(queueView(reading({ read: false }), options(), undefined), pendingView());
});

void test('a reading becomes the signal, its time and its problem', () => {
  const v = queueView(reading({ problem: { reason: 'NamespaceUnreachable', message: 'x' } }), options(), 2);
  assert.equal(v.pending, false);
  assert.deepEqual([v.signal?.backlog, v.signal?.inFlight, v.observedAt?.getTime(), v.problem?.reason], [3, 2, 1_000, 'NamespaceUnreachable']);
});

void test('a failed counter read wins over a status problem; a status problem shows on its own', () => {
  const statusProblem = { reason: 'QueueReceiveDisabled' as const, message: 's' };
  assert.equal(queueView(reading({ statusProblem }), options(), undefined).problem?.reason, 'QueueReceiveDisabled');
  assert.equal(queueView(reading({ statusProblem, problem: { reason: 'Throttled', message: 't' } }), options(), undefined).problem?.reason, 'Throttled');
});

const idle = { minReplicas: 0, workersRunning: 0 };
const activation: Array<{ name: string; options: Partial<ViewOptions>; backlog: number }> = [
  { name: 'a trickle at the activation threshold keeps an idle fleet at zero', options: { ...idle, activationMessages: 3 }, backlog: 0 },
  { name: 'a backlog above the activation threshold wakes an idle fleet', options: { ...idle, activationMessages: 2 }, backlog: 3 },
  { name: 'a running worker sees the real backlog', options: { minReplicas: 0, workersRunning: 1, activationMessages: 3 }, backlog: 3 },
  { name: 'activation does not apply with a minimum above zero', options: { minReplicas: 1, workersRunning: 0, activationMessages: 3 }, backlog: 3 },
];

for (const c of activation) {
  void test(c.name, () => {
    assert.equal(queueView(reading(), options(c.options), undefined).signal?.backlog, c.backlog);
  });
}

void test('the fingerprint follows the numbers and the problem, not the time', () => {
  const a = queueView(reading(), options(), undefined);
  assert.equal(fingerprint(a), fingerprint(queueView(reading({ observedAtMs: 9_000 }), options(), undefined)));
  assert.notEqual(fingerprint(a), fingerprint(queueView(reading({ counts: counts(4) }), options(), undefined)));
  assert.notEqual(fingerprint(a), fingerprint(queueView(reading({ problem: { reason: 'ReadFailed', message: 'x' } }), options(), undefined)));
});

void test('observedAt keeps its stamp while the numbers are unchanged and the stamp is younger than the report interval', () => {
  const at = (ms: number) => queueView(reading({ observedAtMs: ms }), options(), undefined);
  assert.equal(stampObservedAt(at(1_000), at(5_000), true, 60_000).observedAt?.getTime(), 1_000);
  assert.equal(stampObservedAt(at(1_000), at(5_000), false, 60_000).observedAt?.getTime(), 5_000, 'new numbers, new stamp');
  assert.equal(stampObservedAt(at(1_000), at(61_000), true, 60_000).observedAt?.getTime(), 61_000, 'an old stamp moves');
  assert.equal(stampObservedAt(undefined, at(5_000), true, 60_000).observedAt?.getTime(), 5_000);
});

void test('dead-letter growth is the rise over the window and ignores a purge', () => {
  const h = (...counts: number[]) => counts.map((count, i) => ({ atMs: i * 1000, count }));
  assert.equal(deadLetterGrowth(h(5)), 0);
  assert.equal(deadLetterGrowth(h(5, 8, 30)), 25);
  assert.equal(deadLetterGrowth(h(40, 0, 3)), 3);
});
