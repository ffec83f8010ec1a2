// The API as an app factory: `buildApp(deps)` returns a Fastify instance with every
// route, hook and error mapping, and no socket. main.ts listens; tests use inject().
import { randomUUID } from 'node:crypto';
import fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { systemClock, type Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { authenticate, type ApiKeys } from './auth.ts';
import type { ApiConfig } from './config.ts';
import type { ImageStore, JobQueue, RecordStore } from './deps.ts';
import { ApiError, toApiError } from './errors.ts';
import { JobCommands } from './jobs/commands.ts';
import { ResultCache } from './jobs/result-cache.ts';
import { PollingWaiter } from './jobs/wait.ts';
import { ApiMetrics } from './metrics.ts';
import { RateLimiter } from './rate-limit.ts';
import { Readiness } from './readiness.ts';
import { openApiDocument, registerRoute, type RouteSpec } from './route.ts';
import { jobRoutes } from './routes/jobs.ts';
import { ocrRoutes } from './routes/ocr.ts';
import { probeRoutes } from './routes/probes.ts';
import { WebhookNotifier } from './webhooks.ts';

export interface ApiDeps {
  config: ApiConfig;
  records: RecordStore;
  blobs: ImageStore;
  queue: JobQueue;
  /** undefined = authentication disabled (only with API_AUTH=disabled). */
  keys: ApiKeys | undefined;
  /** Fastify and every part of the API log here; tests pass silentLogger(). */
  logger: Logger;
  metrics?: ApiMetrics;
  /** Record timestamps, rate limits, readiness cache, waits and webhook watches; default the system clock. */
  clock?: Clock;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The name of the caller's API key (or `ip:<addr>` with auth disabled). */
    caller?: string;
  }
  interface FastifyInstance {
    readiness: Readiness;
  }
}

// JSON request bodies are small (a few fields); images have their own per-route limit.
const JSON_BODY_LIMIT = 64 * 1024;
const RAW_IMAGE_TYPES = /^(image\/[a-z0-9.+-]+|application\/octet-stream)$/i;

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const metrics = deps.metrics ?? new ApiMetrics();
  const log = deps.logger;
  const clock = deps.clock ?? systemClock;
  // pino's Logger is a FastifyBaseLogger; typing the instance keeps the default generics.
  const logger: FastifyBaseLogger = log;
  const app: FastifyInstance = fastify({
    loggerInstance: logger,
    // Per-request log lines cost more than the request at 10k req/s; metrics count requests, errors are logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: JSON_BODY_LIMIT,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  const { records, blobs, queue } = deps;
  const webhooks = config.webhookSecret
    ? new WebhookNotifier({
        settings: {
          secret: config.webhookSecret,
          pollIntervalMs: Math.max(config.pollIntervalMs, 100),
          attempts: config.webhookAttempts,
          baseDelayMs: config.webhookBaseDelayMs,
        },
        records,
        blobs,
        metrics,
        log,
        clock,
      })
    : undefined;
  const results = new ResultCache({ pipeline: config.pipeline, records, blobs });
  const commands = new JobCommands({ config, records, blobs, queue, results, metrics, webhooks, log, clock });
  const waiter = new PollingWaiter({ pipeline: config.pipeline, records, pollIntervalMs: config.pollIntervalMs, clock });
  const readiness = new Readiness(
    {
      records: () => records.ping(),
      blobs: () => blobs.ping(),
      queue: () => queue.ping(),
    },
    config.readyCacheMs,
    clock,
  );
  const limiter = new RateLimiter(config.rateLimitPerMinute, clock);
  // Aborted when shutdown starts: sync waiters answer 202 at once instead of holding the close.
  const closing = new AbortController();
  app.decorate('readiness', readiness);

  await app.register(multipart, {
    limits: { fileSize: config.maxUploadBytes, files: 1, fields: 8, fieldSize: 2048, parts: 10, headerPairs: 100 },
  });
  app.addContentTypeParser(RAW_IMAGE_TYPES, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (!request.routeOptions.config?.auth) return;
    const caller = deps.keys ? authenticate(deps.keys, request.headers) : `ip:${request.ip}`;
    request.caller = caller;
    const decision = limiter.take(caller);
    if (!decision.allowed) {
      metrics.rateLimited.inc();
      throw new ApiError(
        'RATE_LIMITED',
        `Over ${config.rateLimitPerMinute} requests per minute; retry in ${decision.retryAfterSeconds} s.`,
        { retryAfterSeconds: decision.retryAfterSeconds, limitPerMinute: config.rateLimitPerMinute },
        { 'retry-after': String(decision.retryAfterSeconds) },
      );
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    metrics.requestDuration.observe(
      { route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler(async (error, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) request.log.error({ err: error, code: apiError.code }, 'Request failed');
    return reply.code(apiError.status).headers(apiError.headers).send(apiError.body());
  });
  app.setNotFoundHandler(async (request, reply) => {
    const error = new ApiError('ROUTE_NOT_FOUND', `There is no ${request.method} ${request.url.split('?')[0]}.`);
    return reply.code(error.status).send(error.body());
  });

  const specs: RouteSpec[] = [];
  let document: Record<string, unknown> | undefined;
  const openapi = (): Record<string, unknown> => {
    document ??= openApiDocument(specs, {
      title: 'ocr-platform API',
      version: '1',
      description: `OCR jobs for pipeline "${config.pipeline}": upload URLs, jobs, results, webhooks. Errors: {error: {code, message, details?}}; codes in docs/api.md.`,
    });
    return document;
  };
  specs.push(
    ...jobRoutes({ commands, results, maxUploadBytes: config.maxUploadBytes }),
    ...ocrRoutes({
      commands,
      results,
      waiter,
      maxUploadBytes: config.maxUploadBytes,
      syncTimeoutMs: config.syncTimeoutSeconds * 1000,
      shutdown: closing.signal,
    }),
    ...probeRoutes(readiness, metrics, openapi),
  );
  for (const spec of specs) registerRoute(app, spec);

  app.addHook('preClose', async () => {
    readiness.markClosing();
    closing.abort();
  });
  app.addHook('onClose', async () => {
    await webhooks?.close();
  });
  return app;
}
