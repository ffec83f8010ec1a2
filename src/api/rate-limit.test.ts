import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from './rate-limit.ts';

void describe('per-key token buckets', () => {
  void it('allows a burst of the per-minute limit, then refuses with the wait until one token is back', () => {
    let now = 0;
    const limiter = new RateLimiter(60, () => now);
    for (let i = 0; i < 60; i++) assert.equal(limiter.take('a').allowed, true, `request ${i + 1}`);
    assert.deepEqual(limiter.take('a'), { allowed: false, retryAfterSeconds: 1, remaining: 0 });
    now += 1_000; // 60 per minute = one token per second
    assert.equal(limiter.take('a').allowed, true);
    assert.equal(limiter.take('a').allowed, false);
  });

  void it('keeps keys apart', () => {
    const limiter = new RateLimiter(1, () => 0);
    assert.equal(limiter.take('a').allowed, true);
    assert.equal(limiter.take('b').allowed, true);
    assert.equal(limiter.take('a').allowed, false);
  });

  void it('rounds Retry-After up to whole seconds for slow limits', () => {
    const limiter = new RateLimiter(2, () => 0);
    limiter.take('a');
    limiter.take('a');
    assert.equal(limiter.take('a').retryAfterSeconds, 30);
  });

  void it('does nothing when the limit is 0', () => {
    const limiter = new RateLimiter(0);
    for (let i = 0; i < 1000; i++) assert.equal(limiter.take('a').allowed, true);
  });

  void it('forgets full buckets when it holds too many, so memory stays bounded', () => {
    let now = 0;
    const limiter = new RateLimiter(60, () => now, 10);
    for (let i = 0; i < 10; i++) limiter.take(`k${i}`);
    now += 60_000;
    for (let i = 10; i < 30; i++) assert.equal(limiter.take(`k${i}`).allowed, true);
    assert.ok((limiter as unknown as { buckets: Map<string, unknown> }).buckets.size <= 20);
  });
});

void describe('a smooth bucket with a burst below the per-minute limit', () => {
  void it('admits only the burst at once, then one request per refill interval', () => {
    let now = 0;
    const limiter = new RateLimiter(600, () => now, 100_000, 20); // 10 per second, burst 20
    for (let i = 0; i < 20; i++) assert.equal(limiter.take('a').allowed, true, `request ${i + 1}`);
    assert.deepEqual(limiter.take('a'), { allowed: false, retryAfterSeconds: 1, remaining: 0 });
    now += 100; // one token per 100 ms
    assert.equal(limiter.take('a').allowed, true);
    assert.equal(limiter.take('a').allowed, false);
    now += 60_000; // a full minute refills only up to the burst, never a minute's budget
    let admitted = 0;
    while (limiter.take('a').allowed) admitted++;
    assert.equal(admitted, 20);
  });

  void it('never holds more than a minute of tokens, whatever the burst', () => {
    const limiter = new RateLimiter(2, () => 0, 100_000, 20);
    assert.equal(limiter.take('a').allowed, true);
    assert.equal(limiter.take('a').allowed, true);
    assert.equal(limiter.take('a').allowed, false);
  });

  void it('check of a key never charged answers the full bucket without reading the clock', () => {
    let reads = 0;
    const limiter = new RateLimiter(60, () => ++reads * 1_000, 100_000, 5);
    assert.deepEqual(limiter.check('a'), { allowed: true, retryAfterSeconds: 0, remaining: 5 });
    assert.deepEqual(limiter.check('b'), { allowed: true, retryAfterSeconds: 0, remaining: 5 });
    assert.equal(reads, 0);
    limiter.take('a');
    assert.equal(reads, 1);
    assert.deepEqual(limiter.check('a'), { allowed: true, retryAfterSeconds: 0, remaining: 5 }, 'refilled by the clock read');
    assert.equal(reads, 2);
  });

  void it('check looks without taking', () => {
    let now = 0;
    const limiter = new RateLimiter(60, () => now, 100_000, 2);
    assert.equal(limiter.check('a').allowed, true);
    limiter.take('a');
    limiter.take('a');
    assert.equal(limiter.check('a').allowed, false);
    assert.equal(limiter.check('a').retryAfterSeconds, 1);
    now += 1_000;
    assert.equal(limiter.check('a').allowed, true);
    assert.equal(limiter.check('a').allowed, true, 'checking twice takes nothing');
  });
});
