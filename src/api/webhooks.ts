// Who fires a job's webhook: the API replica that accepted the job. The worker
// finishes jobs, so this replica watches the jobs it created with a webhook (one
// timer, re-reading each record with backoff) and, when a job reaches succeeded or
// failed, delivers a signed event with src/jobs/webhook.ts. Jobs that finish inside
// the API (cache hits, enqueue failures) are delivered at once.
//
// The watch list is in memory: a replica that dies with jobs still running drops
// their webhooks (clients can still poll). docs/api.md says so, and says how to move
// delivery to the worker (it already receives webhookUrl in the queue message).
//
// Every attempt goes through the egress policy (resolved, every address vetted, connected
// to a vetted address) and through one limiter per replica: at most maxConcurrent requests
// on the wire, MAX_WAITING_ATTEMPTS more waiting in FIFO order.
import { DeliveryLimiter, EgressPolicy, deliverWebhook, type EgressSettings, type JobRecord, type OcrResult, type Resolver } from '../jobs/index.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { ImageStore, RecordStore } from './deps.ts';
import type { ApiMetrics } from './metrics.ts';

export interface WebhookSettings {
  secret: string;
  /** First re-read of a watched job, in ms; later reads back off by 1.5x up to 5 s. */
  pollIntervalMs: number;
  /** Delivery attempts per event. */
  attempts: number;
  /** First retry delay, in ms; doubled per attempt up to 30 s. */
  baseDelayMs: number;
  /** Stop watching a job after this long, in ms (default 6 h). */
  maxWatchMs?: number;
  /** Which targets may be contacted (https to public addresses unless widened). */
  egress: EgressSettings;
  /** Webhook requests on the wire at once (default 16 in the config). */
  maxConcurrent: number;
}

interface Watch {
  pipeline: string;
  jobId: string;
  url: string;
  since: number;
  nextCheck: number;
  intervalMs: number;
}

export interface WebhookEvent {
  event: 'job.succeeded' | 'job.failed';
  jobId: string;
  status: 'succeeded' | 'failed';
  finishedAt: string | undefined;
  cached: boolean;
  result?: OcrResult;
  error?: { code: string; message: string };
}

export function webhookEvent(record: JobRecord, result: OcrResult | undefined): WebhookEvent {
  const succeeded = record.status === 'succeeded';
  return {
    event: succeeded ? 'job.succeeded' : 'job.failed',
    jobId: record.id,
    status: succeeded ? 'succeeded' : 'failed',
    finishedAt: record.finishedAt,
    cached: record.resultOf !== undefined,
    ...(succeeded && result ? { result: { ...result, jobId: record.id } } : {}),
    ...(!succeeded ? { error: { code: record.errorCode ?? 'OCR_FAILED', message: record.errorMessage ?? 'the job failed' } } : {}),
  };
}

const MAX_CHECK_INTERVAL_MS = 5_000;
const CHECKS_PER_TICK = 50;
/** Attempts that may wait for a slot; beyond it an attempt fails at once and is retried with backoff. */
const MAX_WAITING_ATTEMPTS = 1_000;

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

export interface WebhookNotifierDeps {
  settings: WebhookSettings;
  records: RecordStore;
  blobs: ImageStore;
  metrics: ApiMetrics;
  log: Logger;
  /** When watches start and are due; default the system clock. */
  clock?: Clock;
  /** Resolves webhook hosts; default the system resolver (tests make a name point at loopback). */
  resolve?: Resolver;
}

export class WebhookNotifier {
  private readonly settings: WebhookSettings;
  private readonly records: RecordStore;
  private readonly blobs: ImageStore;
  private readonly metrics: ApiMetrics;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly egress: EgressPolicy;
  private readonly limiter: DeliveryLimiter;
  private readonly resolve: Resolver | undefined;
  private readonly watches = new Map<string, Watch>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(deps: WebhookNotifierDeps) {
    this.settings = deps.settings;
    this.records = deps.records;
    this.blobs = deps.blobs;
    this.metrics = deps.metrics;
    this.log = deps.log;
    this.clock = deps.clock ?? systemClock;
    this.egress = new EgressPolicy(deps.settings.egress);
    this.limiter = new DeliveryLimiter(deps.settings.maxConcurrent, MAX_WAITING_ATTEMPTS);
    this.resolve = deps.resolve;
  }

  get watching(): number {
    return this.watches.size;
  }

  watch(pipeline: string, jobId: string, url: string): void {
    if (this.abort.signal.aborted) return;
    const now = this.clock();
    this.watches.set(jobId, { pipeline, jobId, url, since: now, nextCheck: now + this.settings.pollIntervalMs, intervalMs: this.settings.pollIntervalMs });
    this.timer ??= setInterval(() => this.track(this.tick()), this.settings.pollIntervalMs);
    this.timer.unref();
  }

  /** Delivers the event of a finished job now (in the background). */
  notify(record: JobRecord, result?: OcrResult): void {
    if (!record.webhookUrl || this.abort.signal.aborted) return;
    this.track(this.deliver(record.webhookUrl, record, result));
  }

  private track(promise: Promise<unknown>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = this.clock();
      const due = [...this.watches.values()].filter((w) => w.nextCheck <= now).slice(0, CHECKS_PER_TICK);
      await Promise.all(due.map((watch) => this.check(watch, now)));
      if (this.watches.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    } finally {
      this.ticking = false;
    }
  }

  private async check(watch: Watch, now: number): Promise<void> {
    try {
      const record = await this.records.get(watch.pipeline, watch.jobId);
      if (!record) {
        this.watches.delete(watch.jobId);
        return;
      }
      if (record.status === 'succeeded' || record.status === 'failed') {
        this.watches.delete(watch.jobId);
        const result = record.status === 'succeeded' ? await this.blobs.readResult(record.resultOf ?? record.id) : undefined;
        await this.deliver(watch.url, record, result);
        return;
      }
    } catch (err) {
      this.log.warn({ jobId: watch.jobId, err }, 'Failed to read job for its webhook; will retry');
    }
    if (now - watch.since > (this.settings.maxWatchMs ?? 6 * 3600_000)) {
      this.watches.delete(watch.jobId);
      this.log.warn({ jobId: watch.jobId }, 'Gave up watching job for its webhook');
      return;
    }
    watch.intervalMs = Math.min(MAX_CHECK_INTERVAL_MS, watch.intervalMs * 1.5);
    watch.nextCheck = now + watch.intervalMs;
  }

  private async deliver(url: string, record: JobRecord, result: OcrResult | undefined): Promise<void> {
    const event = webhookEvent(record, result);
    const outcome = await deliverWebhook(url, this.settings.secret, event.event, event, {
      attempts: this.settings.attempts,
      baseDelayMs: this.settings.baseDelayMs,
      signal: this.abort.signal,
      egress: this.egress,
      limiter: this.limiter,
      ...(this.resolve ? { resolve: this.resolve } : {}),
    });
    this.metrics.webhooks.inc({ outcome: outcome.delivered ? 'delivered' : outcome.refused ? 'refused' : 'failed' });
    if (outcome.delivered) this.log.info({ jobId: record.id, attempts: outcome.attempts }, 'Delivered webhook');
    else if (outcome.refused) {
      // The host, not the URL: a URL's path or query may carry the receiver's own token.
      const { reason, address } = outcome.refused;
      this.log.warn({ jobId: record.id, host: hostOf(url), reason, address }, 'Refused webhook target; not retrying');
    }
    // lastError is a short reason string from deliverWebhook ("receiver answered 503"), not an Error.
    else this.log.warn({ jobId: record.id, attempts: outcome.attempts, lastError: outcome.lastError }, 'Failed to deliver webhook');
  }

  /** Stops watching and retrying; waits (bounded) for deliveries already on the wire. */
  async close(graceMs = 2_000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const pending = [...this.inFlight];
    const timeout = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    // Deliveries on the wire get the grace period; then retries and requests stop.
    await Promise.race([Promise.allSettled(pending), timeout]);
    this.abort.abort();
    if (this.watches.size > 0) this.log.warn({ jobs: this.watches.size }, 'Dropped webhooks of jobs still running at shutdown');
  }
}
