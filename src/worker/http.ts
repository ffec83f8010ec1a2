// The worker's HTTP server: probes and metrics. It starts before anything slow, so the
// liveness probe answers while the models load; readiness waits for the engine and the
// receiver.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface ProbeState {
  /** True once the OCR engine is loaded and receiving has started. */
  ready(): boolean;
  /** Why not ready, for humans reading the probe output. */
  detail(): string;
}

export function createProbeServer(state: ProbeState, registry: Registry): Server {
  return createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/live') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/ready') {
      const ready = state.ready();
      response.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(`${ready ? 'ready' : 'not ready'}: ${state.detail()}\n`);
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then((body) => {
        response.writeHead(200, { 'content-type': registry.contentType }).end(body);
      }, (error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(error)}\n`);
      });
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /live, /ready or /metrics\n');
  });
}

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
