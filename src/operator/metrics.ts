// Operator metrics (prom-client), named after controller-runtime's with an ocr_operator_ prefix.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface OperatorMetrics {
  registry: Registry;
  reconcileTotal: Counter<'result'>;
  reconcileDuration: Histogram;
  workqueueDepth: Gauge;
  workqueueAdds: Counter;
  workqueueRetries: Counter;
  workqueueQueueDuration: Histogram;
  leader: Gauge;
  /** API calls by verb, resource and status code (0: no answer), retries included; watches not (src/operator/kube-http/client.ts). */
  apiRequests: Counter<'verb' | 'resource' | 'code'>;
  buildInfo: Gauge<'version' | 'node_version'>;
}

export function createMetrics(version: string, { defaults = true } = {}): OperatorMetrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry });
  const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
  const m: OperatorMetrics = {
    registry,
    reconcileTotal: new Counter({
      name: 'ocr_operator_reconcile_total',
      help: 'Reconciles by result (success, error).',
      labelNames: ['result'],
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'ocr_operator_reconcile_duration_seconds',
      help: 'Time one reconcile took, in seconds.',
      buckets,
      registers: [registry],
    }),
    workqueueDepth: new Gauge({ name: 'ocr_operator_workqueue_depth', help: 'Keys waiting in the work queue.', registers: [registry] }),
    workqueueAdds: new Counter({ name: 'ocr_operator_workqueue_adds_total', help: 'Keys added to the work queue.', registers: [registry] }),
    workqueueRetries: new Counter({
      name: 'ocr_operator_workqueue_retries_total',
      help: 'Keys re-queued with backoff after a failure.',
      registers: [registry],
    }),
    workqueueQueueDuration: new Histogram({
      name: 'ocr_operator_workqueue_queue_duration_seconds',
      help: 'Time a key waited in the queue before it ran, in seconds.',
      buckets,
      registers: [registry],
    }),
    apiRequests: new Counter({
      name: 'ocr_operator_api_requests_total',
      help: 'Requests to the Kubernetes API server by verb, resource (with subresource) and HTTP status code (0: no answer), each retry counted; watches not counted.',
      labelNames: ['verb', 'resource', 'code'],
      registers: [registry],
    }),
    leader: new Gauge({ name: 'ocr_operator_leader', help: '1 when this replica holds the leader Lease, else 0.', registers: [registry] }),
    buildInfo: new Gauge({
      name: 'ocr_operator_build_info',
      help: 'Always 1; labels carry the build.',
      labelNames: ['version', 'node_version'],
      registers: [registry],
    }),
  };
  m.buildInfo.set({ version, node_version: process.version }, 1);
  m.leader.set(0);
  m.reconcileTotal.inc({ result: 'success' }, 0);
  m.reconcileTotal.inc({ result: 'error' }, 0);
  return m;
}
