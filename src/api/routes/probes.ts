// Probes, metrics and the OpenAPI document: no API key. The main port (which the
// pipeline's Service may expose, even as a LoadBalancer) serves only /live, /ready and a
// /health of status booleans; dependency error text, /metrics and /openapi.json are on the
// admin port (API_ADMIN_PORT), which is scraped from inside the cluster and never exposed.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiMetrics } from '../metrics.ts';
import type { Readiness } from '../readiness.ts';
import type { RouteSpec } from '../route.ts';
import { Health } from '../schemas.ts';

/** /health on the main port: whether each dependency answers, nothing about why not. */
const HealthSummary = z.object({
  status: z.enum(['ok', 'degraded']),
  checks: z.record(z.string(), z.object({ ok: z.boolean() })),
});

/** The main port's probes: /live, /ready and the /health summary. */
export function probeRoutes(readiness: Readiness): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/live',
      operationId: 'live',
      summary: 'Liveness: the process serves HTTP',
      tags: ['probes'],
      auth: false,
      errors: [],
      responses: { 200: { description: 'Alive.', schema: z.object({ status: z.literal('ok') }) } },
      handler: async (_request: FastifyRequest, reply: FastifyReply) => reply.send({ status: 'ok' }),
    },
    {
      method: 'GET',
      url: '/ready',
      operationId: 'ready',
      summary: 'Readiness: storage and queue reachable',
      tags: ['probes'],
      auth: false,
      errors: [],
      responses: {
        200: { description: 'Ready.', schema: z.object({ ready: z.boolean() }) },
        503: { description: 'A dependency is unreachable, or the API is shutting down.', schema: z.object({ ready: z.boolean() }) },
      },
      handler: async (_request: FastifyRequest, reply: FastifyReply) => {
        const { ready, results } = await readiness.ready();
        const failing = Object.entries(results)
          .filter(([, r]) => !r.ok)
          .map(([name]) => name);
        return reply.code(ready ? 200 : 503).send({ ready, ...(failing.length > 0 ? { failing } : {}), ...(readiness.isClosing ? { closing: true } : {}) });
      },
    },
    {
      method: 'GET',
      url: '/health',
      operationId: 'health',
      summary: 'Health: whether each dependency answers (the detail is on the admin port)',
      tags: ['probes'],
      auth: false,
      errors: [],
      responses: { 200: { description: 'Per-dependency status (cached a few seconds).', schema: HealthSummary } },
      handler: async (_request: FastifyRequest, reply: FastifyReply) => {
        const { ready, results } = await readiness.ready();
        const checks = Object.fromEntries(Object.entries(results).map(([name, result]) => [name, { ok: result.ok }]));
        return reply.send({ status: ready ? 'ok' : 'degraded', checks });
      },
    },
  ];
}

/** The admin port: /health with detail, /metrics and /openapi.json. */
export function adminRoutes(readiness: Readiness, metrics: ApiMetrics, openapi: () => Record<string, unknown>): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/health',
      operationId: 'healthDetail',
      summary: 'Health with details per dependency (latency, error text)',
      tags: ['admin'],
      auth: false,
      errors: [],
      responses: { 200: { description: 'Per-dependency results (cached a few seconds).', schema: Health } },
      handler: async (_request: FastifyRequest, reply: FastifyReply) => {
        const { ready, results } = await readiness.ready();
        return reply.send({ status: ready ? 'ok' : 'degraded', checks: results });
      },
    },
    {
      method: 'GET',
      url: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      tags: ['admin'],
      auth: false,
      errors: [],
      responses: { 200: { description: 'Prometheus text format.', contentType: 'text/plain', schema: z.string() } },
      handler: async (_request: FastifyRequest, reply: FastifyReply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    },
    {
      method: 'GET',
      url: '/openapi.json',
      operationId: 'openapi',
      summary: 'This OpenAPI document',
      tags: ['admin'],
      auth: false,
      errors: [],
      responses: { 200: { description: 'OpenAPI 3.1.' } },
      handler: async (_request: FastifyRequest, reply: FastifyReply) => reply.send(openapi()),
    },
  ];
}
