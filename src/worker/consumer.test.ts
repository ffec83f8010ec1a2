import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextStallPeekAt } from './consumer.ts';

const stallMs = 30_000;

const cases: { name: string; waitedMs: number | undefined; dueInMs: number }[] = [
  { name: 'an empty queue is peeked again only after a whole stall period', waitedMs: 0, dueInMs: 30_000 },
  { name: 'a failed peek is tried again after a whole stall period, not at every tick', waitedMs: undefined, dueInMs: 30_000 },
  { name: 'a head that has waited 5 s is looked at again when it would have waited 30 s', waitedMs: 5_000, dueInMs: 25_000 },
  { name: 'a head about to reach the stall time is looked at again one tick later, not at once', waitedMs: 29_000, dueInMs: 10_000 },
];

for (const c of cases) {
  test(c.name, () => {
    assert.equal(nextStallPeekAt(1_000_000, stallMs, c.waitedMs), 1_000_000 + c.dueInMs);
  });
}
