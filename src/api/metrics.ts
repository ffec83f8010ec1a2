// Prometheus metrics of one API instance, on its own registry so that several
// apps in one test process do not collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ApiMetrics {
  readonly registry = new Registry();
  readonly requestDuration = new Histogram({
    name: 'ocr_api_request_duration_seconds',
    help: 'HTTP request duration by route template, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly jobsCreated = new Counter({
    name: 'ocr_api_jobs_created_total',
    help: 'Jobs created, by how the image arrives.',
    labelNames: ['path'] as const,
    registers: [this.registry],
  });
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
    help: 'Webhook deliveries by outcome: delivered, failed (attempts ran out), refused (the egress policy refused the target; not retried).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(defaultMetrics = false) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'ocr_api_' });
  }
}
