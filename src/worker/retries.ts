// Retries with backoff, the pure part: given the pipeline's retry policy, the attempt that just
// failed with a transient error and how many OCR timeouts the job has had, what happens next.
// The processor does the I/O (schedule the next message, record queued, complete the old one).
//
// Delay of the retry after failed attempt n (1-based): "full jitter" above the base delay,
//   ceiling(n) = min(maxDelay, baseDelay * 2^(n-1)), delay = uniform in [baseDelay, ceiling(n)],
// so retries never come sooner than the base delay and never later than the max delay, and
// workers that failed together (a storage outage) do not all come back in the same second.
import type { RetryState } from '../jobs/queue.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included (WORKER_RETRY_MAX_ATTEMPTS, default 5): attempt maxAttempts is the last. */
  maxAttempts: number;
  /** Shortest delay before a retry, in ms (WORKER_RETRY_BASE_DELAY_SECONDS, default 5 s). */
  baseDelayMs: number;
  /** Longest delay before a retry, in ms (WORKER_RETRY_MAX_DELAY_SECONDS, default 300 s). */
  maxDelayMs: number;
  /** OCR timeouts of one job after which it fails as permanent (WORKER_RETRY_MAX_TIMEOUTS, default 2). */
  maxTimeouts: number;
}

/** The range (ms) the delay after failed attempt `attempt` (1-based) is drawn from. */
export function backoffRangeMs(policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, attempt: number): { min: number; max: number } {
  const min = policy.baseDelayMs;
  // 2 ** 1000 is Infinity, and Math.min keeps the cap; a max below the base means "always the base".
  const max = Math.max(min, Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1)));
  return { min, max };
}

/** The delay (whole ms) before the retry of failed attempt `attempt`; `random` in [0, 1) (default Math.random). */
export function backoffDelayMs(policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, attempt: number, random: () => number = Math.random): number {
  const { min, max } = backoffRangeMs(policy, attempt);
  return Math.round(min + random() * (max - min));
}

export type RetryDecision =
  | { kind: 'retry'; next: RetryState; delayMs: number }
  /** The failed attempt was the last one the policy allows. */
  | { kind: 'exhausted'; reason: string }
  /** The job timed out maxTimeouts times: another attempt would most likely time out again. */
  | { kind: 'timedOut'; reason: string };

/** What follows a transient failure of attempt `state.attempt`; `timedOut` when it was an OCR timeout. */
export function decideRetry(policy: RetryPolicy, state: RetryState, timedOut: boolean, random: () => number = Math.random): RetryDecision {
  const timeouts = state.timeouts + (timedOut ? 1 : 0);
  if (timedOut && timeouts >= policy.maxTimeouts)
    return {
      kind: 'timedOut',
      reason: `OCR timed out on ${timeouts} attempts (WORKER_RETRY_MAX_TIMEOUTS is ${policy.maxTimeouts}): the image takes longer than the job budget`,
    };
  if (state.attempt >= policy.maxAttempts) return { kind: 'exhausted', reason: `gave up after ${state.attempt} attempts (WORKER_RETRY_MAX_ATTEMPTS)` };
  return { kind: 'retry', next: { attempt: state.attempt + 1, timeouts }, delayMs: backoffDelayMs(policy, state.attempt, random) };
}
