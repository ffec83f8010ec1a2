// Per-key token buckets, in memory, per API replica. A bucket holds up to `burst`
// tokens (never more than `perMinute`; default perMinute) and refills continuously at
// perMinute/60 per second; a request takes one token. A small burst keeps a client from
// spending a whole minute's budget in one instant. With N replicas behind a Service the
// effective limit is about N x perMinute: limits here protect the replica and
// stop a runaway client, they are not billing.
import { systemClock, type Clock } from '../shared/clock.ts';

export interface RateDecision {
  allowed: boolean;
  /** Whole seconds until one token is back (for Retry-After); 0 when allowed. */
  retryAfterSeconds: number;
  remaining: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly capacity: number;
  private readonly refillPerMs: number;
  private readonly clock: Clock;
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxBuckets: number;
  /** The answer for a key without a bucket that is only looked at (check): one object, not one per request. */
  private readonly untouched: RateDecision;
  private static readonly UNLIMITED: RateDecision = Object.freeze({ allowed: true, retryAfterSeconds: 0, remaining: Number.POSITIVE_INFINITY });

  /**
   * perMinute <= 0 disables limiting; at most `maxBuckets` keys are remembered (default 100,000);
   * `burst` is the bucket's size, capped at perMinute (default perMinute; <= 0 also means perMinute).
   */
  constructor(perMinute: number, clock: Clock = systemClock, maxBuckets = 100_000, burst = perMinute) {
    this.capacity = burst > 0 ? Math.min(burst, perMinute) : perMinute;
    this.refillPerMs = perMinute / 60_000;
    this.clock = clock;
    this.maxBuckets = maxBuckets;
    this.untouched = Object.freeze({ allowed: true, retryAfterSeconds: 0, remaining: Math.floor(this.capacity) });
  }

  get enabled(): boolean {
    return this.capacity > 0;
  }

  /** Takes a token for `key` when one is there. */
  take(key: string): RateDecision {
    return this.decide(key, true);
  }

  /** Whether `key` has a token, without taking it (the failed-authentication limit looks before it counts). */
  check(key: string): RateDecision {
    return this.decide(key, false);
  }

  private decide(key: string, take: boolean): RateDecision {
    if (!this.enabled) return RateLimiter.UNLIMITED;
    let bucket = this.buckets.get(key);
    // A key never charged, only looked at (the failed-authentication limit on every authenticated request): no clock read.
    if (!bucket && !take) return this.untouched;
    const now = this.clock();
    if (!bucket) {
      if (this.buckets.size >= this.maxBuckets) this.sweep(now);
      bucket = { tokens: this.capacity, updatedMs: now };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.updatedMs) * this.refillPerMs);
      bucket.updatedMs = now;
    }
    if (bucket.tokens >= 1) {
      if (take) bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0, remaining: Math.floor(bucket.tokens) };
    }
    const waitMs = (1 - bucket.tokens) / this.refillPerMs;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)), remaining: 0 };
  }

  /** Forgets buckets that have refilled completely: they behave exactly like new ones. */
  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedMs) * this.refillPerMs >= this.capacity) this.buckets.delete(key);
    }
  }
}
