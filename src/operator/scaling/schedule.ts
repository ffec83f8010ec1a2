// When the poller reads a Service Bus namespace next: pure functions of the last outcome,
// so the pace and the backoff are table-tested without timers.
//
// Microsoft calls the runtime counters expensive and advises reading them about once a
// minute; KEDA users hit namespace-wide throttling when many scalers poll fast (keda#5227)
// and asked for a slower pace once the HPA is in control (keda#7801). So: slow while every
// queue on the namespace is empty, fast only while one has work, and exponential backoff
// with jitter on failures, longer when the service says it is busy.

export interface PollTiming {
  /** Interval while every queue on the namespace is empty (ms). Default 60 000. */
  idleMs: number;
  /** Interval while a queue has messages, or just had (ms). Default 5 000. */
  busyMs: number;
  /** First retry delay after a failure (ms); doubles per consecutive failure. Default 5 000. */
  backoffBaseMs: number;
  /** Longest delay between attempts while failing (ms). Default 300 000. */
  backoffMaxMs: number;
  /** Throttling (ServerBusy, 429, 503) starts backing off from this many base delays. Default 4. */
  throttledFactor: number;
  /** Fraction of each delay drawn at random, so pollers of many operators do not align. Default 0.2. */
  jitter: number;
  /** How often the queue's status (Active, ReceiveDisabled, ...) is re-read (ms). Default 300 000. */
  statusRefreshMs: number;
  /**
   * How often the operator asks Prometheus whether the API created jobs, to wake an idle
   * poller at once (activity.ts; needs --prometheus-url) (ms). 0 turns it off. Default 1 000.
   */
  activityMs: number;
}

export const DEFAULT_POLL_TIMING: PollTiming = {
  idleMs: 60_000,
  busyMs: 5_000,
  backoffBaseMs: 5_000,
  backoffMaxMs: 300_000,
  throttledFactor: 4,
  jitter: 0.2,
  statusRefreshMs: 300_000,
  activityMs: 1_000,
};

export type PollOutcome =
  /** busy: some queue has work now, or had at the previous read (so the drain to 0 is seen fast). */
  | { ok: true; busy: boolean }
  /** failures: consecutive failed reads, this one included (>= 1). */
  | { ok: false; failures: number; throttled: boolean };

/** The delay before the next read, before jitter. */
export function baseDelay(t: PollTiming, outcome: PollOutcome): number {
  if (outcome.ok) return outcome.busy ? t.busyMs : t.idleMs;
  const start = outcome.throttled ? t.backoffBaseMs * t.throttledFactor : t.backoffBaseMs;
  const exponent = Math.min(Math.max(outcome.failures, 1) - 1, 30);
  return Math.min(t.backoffMaxMs, start * 2 ** exponent);
}

/**
 * Spreads a delay over [delay * (1 - jitter), delay * (1 + jitter)), never below 1 ms.
 * @param random a number in [0, 1), Math.random in production
 */
export function withJitter(delayMs: number, jitter: number, random: number): number {
  const spread = delayMs * jitter * (2 * random - 1);
  return Math.max(1, Math.round(delayMs + spread));
}

export function nextDelay(t: PollTiming, outcome: PollOutcome, random: number): number {
  return withJitter(baseDelay(t, outcome), t.jitter, random);
}

/** Why a value is refused for a timing key, or undefined when it is fine. */
function settingProblem(key: string, value: number): string | undefined {
  if (!Number.isFinite(value) || value < 0) return `${key} must be a number >= 0`;
  if (key === 'jitter') return value >= 1 ? 'jitter is a fraction from 0 to below 1' : undefined;
  if (key === 'activityMs') return value !== 0 && value < 100 ? 'activityMs is 0 (off) or at least 100' : undefined;
  return value < 1 ? `${key} must be a number >= 1` : undefined;
}

/** Reads timing overrides such as `idleMs=2000,busyMs=500` (operator flag --queue-poll). */
export function parsePollTiming(text: string | undefined, base: PollTiming = DEFAULT_POLL_TIMING): PollTiming {
  const out = { ...base };
  if (!text) return out;
  for (const pair of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [key, raw] = pair.split('=');
    if (!key || raw === undefined || !(key in base)) {
      throw new Error(`invalid queue poll setting "${pair}": use key=value with keys ${Object.keys(base).join(', ')}`);
    }
    const value = Number(raw);
    const problem = settingProblem(key, value);
    if (problem) throw new Error(`invalid queue poll setting "${pair}": ${problem}`);
    out[key as keyof PollTiming] = value;
  }
  return out;
}
