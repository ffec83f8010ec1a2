// One small HTTP server for probes and metrics, shared by the operator (/healthz, /readyz,
// /metrics) and the worker (/live, /ready, /metrics). Each process gives its own route
// table; the server answers GET and HEAD only (405 otherwise) and 404 for other paths.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface ProbeResponse {
  status: number;
  body: string;
  /** Default text/plain. */
  contentType?: string;
}

/** `url` is the request's URL (for query parameters); most handlers ignore it. */
export type ProbeHandler = (url: URL) => ProbeResponse | Promise<ProbeResponse>;

/** Path (without query) -> handler. */
export type ProbeRoutes = Readonly<Record<string, ProbeHandler>>;

/** 200 "ok": the process is alive. */
export const alive: ProbeHandler = () => ({ status: 200, body: 'ok\n' });

/** 200 when `ready()`, else 503; the body says why, for humans reading the probe output. */
export function readiness(ready: () => boolean, body: (ready: boolean) => string): ProbeHandler {
  return () => {
    const ok = ready();
    return { status: ok ? 200 : 503, body: body(ok) };
  };
}

/** The Prometheus text of `registry`; 500 with the reason when collecting fails. */
export function metrics(registry: Registry): ProbeHandler {
  return async () => {
    try {
      return { status: 200, body: await registry.metrics(), contentType: registry.contentType };
    } catch (error) {
      return { status: 500, body: `metrics failed: ${error instanceof Error ? error.message : String(error)}\n` };
    }
  };
}

export function createProbeServer(routes: ProbeRoutes, notFound = `not found: try ${Object.keys(routes).join(', ')}\n`): Server {
  return createServer((request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const handler = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!handler) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(notFound);
      return;
    }
    Promise.resolve()
      .then(() => handler(new URL(request.url ?? '/', 'http://localhost')))
      .then(
        (r) => response.writeHead(r.status, { 'content-type': r.contentType ?? 'text/plain' }).end(r.body),
        (error: unknown) =>
          response.writeHead(500, { 'content-type': 'text/plain' }).end(`${path} failed: ${error instanceof Error ? error.message : String(error)}\n`),
      );
  });
}

/** Listens on `port` (0: a free one) and `host` (default: all interfaces); resolves with the bound port. */
export async function listen(server: Server, port: number, host?: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}
