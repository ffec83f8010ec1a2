// Queue-depth gauges on the operator's /metrics, labelled namespace (of the OcrPipeline),
// pipeline and queue. prometheus-adapter (or KEDA's Prometheus trigger) serves
// ocr_queue_backlog to the worker HPA; the other series are for dashboards and alerts
// (dead letters never drive scale-up, see docs/scaling.md).
import { Counter, Gauge, type Registry } from 'prom-client';
import { QUEUE_METRIC } from '../../contract/metrics.ts';
import type { QueueSignal } from './signal.ts';

export interface PipelineLabels {
  namespace: string;
  pipeline: string;
  queue: string;
}

export interface QueueGauges {
  set(labels: PipelineLabels, signal: QueueSignal, observedAtMs: number): void;
  readError(labels: PipelineLabels, reason: string): void;
  /** Drops every series of a pipeline (deleted, or its reading went stale). */
  remove(labels: PipelineLabels): void;
}

const LABELS = ['namespace', 'pipeline', 'queue'] as const;

/** Registers the gauges on a registry once; a second call returns the same set. */
export function queueGauges(registry: Registry): QueueGauges {
  const existing = registry.getSingleMetric(QUEUE_METRIC.backlog);
  const cached = existing ? created.get(registry) : undefined;
  if (cached) return cached;

  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: LABELS, registers: [registry] });
  const active = gauge(QUEUE_METRIC.active, 'Messages the broker reports as active (ActiveMessageCount).');
  const scheduled = gauge(QUEUE_METRIC.scheduled, 'Messages scheduled for later delivery (not yet receivable).');
  const deadLettered = gauge(QUEUE_METRIC.deadLettered, 'Messages in the dead-letter queue (alerting only; never drives scale-up).');
  const inFlight = gauge(QUEUE_METRIC.inFlight, "Messages locked and being processed by workers (broker count or workers' gauge, whichever is larger).");
  const backlog = gauge(QUEUE_METRIC.backlog, 'Messages the worker HPA scales on: waiting plus in flight when countInFlight is set (plain integer).');
  const lastSuccess = gauge(QUEUE_METRIC.lastSuccess, 'Unix time of the last successful read of the queue counters, in seconds.');
  const readErrors = new Counter({
    name: QUEUE_METRIC.readErrors,
    help: 'Failed reads of the queue counters, by reason.',
    labelNames: [...LABELS, 'reason'],
    registers: [registry],
  });
  const gauges = [active, scheduled, deadLettered, inFlight, backlog, lastSuccess];

  const set: QueueGauges = {
    set(labels, s, observedAtMs) {
      active.set(labels, s.activeMessages);
      scheduled.set(labels, s.scheduled);
      deadLettered.set(labels, s.deadLettered);
      inFlight.set(labels, s.inFlight);
      backlog.set(labels, s.backlog);
      lastSuccess.set(labels, Math.floor(observedAtMs / 1000));
    },
    readError(labels, reason) {
      readErrors.inc({ ...labels, reason });
    },
    remove(labels) {
      for (const g of gauges) g.remove(labels);
    },
  };
  created.set(registry, set);
  return set;
}

const created = new WeakMap<Registry, QueueGauges>();
