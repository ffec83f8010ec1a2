// GET /health on the worker's probe port: what a person debugging a pipeline wants in one look
// (as the inference-hub seed had it): the engines and whether their models are loaded, the
// languages, jobs in flight, memory and uptime. /live and /ready stay the probes Kubernetes uses;
// /health always answers 200 with the state in its body, so it never restarts or unreadies a pod.
import type { ProbeHandler } from '../shared/probe-server.ts';
import type { PaddleGraphs } from './ocr/paddle/engine.ts';

export interface HealthState {
  /** The engine and its models (ocr/engines.ts engineInfo): tesseract best or fast, paddle PP-OCRv4. */
  engine: { name: string; model: string };
  /** Every engine jobs may ask for (OCR_REQUEST_ENGINES), the pipeline engine first, and whether each is loaded yet. */
  engines: readonly { name: string; model: string; loaded: boolean; loadSeconds?: number; graphs?: PaddleGraphs }[];
  /** The engine's models are loaded and it is taking jobs. */
  engineLoaded: boolean;
  /** Seconds the model load took, once it finished. */
  loadSeconds: number | undefined;
  languages: readonly string[];
  concurrency: number;
  jobsInFlight: number;
  receiving: boolean;
  stopping: boolean;
  /** Why the worker cannot work, when it cannot. */
  error: string | undefined;
}

export interface HealthReport {
  status: 'ok' | 'starting' | 'stopping' | 'error';
  engine: { name: string; model: string; loaded: boolean; loadSeconds?: number };
  /** Every engine jobs may ask for; the second loads on its first job. */
  engines: { name: string; model: string; loaded: boolean; loadSeconds?: number; graphs?: PaddleGraphs }[];
  languages: readonly string[];
  jobs: { inFlight: number; concurrency: number; receiving: boolean };
  memory: { rssBytes: number; heapUsedBytes: number };
  uptimeSeconds: number;
  error?: string;
}

/** Pure: the report for a state, memory figures and uptime. */
export function healthReport(state: HealthState, memory: { rss: number; heapUsed: number }, uptimeSeconds: number): HealthReport {
  const status = state.error ? 'error' : state.stopping ? 'stopping' : state.engineLoaded && state.receiving ? 'ok' : 'starting';
  return {
    status,
    engine: {
      name: state.engine.name,
      model: state.engine.model,
      loaded: state.engineLoaded,
      ...(state.loadSeconds === undefined ? {} : { loadSeconds: Number(state.loadSeconds.toFixed(2)) }),
    },
    engines: state.engines.map((e) => ({
      name: e.name,
      model: e.model,
      loaded: e.loaded,
      ...(e.loadSeconds === undefined ? {} : { loadSeconds: e.loadSeconds }),
      // paddle: where its graphs came from (prefused in the image, cached, fused-now at this start, or as-is).
      ...(e.graphs === undefined ? {} : { graphs: e.graphs }),
    })),
    languages: state.languages,
    jobs: { inFlight: state.jobsInFlight, concurrency: state.concurrency, receiving: state.receiving },
    memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
    uptimeSeconds: Math.round(uptimeSeconds),
    ...(state.error ? { error: state.error } : {}),
  };
}

/** The /health handler over a live state. */
export function healthRoute(state: () => HealthState): ProbeHandler {
  return () => ({ status: 200, body: `${JSON.stringify(healthReport(state(), process.memoryUsage(), process.uptime()))}\n`, contentType: 'application/json' });
}
