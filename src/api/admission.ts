// Admission by backlog: above the pipeline's largest backlog (API_MAX_BACKLOG, spec.api.maxBacklog)
// new jobs get 503 QUEUE_BACKLOG_FULL with Retry-After, so a flood turns into quick refusals instead of
// hours-old jobs; cache hits and reads are not jobs and still work.
//
// The backlog costs one GET every REFRESH_MS per replica, not a management call per request: the API
// holds Send and Listen on the queue, not Manage, so it asks the operator, which already polls the
// queue's runtime properties for scaling (GET API_BACKLOG_URL -> {"backlog": <messages>}). Between two
// readings the replica adds the jobs it queued itself since the reading. Only the leading operator replica
// has readings (a standby answers 404), so each attempt takes a new connection and a 404 is tried again
// (httpBacklogReader). No reading, or one older than STALE_MS (the operator unreachable, a queue it
// cannot read): the gate is open
// (fail open: admission protects the queue, it must not become an outage of its own), logged once and
// counted in ocr_api_admission_total{decision="unknown"}.
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { systemClock, type Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { ApiError } from './errors.ts';
import type { ApiMetrics } from './metrics.ts';

/** How often a replica reads the backlog, in ms. */
export const REFRESH_MS = 5_000;
/** A reading older than this is not used (the gate opens), in ms. */
export const STALE_MS = 30_000;
/** Time one reading may take, in ms. */
export const READ_TIMEOUT_MS = 2_000;

/** One backlog reading: messages waiting in the queue, and when this replica got the answer (epoch ms). */
export interface BacklogReading {
  backlog: number;
  at: number;
}

export type AdmissionDecision =
  { decision: 'admitted'; estimate: number } | { decision: 'refused'; estimate: number; retryAfterSeconds: number } | { decision: 'unknown' };

/**
 * Pure: admit a new job? `sentSince` is the jobs this replica queued since the reading. Refused when the
 * estimate (reading + sentSince) is at or above `maxBacklog`: the job would make the backlog larger than allowed.
 */
export function decide(reading: BacklogReading | undefined, sentSince: number, maxBacklog: number, now: number): AdmissionDecision {
  if (!reading || now - reading.at > STALE_MS) return { decision: 'unknown' };
  const estimate = reading.backlog + sentSince;
  if (estimate < maxBacklog) return { decision: 'admitted', estimate };
  return { decision: 'refused', estimate, retryAfterSeconds: Math.ceil(REFRESH_MS / 1000) };
}

/** Reads the backlog once; throws when the answer is not {"backlog": <non-negative integer>}. */
export type BacklogReader = (signal: AbortSignal) => Promise<number>;

/** Attempts per reading: a standby operator replica answers 404, and each attempt is a new connection (another replica, likely). */
export const READ_ATTEMPTS = 3;

/**
 * GET `url`, expecting {"backlog": <messages>} (what the operator's /v1/backlog serves). Each attempt opens a new
 * connection (no keep-alive): behind the operator's Service only the leader has readings, and a kept connection
 * would stick to one replica, perhaps the standby. A 404 (no reading there) is tried again, up to READ_ATTEMPTS.
 */
export function httpBacklogReader(url: string): BacklogReader {
  return async (signal) => {
    let last: Error | undefined;
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const answer = await getOnce(url, signal);
      if (answer.status === 200) return backlogOf(url, answer.body);
      last = new Error(`GET ${url} answered ${answer.status}`);
      if (answer.status !== 404) break;
    }
    throw last ?? new Error(`GET ${url} failed`);
  };
}

function backlogOf(url: string, body: string): number {
  let parsed: { backlog?: unknown };
  try {
    parsed = JSON.parse(body) as { backlog?: unknown };
  } catch {
    throw new Error(`GET ${url} answered something other than JSON`);
  }
  const { backlog } = parsed;
  if (typeof backlog !== 'number' || !Number.isSafeInteger(backlog) || backlog < 0) throw new Error(`GET ${url} answered without a backlog count`);
  return backlog;
}

/** One GET on a connection of its own; the body up to 64 KiB. */
function getOnce(url: string, signal: AbortSignal): Promise<{ status: number; body: string }> {
  const get = url.startsWith('https:') ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false, signal, headers: { accept: 'application/json' } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > 64 * 1024) request.destroy(new Error(`GET ${url} answered more than 64 KiB`));
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

export interface BacklogGateOptions {
  maxBacklog: number;
  read: BacklogReader;
  log: Logger;
  metrics: ApiMetrics;
  clock?: Clock;
  /** Between two readings, in ms; default REFRESH_MS. */
  refreshMs?: number;
}

export class BacklogGate {
  private readonly options: BacklogGateOptions;
  private readonly clock: Clock;
  private reading: BacklogReading | undefined;
  private sentSince = 0;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private inFlight: Promise<void> | undefined;

  constructor(options: BacklogGateOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  /** Reads now and then every refreshMs, until close(). */
  start(): void {
    if (this.timer) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? REFRESH_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Throws 503 QUEUE_BACKLOG_FULL (with Retry-After) when a new job would take the backlog past the limit. */
  admit(): void {
    const { maxBacklog, metrics } = this.options;
    const verdict = decide(this.reading, this.sentSince, maxBacklog, this.clock());
    metrics.admission.inc({ decision: verdict.decision });
    if (verdict.decision !== 'refused') return;
    throw new ApiError(
      'QUEUE_BACKLOG_FULL',
      `The queue holds about ${verdict.estimate} jobs, the most this pipeline accepts is ${maxBacklog}; retry in ${verdict.retryAfterSeconds} s.`,
      { backlog: verdict.estimate, maxBacklog, retryAfterSeconds: verdict.retryAfterSeconds },
      { 'retry-after': String(verdict.retryAfterSeconds) },
    );
  }

  /** This replica queued a job: counted until the next reading includes it. */
  sent(): void {
    this.sentSince++;
  }

  /** One reading; the first failure after a success (and the recovery) is logged, the gate stays open meanwhile. */
  refresh(): Promise<void> {
    this.inFlight ??= this.read().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async read(): Promise<void> {
    const { log, metrics } = this.options;
    const sentBefore = this.sentSince;
    try {
      const backlog = await this.options.read(AbortSignal.timeout(READ_TIMEOUT_MS));
      // Sends during the read may or may not be in it: count them once more rather than never.
      this.sentSince -= Math.min(sentBefore, this.sentSince);
      this.reading = { backlog, at: this.clock() };
      metrics.backlog.set(backlog);
      if (this.failing) log.info({ backlog }, 'Read the queue backlog again; admission by backlog is back');
      this.failing = false;
    } catch (err) {
      metrics.backlogReadErrors.inc();
      if (!this.failing) log.warn({ err }, `Failed to read the queue backlog; new jobs are admitted without it after ${STALE_MS / 1000} s`);
      this.failing = true;
    }
  }
}
