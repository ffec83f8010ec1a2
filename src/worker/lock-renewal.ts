// Our own lock renewal loop (the SDK's auto-renewal is switched off): it lets us count
// renewals for /metrics and stop renewing exactly when a job's time budget is spent, so
// a stuck job lets its lock lapse and the message goes back to the queue.
import { systemClock, type Clock } from '../shared/clock.ts';

/** Milliseconds until the next renewal: half the remaining lock, at most 10 s before expiry, at once when under 1 s. */
export function nextRenewalDelay(lockedUntil: Date, now: number): number {
  const remaining = lockedUntil.getTime() - now;
  if (remaining < 1_000) return 0;
  return remaining - Math.min(remaining / 2, 10_000);
}

export interface LockRenewal {
  stop(): void;
}

/**
 * Renews with `renew` until `stop()` or until `budgetMs` has passed. `renew` returns the
 * new locked-until time. A failed renewal (lock already lost) ends the loop: settling the
 * message will fail the same way, and the broker redelivers it.
 */
export function keepLocked(options: {
  lockedUntil: Date | undefined;
  budgetMs: number;
  renew: () => Promise<Date>;
  onRenewed?: () => void;
  onError?: (error: unknown) => void;
  /** Epoch ms, compared with the broker's locked-until times; default systemClock. */
  clock?: Clock;
}): LockRenewal {
  const clock = options.clock ?? systemClock;
  const deadline = clock() + options.budgetMs;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (lockedUntil: Date | undefined): void => {
    if (stopped || !lockedUntil) return;
    const now = clock();
    const delay = nextRenewalDelay(lockedUntil, now);
    if (now + delay > deadline) return;
    timer = setTimeout(() => {
      options.renew().then(
        (next) => {
          options.onRenewed?.();
          schedule(next);
        },
        (error: unknown) => {
          if (!stopped) options.onError?.(error);
        },
      );
    }, delay);
    timer.unref();
  };
  schedule(options.lockedUntil);
  return {
    stop(): void {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
