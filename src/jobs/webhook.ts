// Signed webhooks, shared by whoever finishes a job (today the API; the worker can
// call the same function). The signature is HMAC-SHA256 over `${timestamp}.${body}`
// sent as `x-ocr-signature: t=<unix seconds>,v1=<hex>`; a receiver recomputes it
// with the shared secret, compares in constant time and rejects old timestamps,
// which stops replays. Delivery is at least once: retried with capped exponential
// backoff on network errors and non-2xx answers, with the same `x-ocr-delivery` id
// on every attempt so a receiver can drop duplicates.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { systemClock, type Clock } from '../shared/clock.ts';

export const SIGNATURE_HEADER = 'x-ocr-signature';
export const DELIVERY_HEADER = 'x-ocr-delivery';
export const EVENT_HEADER = 'x-ocr-event';

export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

/**
 * Verifies a signature header against the raw body. `toleranceSeconds` bounds how
 * old (or how far in the future) the timestamp may be; default 300 s.
 */
export function verifyWebhook(
  secret: string,
  header: string | undefined,
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = 300,
): boolean {
  if (!header) return false;
  const parts = new Map(
    header.split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!Number.isInteger(timestamp) || !given || !/^[a-f0-9]{64}$/.test(given)) return false;
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}

export interface DeliveryOptions {
  /** Attempts in total, including the first. Default 6. */
  attempts?: number;
  /** First retry delay in ms, doubled each time up to maxDelayMs. Default 1,000. */
  baseDelayMs?: number;
  /** Cap on the retry delay in ms. Default 30,000. */
  maxDelayMs?: number;
  /** Per-attempt timeout in ms. Default 5,000. */
  timeoutMs?: number;
  /** Stops retrying (for shutdown). */
  signal?: AbortSignal;
  /** Time for the signature's timestamp (epoch ms); default systemClock. */
  clock?: Clock;
}

export interface DeliveryOutcome {
  delivered: boolean;
  attempts: number;
  deliveryId: string;
  lastStatus?: number;
  lastError?: string;
}

/** Exponential backoff with full jitter, capped. attempt starts at 1 for the first retry. */
export function retryDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

interface Attempt {
  url: string;
  secret: string;
  event: string;
  body: string;
  deliveryId: string;
  /** Per-attempt timeout in ms. */
  timeoutMs: number;
  signal: AbortSignal | undefined;
  clock: Clock;
}

/** One signed POST: the receiver's status, or the network error's message. The timestamp is taken per attempt, so a retry is not stale. */
async function postOnce(attempt: Attempt): Promise<{ status: number; ok: boolean } | { error: string }> {
  try {
    const timestamp = Math.floor(attempt.clock() / 1000);
    const signals = [AbortSignal.timeout(attempt.timeoutMs), ...(attempt.signal ? [attempt.signal] : [])];
    const response = await fetch(attempt.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signWebhook(attempt.secret, timestamp, attempt.body),
        [DELIVERY_HEADER]: attempt.deliveryId,
        [EVENT_HEADER]: attempt.event,
      },
      body: attempt.body,
      redirect: 'manual',
      signal: AbortSignal.any(signals),
    });
    await response.body?.cancel();
    return { status: response.status, ok: response.ok };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** POSTs a signed JSON event to `url`, retrying until a 2xx answer or the attempts run out. */
export async function deliverWebhook(url: string, secret: string, event: string, payload: unknown, options: DeliveryOptions = {}): Promise<DeliveryOutcome> {
  const attempts = options.attempts ?? 6;
  const baseDelayMs = options.baseDelayMs ?? 1_000;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const deliveryId = randomUUID();
  const request: Attempt = {
    url,
    secret,
    event,
    body: JSON.stringify(payload),
    deliveryId,
    timeoutMs: options.timeoutMs ?? 5_000,
    signal: options.signal,
    clock: options.clock ?? systemClock,
  };
  const outcome: DeliveryOutcome = { delivered: false, attempts: 0, deliveryId };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (options.signal?.aborted) break;
    outcome.attempts = attempt;
    const answer = await postOnce(request);
    if ('error' in answer) {
      outcome.lastError = answer.error;
    } else {
      outcome.lastStatus = answer.status;
      if (answer.ok) {
        outcome.delivered = true;
        return outcome;
      }
      outcome.lastError = `receiver answered ${answer.status}`;
    }
    if (attempt < attempts) await sleep(retryDelayMs(attempt, baseDelayMs, maxDelayMs), options.signal);
  }
  return outcome;
}
