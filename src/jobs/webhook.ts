// Signed webhooks, shared by whoever finishes a job (today the API; the worker can
// call the same function). The signature is HMAC-SHA256 over `${timestamp}.${body}`
// sent as `x-ocr-signature: t=<unix seconds>,v1=<hex>`; a receiver recomputes it
// with the shared secret, compares in constant time and rejects old timestamps,
// which stops replays. Delivery is at least once: retried with capped exponential
// backoff on network errors and non-2xx answers, with the same `x-ocr-delivery` id
// on every attempt so a receiver can drop duplicates.
//
// Egress: the URL comes from a client, so every attempt resolves the host, has every
// address judged by src/jobs/egress.ts, and connects only to a vetted address (see send).
// A refused target is permanent: no attempt is made and none is retried.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { systemClock, type Clock } from '../shared/clock.ts';
import { EgressPolicy, type EgressVerdict, type RefusalReason } from './egress.ts';

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
  /** Which targets may be contacted; default https to public addresses only. */
  egress?: EgressPolicy;
  /** Resolves the URL's host name; default dns.promises.lookup with all: true (the pod's resolver and /etc/hosts). */
  resolve?: Resolver;
  /** Caps concurrent attempts across deliveries (one per process); default no cap. */
  limiter?: DeliveryLimiter;
  /** The x-ocr-delivery id; default a new UUID. The outbox passes `<jobId>.<status>`, the same on every attempt by any replica. */
  deliveryId?: string;
}

export interface ResolvedAddress {
  address: string;
  /** 4 or 6. */
  family: number;
}

export type Resolver = (host: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: Resolver = (host) => dnsLookup(host, { all: true });

/** Why a target was refused (src/jobs/egress.ts); `address` is the refused address when one decided. */
export interface Refusal {
  reason: RefusalReason;
  message: string;
  address?: string;
}

export interface DeliveryOutcome {
  delivered: boolean;
  attempts: number;
  deliveryId: string;
  lastStatus?: number;
  lastError?: string;
  /** Set when the egress policy refused the target: nothing was sent, and nothing is retried. */
  refused?: Refusal;
}

/** Thrown by DeliveryLimiter.run when its queue is full. */
export class DeliveryQueueFullError extends Error {
  override name = 'DeliveryQueueFullError';
}

/**
 * A cap on concurrent webhook attempts shared by every delivery of a process, so a burst
 * of finished jobs (or slow receivers) cannot open unbounded connections. Attempts over
 * the cap wait in a FIFO of at most `maxWaiting`; beyond that an attempt fails at once
 * (and is retried with backoff like a network error). Retry sleeps hold no slot.
 */
export class DeliveryLimiter {
  private active = 0;
  private readonly waiting: { wake: (slot: boolean) => void }[] = [];
  private readonly maxConcurrent: number;
  private readonly maxWaiting: number;

  /** maxConcurrent: attempts on the wire at once (>= 1); maxWaiting: attempts queued behind them (>= 0). */
  constructor(maxConcurrent: number, maxWaiting: number) {
    this.maxConcurrent = Math.max(1, maxConcurrent);
    this.maxWaiting = Math.max(0, maxWaiting);
  }

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `task` when a slot is free, in arrival order; gives up waiting when `signal` aborts. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(new Error('Stopped waiting for a webhook delivery slot'));
    if (this.active < this.maxConcurrent) {
      this.active++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(new DeliveryQueueFullError(`${this.maxWaiting} webhook attempts are already waiting for one of ${this.maxConcurrent} slots`));
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        wake: (slot: boolean) => {
          signal?.removeEventListener('abort', onAbort);
          if (slot) resolve();
          else reject(new Error('Stopped waiting for a webhook delivery slot'));
        },
      };
      const onAbort = (): void => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        waiter.wake(false);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Hands the slot to the oldest waiter, or frees it. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next.wake(true);
    else this.active--;
  }
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
  /** Per-attempt timeout in ms, from the moment the attempt has a slot. */
  timeoutMs: number;
  signal: AbortSignal | undefined;
  clock: Clock;
  egress: EgressPolicy;
  resolve: Resolver;
  limiter: DeliveryLimiter | undefined;
}

type Answer = { status: number; ok: boolean } | { error: string } | { refused: Refusal };

function refusal(verdict: Extract<EgressVerdict, { allowed: false }>): Refusal {
  return { reason: verdict.reason, message: verdict.message, ...(verdict.address ? { address: verdict.address } : {}) };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Resolves the target, vets every address, then POSTs to the first vetted address; a refused target is not contacted at all. */
async function postOnce(attempt: Attempt): Promise<Answer> {
  const before = attempt.egress.judge(attempt.url);
  if (!before.allowed) return { refused: refusal(before) };
  const url = new URL(attempt.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: readonly ResolvedAddress[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await attempt.resolve(host);
    } catch (error) {
      return { error: `Failed to resolve ${host}: ${messageOf(error)}` };
    }
  }
  // Every address must pass, not just the one we use: a name that resolves to a mix is refused.
  const verdict = attempt.egress.judge(
    url,
    addresses.map((a) => a.address),
  );
  if (!verdict.allowed) return { refused: refusal(verdict) };
  const [target] = addresses;
  if (!target) return { error: `${host} resolved to no address` };
  try {
    return await send(url, host, target, attempt);
  } catch (error) {
    return { error: messageOf(error) };
  }
}

/**
 * One signed POST to exactly `target`: the socket connects to the vetted address (a lookup
 * that can only answer it), while the Host header, TLS SNI and certificate check use the
 * URL's host name. Resolving again here could return another address (DNS rebinding).
 * No agent, so no pooled socket to an address vetted earlier is reused. Redirects are not
 * followed: node:http never does, and a 3xx is a non-2xx answer like any other.
 */
function send(url: URL, host: string, target: ResolvedAddress, attempt: Attempt): Promise<{ status: number; ok: boolean }> {
  const timestamp = Math.floor(attempt.clock() / 1000);
  const body = Buffer.from(attempt.body);
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const signals = [AbortSignal.timeout(attempt.timeoutMs), ...(attempt.signal ? [attempt.signal] : [])];
  const secure = url.protocol === 'https:';
  const request = (secure ? httpsRequest : httpRequest)({
    method: 'POST',
    hostname: host,
    port: url.port || undefined,
    path: `${url.pathname}${url.search}`,
    headers: {
      'content-type': 'application/json',
      'content-length': body.length,
      [SIGNATURE_HEADER]: signWebhook(attempt.secret, timestamp, attempt.body),
      [DELIVERY_HEADER]: attempt.deliveryId,
      [EVENT_HEADER]: attempt.event,
    },
    lookup: pinned,
    agent: false,
    signal: AbortSignal.any(signals),
    ...(secure && !isIP(host) ? { servername: host } : {}),
  });
  return new Promise((resolve, reject) => {
    // `on`, not `once`: an abort after the answer still emits an error, which must not go unhandled.
    request.on('error', reject);
    request.once('response', (response) => {
      const status = response.statusCode ?? 0;
      // The body is not read: only the status counts, and a receiver must not be able to stream into us.
      response.destroy();
      resolve({ status, ok: status >= 200 && status < 300 });
    });
    request.end(body);
  });
}

/** One attempt, inside the limiter when there is one. */
async function attemptOnce(attempt: Attempt): Promise<Answer> {
  if (!attempt.limiter) return await postOnce(attempt);
  try {
    return await attempt.limiter.run(() => postOnce(attempt), attempt.signal);
  } catch (error) {
    return { error: messageOf(error) };
  }
}

/** Notes an attempt's answer in the outcome; 'final' when there is nothing to retry (delivered, or the target refused). */
function record(outcome: DeliveryOutcome, answer: Answer): 'final' | 'retry' {
  if ('refused' in answer) {
    outcome.refused = answer.refused;
    outcome.lastError = answer.refused.message;
    return 'final';
  }
  if ('error' in answer) {
    outcome.lastError = answer.error;
    return 'retry';
  }
  outcome.lastStatus = answer.status;
  if (answer.ok) {
    outcome.delivered = true;
    return 'final';
  }
  outcome.lastError = `receiver answered ${answer.status}`;
  return 'retry';
}

/** POSTs a signed JSON event to `url`, retrying until a 2xx answer, a refused target, or the attempts run out. */
export async function deliverWebhook(url: string, secret: string, event: string, payload: unknown, options: DeliveryOptions = {}): Promise<DeliveryOutcome> {
  const attempts = options.attempts ?? 6;
  const baseDelayMs = options.baseDelayMs ?? 1_000;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const deliveryId = options.deliveryId ?? randomUUID();
  const request: Attempt = {
    url,
    secret,
    event,
    body: JSON.stringify(payload),
    deliveryId,
    timeoutMs: options.timeoutMs ?? 5_000,
    signal: options.signal,
    clock: options.clock ?? systemClock,
    egress: options.egress ?? new EgressPolicy(),
    resolve: options.resolve ?? systemResolver,
    limiter: options.limiter,
  };
  const outcome: DeliveryOutcome = { delivered: false, attempts: 0, deliveryId };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (options.signal?.aborted) break;
    outcome.attempts = attempt;
    if (record(outcome, await attemptOnce(request)) === 'final') return outcome;
    if (attempt < attempts) await sleep(retryDelayMs(attempt, baseDelayMs, maxDelayMs), options.signal);
  }
  return outcome;
}
