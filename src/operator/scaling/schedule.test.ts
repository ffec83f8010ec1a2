import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseDelay, DEFAULT_POLL_TIMING, nextDelay, parsePollTiming, withJitter, type PollOutcome } from './schedule.ts';

const t = DEFAULT_POLL_TIMING;

const cases: Array<{ name: string; outcome: PollOutcome; ms: number }> = [
  { name: 'an idle namespace is read about once a minute', outcome: { ok: true, busy: false }, ms: 60_000 },
  { name: 'a busy namespace is read every 5 seconds', outcome: { ok: true, busy: true }, ms: 5_000 },
  { name: 'the first failure retries after the base delay', outcome: { ok: false, failures: 1, throttled: false }, ms: 5_000 },
  { name: 'the third failure in a row waits four base delays', outcome: { ok: false, failures: 3, throttled: false }, ms: 20_000 },
  { name: 'throttling starts from a longer delay', outcome: { ok: false, failures: 1, throttled: true }, ms: 20_000 },
  { name: 'throttling keeps doubling', outcome: { ok: false, failures: 3, throttled: true }, ms: 80_000 },
  { name: 'backoff is capped at five minutes', outcome: { ok: false, failures: 12, throttled: false }, ms: 300_000 },
  { name: 'a huge failure count does not overflow the cap', outcome: { ok: false, failures: 10_000, throttled: true }, ms: 300_000 },
];

for (const c of cases) {
  void test(c.name, () => assert.equal(baseDelay(t, c.outcome), c.ms));
}

void test('jitter spreads a delay symmetrically within the configured fraction', () => {
  assert.equal(withJitter(10_000, 0.2, 0), 8_000);
  assert.equal(withJitter(10_000, 0.2, 0.5), 10_000);
  assert.equal(withJitter(10_000, 0.2, 0.999999), 12_000);
});

void test('jitter never yields a delay below one millisecond', () => {
  assert.equal(withJitter(0, 0.5, 0), 1);
});

void test('the next delay is the base delay with jitter applied', () => {
  const delays = [0, 0.25, 0.75].map((r) => nextDelay(t, { ok: true, busy: true }, r));
  assert.deepEqual(delays, [4_000, 4_500, 5_500]);
});

void test('poll timing overrides are read from key=value pairs', () => {
  const parsed = parsePollTiming('idleMs=2000, busyMs=500,jitter=0');
  assert.deepEqual(
    { idle: parsed.idleMs, busy: parsed.busyMs, jitter: parsed.jitter, max: parsed.backoffMaxMs },
    { idle: 2000, busy: 500, jitter: 0, max: 300_000 },
  );
});

for (const bad of ['idle=5', 'idleMs', 'idleMs=-1', 'busyMs=abc', 'jitter=1.5']) {
  void test(`the poll setting "${bad}" is rejected with a message naming the valid keys`, () => {
    assert.throws(() => parsePollTiming(bad), /invalid queue poll setting/);
  });
}

const ACTIVITY = [
  { text: 'activityMs=0', want: 0, name: 'activityMs=0 turns the API activity probe off' },
  { text: 'activityMs=2500', want: 2500, name: 'activityMs=2500 queries Prometheus every 2.5 s' },
  { text: '', want: 1000, name: 'activityMs defaults to one query a second' },
];
for (const c of ACTIVITY) void test(c.name, () => assert.equal(parsePollTiming(c.text).activityMs, c.want));

void test('activityMs between 0 and 100 is refused: it would query Prometheus many times a second', () => {
  assert.throws(() => parsePollTiming('activityMs=50'), /activityMs is 0 \(off\) or at least 100/);
  assert.throws(() => parsePollTiming('idleMs=0'), /idleMs must be a number >= 1/);
});
