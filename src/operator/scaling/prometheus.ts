// The operator's few questions to Prometheus (flag --prometheus-url): how many messages
// the workers of each pipeline hold right now, and how many of their recent jobs failed.
// Both are optional refinements: without Prometheus the broker's counters stand alone.
// The worker metric names come from src/contract/metrics.ts, which the worker publishes under.
import { WORKER_METRIC } from '../../contract/metrics.ts';
import type { InFlightSource } from './namespace-poller.ts';

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Runs an instant query; returns the samples, or throws with Prometheus' own error text. */
export async function instantQuery(prometheusUrl: string, query: string, timeoutMs = 3_000): Promise<VectorSample[]> {
  const url = new URL('api/v1/query', prometheusUrl.endsWith('/') ? prometheusUrl : `${prometheusUrl}/`);
  url.searchParams.set('query', query);
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = (await response.json().catch(() => ({}))) as { status?: string; error?: string; data?: { resultType?: string; result?: VectorSample[] } };
  if (!response.ok || body.status !== 'success') throw new Error(`prometheus query failed (HTTP ${response.status}): ${body.error ?? 'no error text'}`);
  if (body.data?.resultType !== 'vector') throw new Error(`prometheus query returned ${body.data?.resultType ?? 'nothing'}, expected a vector`);
  return body.data.result ?? [];
}

/** Samples keyed namespace/pipeline; values rounded to integers, negatives and NaN dropped. */
export function byPipeline(samples: VectorSample[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    const { namespace, pipeline } = s.metric;
    const value = Number(s.value[1]);
    if (!namespace || !pipeline || !Number.isFinite(value) || value < 0) continue;
    out.set(`${namespace}/${pipeline}`, Math.round(value));
  }
  return out;
}

/**
 * Sum of the workers' in-flight gauge per pipeline. `namespace` on worker series comes from
 * the scrape (ServiceMonitor / pod relabelling); `pipeline` from the worker itself.
 */
export function prometheusInFlight(prometheusUrl: string): InFlightSource {
  return async () => byPipeline(await instantQuery(prometheusUrl, `sum by (namespace, pipeline) (${WORKER_METRIC.inFlight})`));
}

/** Failed / all jobs per pipeline over a window, for the Degraded check; pipelines without jobs are absent. */
export async function workerFailureRatios(prometheusUrl: string, window = '5m'): Promise<Map<string, { failed: number; total: number }>> {
  const [failed, total] = await Promise.all([
    instantQuery(prometheusUrl, `sum by (namespace, pipeline) (increase(${WORKER_METRIC.jobs}{outcome=~"dead_lettered|failed_after_retries"}[${window}]))`),
    instantQuery(prometheusUrl, `sum by (namespace, pipeline) (increase(${WORKER_METRIC.jobs}[${window}]))`),
  ]);
  const f = byPipeline(failed);
  const out = new Map<string, { failed: number; total: number }>();
  for (const [key, t] of byPipeline(total)) out.set(key, { failed: f.get(key) ?? 0, total: t });
  return out;
}
