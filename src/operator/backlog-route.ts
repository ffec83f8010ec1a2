// GET /v1/backlog?namespace=<ns>&pipeline=<name> on the operator's HTTP server: the queue
// backlog of one pipeline, for the API's admission by backlog (src/api/admission.ts,
// spec.api.maxBacklog). The API holds Send and Listen on the queue, not Manage, so it cannot
// read the queue's counters; the operator already reads them for scaling (src/operator/scaling/)
// and publishes them as gauges. This route answers from those gauges, so it costs no Service Bus
// call: {"backlog": <ocr_queue_active_messages>} (ActiveMessageCount: messages waiting or locked,
// not scheduled ones). The gauges only hold fresh readings (a stale pipeline's series are removed),
// so 404 means "no fresh reading here" (not polled yet, stale, or a standby operator that does not
// poll): the API then keeps its last reading until it is 30 s old and admits after that.
import type { Gauge, Registry } from 'prom-client';
import { QUEUE_METRIC } from '../contract/metrics.ts';
import type { ProbeHandler, ProbeResponse } from '../shared/probe-server.ts';

/** The path the chart's --backlog-url names on the operator's metrics Service. */
export const BACKLOG_PATH = '/v1/backlog';

const json = (status: number, body: unknown): ProbeResponse => ({ status, body: `${JSON.stringify(body)}\n`, contentType: 'application/json' });

export function backlogRoute(registry: Registry): ProbeHandler {
  return async (url) => {
    const namespace = url.searchParams.get('namespace');
    const pipeline = url.searchParams.get('pipeline');
    if (!namespace || !pipeline) return json(400, { error: 'query parameters namespace and pipeline are required' });
    const gauge = registry.getSingleMetric(QUEUE_METRIC.active) as Gauge | undefined;
    const values = gauge ? (await gauge.get()).values : [];
    const hit = values.find((v) => v.labels.namespace === namespace && v.labels.pipeline === pipeline);
    if (!hit) return json(404, { error: `no fresh queue reading for pipeline ${namespace}/${pipeline} on this operator` });
    return json(200, { backlog: hit.value });
  };
}
