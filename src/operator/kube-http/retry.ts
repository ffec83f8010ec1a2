// When a request to the API server is tried again, and how long to wait first: 429 (API
// Priority and Fairness) and the server's transient 5xx, with the server's Retry-After or a
// capped, jittered exponential backoff. Pure functions; client.ts runs the attempts.

export interface RequestPolicy {
  /** Per attempt, in ms: a hung call fails instead of holding a queue worker (undici's own default is 300 s). Default 30 000. */
  timeoutMs: number;
  /** Attempts of one call, the first included (default 5): 429 and 5xx are retried, anything else is returned at once. */
  maxAttempts: number;
  /** First backoff in ms without Retry-After (default 250); doubles per attempt. */
  baseDelayMs: number;
  /** Largest wait between attempts in ms, Retry-After included (default 10 000). */
  maxDelayMs: number;
}

export const DEFAULT_REQUEST_POLICY: RequestPolicy = { timeoutMs: 30_000, maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 10_000 };

/** Statuses worth another attempt: API Priority and Fairness (429) and the server's transient errors. */
export const retryableStatus = (status: number): boolean => status === 429 || status === 500 || status === 502 || status === 503 || status === 504;

/**
 * Retry-After as ms from now: delta-seconds ("3", "0") or an HTTP-date; undefined when absent
 * or unreadable (then the backoff decides). A date in the past reads 0.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/^[A-Za-z]{3}, /.test(v)) return undefined; // an IMF-fixdate starts with the day name
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Wait before attempt `attempt + 1` (attempt 1 = the first failed one), never above maxDelayMs:
 * the server's Retry-After when it sent one, else baseDelayMs * 2^(attempt-1) with full jitter
 * (a random point in the upper half), so many callers refused at once do not retry in step.
 */
export function retryDelay(attempt: number, retryAfterMs: number | undefined, policy: RequestPolicy, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(policy.maxDelayMs, retryAfterMs);
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}

/**
 * The resource of an API path, with its subresource: /apis/apps/v1/namespaces/ns/deployments/d -> "deployments",
 * .../ocrpipelines/p/status -> "ocrpipelines/status", /api/v1/namespaces/ns -> "namespaces". A small set of values, for a metric label.
 */
export function resourceOf(url: string): string {
  const parts = new URL(url, 'http://x').pathname.split('/').filter(Boolean);
  const start = parts[0] === 'api' ? 2 : 3; // /api/v1/... or /apis/<group>/<version>/...
  const rest = parts.slice(start);
  const scoped = rest[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
  return scoped.length > 2 ? `${scoped[0]}/${scoped[2]}` : (scoped[0] ?? '');
}
