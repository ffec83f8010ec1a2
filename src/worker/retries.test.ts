// The backoff and the retry decision, as tables: attempt -> delay bounds, and state -> what happens next.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelayMs, backoffRangeMs, decideRetry, type RetryPolicy } from './retries.ts';

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 5_000, maxDelayMs: 300_000, maxTimeouts: 2 };

void describe('backoffRangeMs', () => {
  const cases: { name: string; attempt: number; policy?: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>; min: number; max: number }[] = [
    { name: 'the first retry waits between the base delay and the base delay', attempt: 1, min: 5_000, max: 5_000 },
    { name: 'the second retry may wait up to twice the base delay', attempt: 2, min: 5_000, max: 10_000 },
    { name: 'the fourth retry may wait up to eight times the base delay', attempt: 4, min: 5_000, max: 40_000 },
    { name: 'the seventh retry is capped at the max delay', attempt: 7, min: 5_000, max: 300_000 },
    { name: 'a very late attempt stays at the max delay instead of overflowing', attempt: 5_000, min: 5_000, max: 300_000 },
    {
      name: 'a max delay below the base delay means always the base delay',
      attempt: 3,
      policy: { baseDelayMs: 10_000, maxDelayMs: 1_000 },
      min: 10_000,
      max: 10_000,
    },
  ];
  for (const c of cases)
    void it(c.name, () => {
      assert.deepEqual(backoffRangeMs(c.policy ?? policy, c.attempt), { min: c.min, max: c.max });
    });
});

void describe('backoffDelayMs', () => {
  const cases: { name: string; attempt: number; random: number; delay: number }[] = [
    { name: 'the lowest draw gives the base delay', attempt: 3, random: 0, delay: 5_000 },
    { name: 'the middle draw gives the middle of the range', attempt: 3, random: 0.5, delay: 12_500 },
    { name: 'the highest draw gives almost the ceiling', attempt: 3, random: 0.999_999, delay: 20_000 },
    { name: 'the highest draw of a capped attempt stays under the max delay', attempt: 12, random: 0.999_999, delay: 300_000 },
  ];
  for (const c of cases)
    void it(c.name, () => {
      assert.equal(
        backoffDelayMs(policy, c.attempt, () => c.random),
        c.delay,
      );
    });

  void it('spreads real random draws over the whole range and never outside it', () => {
    const delays = Array.from({ length: 2_000 }, () => backoffDelayMs(policy, 4));
    assert.ok(Math.min(...delays) >= 5_000 && Math.max(...delays) <= 40_000, `${Math.min(...delays)}..${Math.max(...delays)}`);
    assert.ok(Math.min(...delays) < 10_000 && Math.max(...delays) > 35_000, 'the jitter covers the range');
  });
});

void describe('decideRetry', () => {
  const cases: {
    name: string;
    state: { attempt: number; timeouts: number };
    timedOut: boolean;
    kind: 'retry' | 'exhausted' | 'timedOut';
    next?: { attempt: number; timeouts: number };
  }[] = [
    { name: 'a first failure is retried as attempt 2', state: { attempt: 1, timeouts: 0 }, timedOut: false, kind: 'retry', next: { attempt: 2, timeouts: 0 } },
    {
      name: 'a failure of the second-to-last attempt is retried once more',
      state: { attempt: 4, timeouts: 0 },
      timedOut: false,
      kind: 'retry',
      next: { attempt: 5, timeouts: 0 },
    },
    { name: 'a failure of the last attempt fails the job', state: { attempt: 5, timeouts: 0 }, timedOut: false, kind: 'exhausted' },
    { name: 'a first timeout is retried and counted', state: { attempt: 1, timeouts: 0 }, timedOut: true, kind: 'retry', next: { attempt: 2, timeouts: 1 } },
    { name: 'a second timeout fails the job as permanent', state: { attempt: 2, timeouts: 1 }, timedOut: true, kind: 'timedOut' },
    {
      name: 'a non-timeout failure after a timeout keeps the timeout count',
      state: { attempt: 2, timeouts: 1 },
      timedOut: false,
      kind: 'retry',
      next: { attempt: 3, timeouts: 1 },
    },
  ];
  for (const c of cases)
    void it(c.name, () => {
      const decision = decideRetry(policy, c.state, c.timedOut, () => 0);
      assert.equal(decision.kind, c.kind);
      if (decision.kind === 'retry') {
        assert.deepEqual(decision.next, c.next);
        assert.equal(decision.delayMs, policy.baseDelayMs);
      } else {
        assert.match(decision.reason, decision.kind === 'timedOut' ? /timed out on 2 attempts/ : /gave up after 5 attempts/);
      }
    });

  void it('uses the delay range of the attempt that failed', () => {
    const decision = decideRetry(policy, { attempt: 3, timeouts: 0 }, false, () => 0.999_999);
    assert.equal(decision.kind === 'retry' ? decision.delayMs : -1, 20_000);
  });
});
