// Prometheus metrics of one API instance, on its own registry so that several
// apps in one test process do not collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { RECOVERY_METRIC } from '../contract/metrics.ts';

/** One label set's counts: per bucket (not cumulative; the last slot counts values above every bound), sum and count. */
interface DurationSeries {
  labels: { route: string; method: string; status: string };
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram by route, method and status that prom-client's Registry exposes exactly as it would
 * its own Histogram (metrics.test.ts compares the two), with less work per observation: prom-client
 * builds, validates and hashes a label object on every observe (about 2% of the API's CPU per upload
 * URL, --cpu-prof); here an observation is three Map lookups and three additions, and the
 * exposition's label objects are built only when /metrics is read.
 */
export class RequestDurations {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  /** route -> method -> status -> series. */
  private readonly series = new Map<string, Map<string, Map<number, DurationSeries>>>();
  /** Every series, in the order of their first observation (the order prom-client exposes them in). */
  private readonly ordered: DurationSeries[] = [];

  constructor(settings: { name: string; help: string; buckets: readonly number[] }) {
    this.name = settings.name;
    this.help = settings.help;
    this.bounds = [...settings.buckets].sort((a, b) => a - b);
  }

  observe(route: string, method: string, status: number, seconds: number): void {
    if (!Number.isFinite(seconds)) throw new TypeError(`Value is not a valid number: ${seconds}`);
    let byMethod = this.series.get(route);
    if (!byMethod) this.series.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) {
      series = { labels: { route, method, status: String(status) }, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      byStatus.set(status, series);
      this.ordered.push(series);
    }
    let bucket = 0;
    while (bucket < this.bounds.length && seconds > (this.bounds[bucket] as number)) bucket++;
    (series.counts[bucket] as number)++;
    series.sum += seconds;
    series.count++;
  }

  reset(): void {
    this.series.clear();
    this.ordered.length = 0;
  }

  /** What the Registry formats /metrics from: prom-client's Histogram shape (cumulative `le` buckets, `+Inf`, `_sum`, `_count`). */
  getForPromString(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExposedValue[] }> {
    const values: ExposedValue[] = [];
    for (const series of this.ordered) {
      let cumulative = 0;
      for (const [i, bound] of this.bounds.entries()) {
        cumulative += series.counts[i] as number;
        values.push({ labels: { le: bound }, sharedLabels: series.labels, value: cumulative, metricName: `${this.name}_bucket`, exemplar: null });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: series.labels, value: series.count, metricName: `${this.name}_bucket`, exemplar: null });
      values.push({ labels: {}, sharedLabels: series.labels, value: series.sum, metricName: `${this.name}_sum`, exemplar: undefined });
      values.push({ labels: {}, sharedLabels: series.labels, value: series.count, metricName: `${this.name}_count`, exemplar: undefined });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** The same values with every label in `labels` (the Registry's JSON form). */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Omit<ExposedValue, 'sharedLabels'>[] }> {
    const metric = await this.getForPromString();
    return { ...metric, values: metric.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } })) };
  }
}

/** Registers a RequestDurations: not one of prom-client's classes, but the shape its Registry reads (name, get, getForPromString). */
function registered(registry: Registry, metric: RequestDurations): RequestDurations {
  registry.registerMetric(metric as unknown as Metric);
  return metric;
}

interface ExposedValue {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
  /** Always empty (no exemplars), as prom-client reports it: null on buckets, undefined on _sum and _count. */
  exemplar: null | undefined;
}

export class ApiMetrics {
  readonly registry = new Registry();
  readonly requestDuration = registered(
    this.registry,
    new RequestDurations({
      name: 'ocr_api_request_duration_seconds',
      help: 'HTTP request duration by route template, method and status code.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
  );
  /** One request's duration in seconds under its route template (`unmatched` when no route answered). */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.requestDuration.observe(route, method, status, seconds);
  }
  /** Upload-URL jobs since the last read of jobsCreated; its collect() adds them (see countUploadUrlJob). */
  private uploadUrlJobs = 0;
  readonly jobsCreated = new Counter({
    name: 'ocr_api_jobs_created_total',
    help: 'Jobs created, by how the image arrives.',
    labelNames: ['path'] as const,
    registers: [this.registry],
    collect: () => {
      if (this.uploadUrlJobs === 0) return;
      this.jobsCreated.inc({ path: 'upload_url' }, this.uploadUrlJobs);
      this.uploadUrlJobs = 0;
    },
  });
  /**
   * One more job created by POST /v1/jobs (JSON): a plain increment, added to jobsCreated{path="upload_url"}
   * whenever the registry reads it (prom-client's labelled inc builds and hashes a label object per call).
   */
  countUploadUrlJob(): void {
    this.uploadUrlJobs++;
  }
  readonly cacheHits = new Counter({
    name: 'ocr_api_cache_hits_total',
    help: 'Requests answered from the result cache without touching the queue.',
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'ocr_api_rate_limited_total',
    help: 'Requests refused with 429 by the per-key rate limit.',
    registers: [this.registry],
  });
  readonly authLimited = new Counter({
    name: 'ocr_api_auth_limited_total',
    help: 'Requests refused with 429 because their client address failed authentication too often.',
    registers: [this.registry],
  });
  readonly syncWaits = new Counter({
    name: 'ocr_api_sync_waits_total',
    help: 'POST /v1/ocr waits that found their job finished, by what ended them: notice (the worker told this replica) or poll (a re-read of the record).',
    labelNames: ['ended_by'] as const,
    registers: [this.registry],
  });
  readonly admission = new Counter({
    name: 'ocr_api_admission_total',
    help: 'Admission by backlog of new jobs (src/api/admission.ts): admitted, refused (503 QUEUE_BACKLOG_FULL), unknown (no fresh reading: admitted).',
    labelNames: ['decision'] as const,
    registers: [this.registry],
  });
  readonly backlog = new Gauge({
    name: 'ocr_api_backlog',
    help: 'The queue backlog (messages) at the last reading this replica got for admission.',
    registers: [this.registry],
  });
  readonly backlogReadErrors = new Counter({
    name: 'ocr_api_backlog_read_errors_total',
    help: 'Failed backlog readings (API_BACKLOG_URL unreachable or answering without a count).',
    registers: [this.registry],
  });
  readonly uploadsInFlight = new Gauge({
    name: 'ocr_api_uploads_in_flight',
    help: 'Image uploads (multipart, raw body) streaming to Blob Storage now.',
    registers: [this.registry],
  });
  readonly uploadsRefused = new Counter({
    name: 'ocr_api_uploads_refused_total',
    help: 'Uploads refused before their body was read, by cap: per_key (429) or per_replica (503).',
    labelNames: ['cap'] as const,
    registers: [this.registry],
  });
  readonly webhooks = new Counter({
    name: 'ocr_api_webhooks_total',
    help:
      'Webhook attempts by outcome: delivered, retried (failed, another attempt is scheduled), failed (attempts ran out), ' +
      'refused (the egress policy refused the target; not retried).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly webhookAttempts = new Histogram({
    name: 'ocr_api_webhook_attempts',
    help: 'Attempts a webhook took until it was settled, by final outcome (delivered, failed, refused).',
    labelNames: ['outcome'] as const,
    buckets: [1, 2, 3, 5, 8, 10, 20, 50],
    registers: [this.registry],
  });
  readonly webhookBacklog = new Gauge({
    name: 'ocr_api_webhook_outbox_rows',
    help: "Webhooks waiting in the pipeline's outbox (pending, due or not; counted up to 10,000). Every replica reports the same partition.",
    registers: [this.registry],
  });
  readonly webhookOldestAge = new Gauge({
    name: 'ocr_api_webhook_outbox_oldest_age_seconds',
    help: "Age of the oldest webhook in the pipeline's outbox, in seconds (0 when empty).",
    registers: [this.registry],
  });

  // The recovery loop (src/api/recovery/); names in src/contract/metrics.ts.
  readonly recovered = new Counter({
    name: RECOVERY_METRIC.recovered,
    help: 'Stale jobs whose queue message recovery sent again, by the state they were stuck in (queued, processing).',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly expired = new Counter({
    name: RECOVERY_METRIC.expired,
    help: 'Jobs whose upload never came before the upload deadline, moved to expired.',
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({
    name: RECOVERY_METRIC.deadLettered,
    help: 'Dead-letter queue messages settled by recovery, by outcome: failed (the job was failed), already_terminal, unknown_job, unreadable.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly timedOut = new Counter({
    name: RECOVERY_METRIC.timedOut,
    help: 'Stale jobs recovery failed after maxRequeues sends, by code (QUEUE_TIMEOUT, PROCESSING_TIMEOUT).',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly retentionDeleted = new Counter({
    name: RECOVERY_METRIC.retentionDeleted,
    help:
      'Deleted by retention, by kind: job (record, upload, input, result), cache_entry (a dedupe entry past the result cache TTL) or ' +
      'upload (a client upload older than the upload deadline, whose token can no longer be submitted).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly oldestQueuedAge = new Gauge({
    name: RECOVERY_METRIC.oldestQueuedAge,
    help: 'Seconds the oldest queued job has waited since it was queued, among those the last recovery pass read (0 when none).',
    registers: [this.registry],
  });
  readonly recoveryLeaseHeld = new Gauge({
    name: RECOVERY_METRIC.leaseHeld,
    help: "1 when this replica holds the pipeline's recovery lease and runs the passes, else 0.",
    registers: [this.registry],
  });
  readonly recoveryPasses = new Counter({
    name: RECOVERY_METRIC.passes,
    help: 'Recovery passes by outcome (ok, error).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(defaultMetrics = false) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'ocr_api_' });
  }
}
