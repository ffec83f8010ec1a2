import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoSecond, isoTime } from './iso-time.ts';

const cases: { name: string; ms: number }[] = [
  { name: 'the epoch', ms: 0 },
  { name: 'a whole second', ms: Date.UTC(2026, 11, 2, 10, 0, 0) },
  { name: 'one millisecond past a second', ms: Date.UTC(2026, 11, 2, 10, 0, 0, 1) },
  { name: 'twelve milliseconds past a second', ms: Date.UTC(2026, 11, 2, 10, 0, 0, 12) },
  { name: 'the last millisecond of a year', ms: Date.UTC(2026, 11, 31, 23, 59, 59, 999) },
  { name: 'a time before the epoch', ms: Date.UTC(1969, 6, 20, 20, 17, 40, 250) },
  { name: 'a fraction of a millisecond, which a Date drops', ms: Date.UTC(2026, 0, 1, 0, 0, 0, 7) + 0.6 },
];

for (const { name, ms } of cases) {
  test(`isoTime writes ${name} as Date.toISOString does`, () => {
    assert.equal(isoTime(ms), new Date(ms).toISOString());
  });
  test(`isoSecond writes ${name} to the second, as a SAS takes it`, () => {
    assert.equal(isoSecond(ms), `${new Date(ms).toISOString().slice(0, 19)}Z`);
  });
}

test('isoTime stays right across more seconds than it remembers', () => {
  const start = Date.UTC(2026, 11, 2, 10, 0, 0);
  for (let i = 0; i < 50; i++) {
    const ms = start + i * 1_337;
    assert.equal(isoTime(ms), new Date(ms).toISOString());
    assert.equal(isoTime(start), new Date(start).toISOString());
  }
});

test('isoTime refuses an invalid time as Date.toISOString does', () => {
  assert.throws(() => isoTime(Number.NaN), RangeError);
});
