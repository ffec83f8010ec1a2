// Worker metrics, named in src/contract/metrics.ts because the operator queries them. The
// in-flight gauge is what the autoscaler adds to the queue's active count (work that is
// locked and being processed is invisible in the queue counters).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { WORKER_METRIC } from '../contract/metrics.ts';
import type { Outcome } from './processor.ts';

export interface WorkerMetrics {
  registry: Registry;
  jobs: Counter<'outcome' | 'pipeline'>;
  ocrDuration: Histogram<'pipeline'>;
  inFlight: Gauge<'pipeline'>;
  lockRenewals: Counter<'pipeline'>;
  modelLoadSeconds: Gauge<'pipeline'>;
  /** Job-finished notices to the API replica a sync job names (src/worker/notify.ts), by outcome. */
  notices: Counter<'outcome' | 'pipeline'>;
}

export const OUTCOMES: readonly Outcome[] = ['succeeded', 'duplicate', 'retried', 'dead_lettered', 'abandoned', 'failed_after_retries'];

export function createWorkerMetrics(pipeline: string): WorkerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ pipeline });
  collectDefaultMetrics({ register: registry });
  const metrics: WorkerMetrics = {
    registry,
    jobs: new Counter({
      name: WORKER_METRIC.jobs,
      help: 'Jobs settled, by outcome (succeeded, duplicate, retried: next attempt scheduled, dead_lettered, abandoned, failed_after_retries).',
      labelNames: ['outcome', 'pipeline'],
      registers: [registry],
    }),
    ocrDuration: new Histogram({
      name: WORKER_METRIC.ocrDuration,
      help: 'Time tesseract spent recognising one image.',
      labelNames: ['pipeline'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: WORKER_METRIC.inFlight,
      help: 'Messages this worker holds (locked, being processed).',
      labelNames: ['pipeline'],
      registers: [registry],
    }),
    lockRenewals: new Counter({
      name: WORKER_METRIC.lockRenewals,
      help: 'Message lock renewals made while jobs were running.',
      labelNames: ['pipeline'],
      registers: [registry],
    }),
    modelLoadSeconds: new Gauge({
      name: WORKER_METRIC.modelLoadSeconds,
      help: 'Time it took to load the tesseract workers and language data.',
      labelNames: ['pipeline'],
      registers: [registry],
    }),
    notices: new Counter({
      name: 'ocr_worker_notices_total',
      help: 'Job-finished notices to the API replica a sync job waits on, by outcome: sent, failed (unreachable or not 2xx), refused (an address a notice may not go to).',
      labelNames: ['outcome', 'pipeline'],
      registers: [registry],
    }),
  };
  // Zero series exist from the start, so rate() and absent() behave before the first job.
  for (const outcome of OUTCOMES) metrics.jobs.inc({ outcome }, 0);
  metrics.inFlight.set(0);
  metrics.lockRenewals.inc(0);
  return metrics;
}
