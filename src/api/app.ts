// The API as an app factory: `buildApp(deps)` returns a Fastify instance with every
// route, hook and error mapping, and no socket; `app.admin` is a second instance for the
// admin port (/metrics, /openapi.json, /health with detail), which the pipeline's Service
// does not expose. main.ts listens on both; tests use inject() on either.
import { randomUUID } from 'node:crypto';
import { Transform } from 'node:stream';
import fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type preParsingHookHandler,
} from 'fastify';
import multipart from '@fastify/multipart';
import { systemClock, type Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { pipelinePartition, type Resolver, type WebhookOutbox } from '../jobs/index.ts';
import { authenticate, type ApiKeys } from './auth.ts';
import type { ApiConfig } from './config.ts';
import type { ImageStore, JobQueue, RecordStore } from './deps.ts';
import { ApiError, toApiError } from './errors.ts';
import { JobCommands } from './jobs/commands.ts';
import type { DeleteJobDeps } from './jobs/delete.ts';
import { ResultCache } from './jobs/result-cache.ts';
import { JobTokens, jobTokenKeys } from './jobs/token.ts';
import { JobId } from '../jobs/index.ts';
import { BacklogGate, httpBacklogReader } from './admission.ts';
import { NoticeAddress, PollingWaiter, PushWaiter, type JobWaiter } from './jobs/wait.ts';
import { ApiMetrics } from './metrics.ts';
import { RateLimiter } from './rate-limit.ts';
import { Readiness } from './readiness.ts';
import { ImageReceiver, UploadGate } from './uploads.ts';
import { bodyConstraint, openApiDocument, registerRoute, takesForms, type RouteHooks, type RouteSpec } from './route.ts';
import { useLazyRequestLoggers } from './request-logger.ts';
import { deleteJobRoute } from './routes/delete.ts';
import { jobRoutes } from './routes/jobs.ts';
import { ocrRoutes } from './routes/ocr.ts';
import { jobFieldsRoute, receiptRoutes } from './routes/fields.ts';
import { jobResultRoute } from './routes/result.ts';
import { adminRoutes, probeRoutes } from './routes/probes.ts';
import { WebhookDispatcher } from './webhooks/dispatcher.ts';

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
  /**
   * The webhook outbox of the records table (src/jobs/outbox.ts); required when WEBHOOK_SECRET is set:
   * this replica's dispatcher delivers from it. JobRecords writes the rows; the dispatcher reads and settles them.
   */
  outbox?: WebhookOutbox;
  /** Webhook hosts' resolver; default the system resolver (tests point a public-looking name at loopback). */
  resolve?: Resolver;
  /** Record timestamps, rate limits, readiness cache, waits and webhook attempts; default the system clock. */
  clock?: Clock;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The name of the caller's API key (or `ip:<addr>` with auth disabled). */
    caller?: string;
  }
  interface FastifyInstance {
    readiness: Readiness;
    /** The admin port's app (set on the main app only); closed with the main app. */
    admin: FastifyInstance;
    /** The internal port's app (workers' "job finished" notices; set on the main app only); closed with the main app. */
    internal: FastifyInstance;
    /** Where this replica takes notices; main.ts sets it once `internal` listens (only with API_POD_IP). */
    notices: NoticeAddress;
  }
}

// JSON request bodies are small (a few fields); images have their own per-route limit.
const JSON_BODY_LIMIT = 64 * 1024;
const RAW_IMAGE_TYPES = /^(image\/[a-z0-9.+-]+|application\/octet-stream)$/i;

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const metrics = deps.metrics ?? new ApiMetrics();
  const clock = deps.clock ?? systemClock;
  const app = createFastify(deps.logger);
  const admin = createFastify(deps.logger);
  const internal = createFastify(deps.logger);
  const services = wireServices(deps, metrics, clock);
  // Aborted when shutdown starts: sync waiters answer 202 at once instead of holding the close.
  const closing = new AbortController();
  app.decorate('readiness', services.readiness);
  app.decorate('admin', admin);
  app.decorate('internal', internal);
  app.decorate('notices', services.notices);

  // Request loggers are made when a request logs (src/api/request-logger.ts), not for every request.
  for (const instance of [app, admin, internal]) useLazyRequestLoggers(instance);
  // Raw images are not read here: the handler streams the request to Blob Storage (src/api/uploads.ts).
  app.addContentTypeParser(RAW_IMAGE_TYPES, (_request, payload, done) => done(null, payload));
  const { config } = deps;
  const limits: RequestLimits = {
    perKey: new RateLimiter(config.rateLimitPerMinute, clock, undefined, config.rateLimitBurst),
    authFailures: new RateLimiter(config.authFailuresPerMinute, clock),
  };
  const hooks = { ...routeHooks(deps, limits, metrics), limitJsonBody: limitJsonBody() };
  const adminHooks = routeHooks(deps, limits, metrics);
  setErrorHandlers(app, { requestIds: true, metrics });
  setErrorHandlers(admin, { requestIds: true, metrics });
  // The internal port answers workers' notices only: no request ids, not in the request metrics.
  setErrorHandlers(internal, { requestIds: false });
  noticeRoutes(internal, services.push);
  await registerRoutes({ app, hooks }, { app: admin, hooks: adminHooks }, config, services, metrics, closing.signal);

  app.addHook('preClose', async () => {
    services.readiness.markClosing();
    closing.abort();
  });
  app.addHook('onClose', async () => {
    await admin.close();
    await internal.close();
    services.admission?.close();
    await services.webhooks?.close(Math.min(2_000, deps.config.webhookTimeoutMs));
  });
  return app;
}

function createFastify(log: Logger): FastifyInstance {
  // pino's Logger is a FastifyBaseLogger; typing the instance keeps the default generics.
  const logger: FastifyBaseLogger = log;
  return fastify({
    loggerInstance: logger,
    // Per-request log lines cost more than the request at 10k req/s; metrics count requests, errors are logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: JSON_BODY_LIMIT,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Errors the router raises before any handler (a path parameter over 100 characters, a
    // malformed URL) get the catalogue's shape too, not Fastify's own body.
    frameworkErrors: (error, _request, reply) => {
      const apiError = toApiError(error);
      void (reply as FastifyReply).code(apiError.status).headers(apiError.headers).send(apiError.body());
    },
  });
}

/** What the routes work with, built from the stores; none of it knows about HTTP. */
interface Services {
  /** undefined when WEBHOOK_SECRET is unset: webhooks are off. */
  webhooks: WebhookDispatcher | undefined;
  results: ResultCache;
  commands: JobCommands;
  waiter: JobWaiter;
  /** The waiter, when it takes notices (API_POD_IP set); undefined: sync waits poll. */
  push: PushWaiter | undefined;
  notices: NoticeAddress;
  /** undefined without API_MAX_BACKLOG: no limit. */
  admission: BacklogGate | undefined;
  readiness: Readiness;
  receiver: ImageReceiver;
  /** What DELETE /v1/jobs/{id} works with. */
  deletion: DeleteJobDeps;
  /** Where GET /v1/jobs/{id}/result?format=pdf reads a job's input. */
  inputs: Pick<ImageStore, 'readUpload'>;
}

function wireServices(deps: ApiDeps, metrics: ApiMetrics, clock: Clock): Services {
  const { config, records, blobs, queue, logger: log } = deps;
  const partition = pipelinePartition(config.pipeline, config.namespace);
  const webhooks = webhookDispatcher(deps, partition, metrics, clock);
  const results = new ResultCache({ pipeline: partition, records, blobs });
  const notices = new NoticeAddress();
  const tokenKeys = jobTokenKeys({ jobTokenSecret: config.jobTokenSecret, webhookSecret: config.webhookSecret, apiKeyMaterial: deps.keys?.material() });
  if (tokenKeys.source === 'per-process') log.warn('Signed job tokens with a per-process key: set JOB_TOKEN_SECRET when more than one API replica runs');
  const tokens = new JobTokens(tokenKeys);
  const admission = backlogGate(config, log, metrics, clock);
  const commands = new JobCommands({
    config,
    records,
    blobs,
    queue,
    results,
    metrics,
    webhooksEnabled: webhooks !== undefined,
    log,
    clock,
    notices,
    tokens,
    admission,
  });
  const waiting = { pipeline: partition, records, pollIntervalMs: config.pollIntervalMs, clock };
  // A woken wait reads the result first; a result there is the job's success (wait.ts), without a record read.
  const pushed = { onFinished: (by: 'notice' | 'poll') => metrics.syncWaits.inc({ ended_by: by }), succeeded: (jobId: string) => results.has(jobId) };
  const push = config.podIp ? new PushWaiter({ ...waiting, ...pushed }) : undefined;
  const waiter = push ?? new PollingWaiter(waiting);
  const readiness = new Readiness(
    {
      records: () => records.ping(),
      blobs: () => blobs.ping(),
      queue: () => queue.ping(),
    },
    config.readyCacheMs,
    clock,
  );
  const receiver = new ImageReceiver({
    blobs,
    maxUploadBytes: config.maxUploadBytes,
    gate: new UploadGate(config.maxConcurrentUploads, config.maxConcurrentUploadsPerKey, metrics),
    log,
  });
  const deletion: DeleteJobDeps = { partition, records, blobs, get: (jobId, caller) => commands.get(jobId, caller), log, forget: (id) => commands.forget(id) };
  return { webhooks, results, commands, waiter, push, notices, admission, readiness, receiver, deletion, inputs: blobs };
}

/** Admission by backlog when API_MAX_BACKLOG is set (src/api/admission.ts); reading starts at once, every 5 s. */
function backlogGate(config: ApiConfig, log: Logger, metrics: ApiMetrics, clock: Clock): BacklogGate | undefined {
  if (config.maxBacklog === undefined || config.backlogUrl === undefined) return undefined;
  const gate = new BacklogGate({ maxBacklog: config.maxBacklog, read: httpBacklogReader(config.backlogUrl), log, metrics, clock });
  gate.start();
  return gate;
}

/** The replica's webhook outbox dispatcher, started here; undefined when webhooks are off (no WEBHOOK_SECRET). */
function webhookDispatcher(deps: ApiDeps, partition: string, metrics: ApiMetrics, clock: Clock): WebhookDispatcher | undefined {
  const { config } = deps;
  if (!config.webhookSecret) return undefined;
  if (!deps.outbox) throw new Error('WEBHOOK_SECRET is set but the app was built without a webhook outbox to deliver from');
  const dispatcher = new WebhookDispatcher({
    settings: {
      secret: config.webhookSecret,
      pollIntervalMs: config.webhookPollIntervalMs,
      batchSize: Math.max(1, config.webhookMaxConcurrent * 2),
      leaseMs: config.webhookLeaseMs,
      attempts: config.webhookAttempts,
      baseDelayMs: config.webhookBaseDelayMs,
      maxDelayMs: config.webhookMaxDelayMs,
      timeoutMs: config.webhookTimeoutMs,
      egress: config.webhookEgress,
      maxConcurrent: config.webhookMaxConcurrent,
      backlogIntervalMs: 15_000,
    },
    partition,
    outbox: deps.outbox,
    records: deps.records,
    blobs: deps.blobs,
    metrics,
    log: deps.logger,
    clock,
    ...(deps.resolve ? { resolve: deps.resolve } : {}),
  });
  dispatcher.start();
  return dispatcher;
}

/** The per-key token buckets, and the failed-authentication buckets per client address. */
interface RequestLimits {
  perKey: RateLimiter;
  authFailures: RateLimiter;
}

/**
 * Routes with `auth` authenticate and take from the caller's rate limit; every request is timed.
 * A client address whose authentications keep failing is refused (429 AUTH_RATE_LIMITED) before
 * its key is even looked at, so keys cannot be guessed at the rate requests can be sent. These
 * are route hooks (attached by registerRoute, which also sets `x-request-id`), not global ones, so
 * a request runs only the hooks its route needs; the not-found and error handlers
 * (setErrorHandlers) set the request id and time what no route answers. All hooks take a callback
 * instead of being async: an async hook costs a promise and a microtask turn on every request
 * (bench/api/RESULTS.md).
 */
function routeHooks(deps: ApiDeps, limits: RequestLimits, metrics: ApiMetrics): RouteHooks {
  const { config, keys } = deps;
  const authenticated = (request: FastifyRequest): string => {
    if (!keys) return `ip:${request.ip}`;
    const blocked = limits.authFailures.check(request.ip);
    if (!blocked.allowed) {
      metrics.authLimited.inc();
      throw new ApiError(
        'AUTH_RATE_LIMITED',
        `Over ${config.authFailuresPerMinute} failed authentications per minute from this address; retry in ${blocked.retryAfterSeconds} s.`,
        { retryAfterSeconds: blocked.retryAfterSeconds, limitPerMinute: config.authFailuresPerMinute },
        { 'retry-after': String(blocked.retryAfterSeconds) },
      );
    }
    try {
      return authenticate(keys, request.headers);
    } catch (error) {
      limits.authFailures.take(request.ip);
      throw error;
    }
  };

  return {
    authenticate: (request) => {
      const caller = authenticated(request);
      request.caller = caller;
      const decision = limits.perKey.take(caller);
      if (!decision.allowed) {
        metrics.rateLimited.inc();
        throw new ApiError(
          'RATE_LIMITED',
          `Over ${config.rateLimitPerMinute} requests per minute; retry in ${decision.retryAfterSeconds} s.`,
          { retryAfterSeconds: decision.retryAfterSeconds, limitPerMinute: config.rateLimitPerMinute },
          { 'retry-after': String(decision.retryAfterSeconds) },
        );
      }
    },
    responded: (route, request, reply) => metrics.observeRequest(route, request.method, reply.statusCode, reply.elapsedTime / 1000),
  };
}

/**
 * The internal app: POST /internal/v1/jobs/<id>/done, a worker's notice that a job is finished (src/worker/notify.ts).
 * No body and no key: the port is reachable only from the pipeline's workers (NetworkPolicy) and a notice only wakes
 * the requests waiting for that job, which re-read its record. Always 204, so the answer says nothing about waits.
 */
function noticeRoutes(internal: FastifyInstance, push: PushWaiter | undefined): void {
  internal.post<{ Params: { id: string } }>('/internal/v1/jobs/:id/done', async (request, reply) => {
    const id = JobId.safeParse(request.params.id);
    if (!id.success) throw new ApiError('JOB_NOT_FOUND', 'There is no such job.');
    push?.notify(id.data);
    return reply.code(204).send();
  });
}

/**
 * JSON bodies stay within JSON_BODY_LIMIT also on routes whose bodyLimit is sized for images
 * (POST /v1/ocr and /v1/ocr/receipt; registerRoute attaches it to such routes only, not to the JSON POST /v1/jobs):
 * the declared length is checked first, and a chunked body is counted as it arrives. Over the
 * limit: 413 PAYLOAD_TOO_LARGE.
 */
function limitJsonBody(): preParsingHookHandler {
  const tooLarge = () =>
    Object.assign(new Error(`JSON bodies are limited to ${JSON_BODY_LIMIT} bytes`), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
  return (request, _reply, payload, done) => {
    const type = request.headers['content-type'];
    if (type === undefined || !/^application\/([\w.+-]+\+)?json\b/i.test(type)) return done(null, payload);
    const declared = request.headers['content-length'];
    // A declared length within the limit is enough: Fastify refuses a body that differs from it. Only a
    // chunked body is counted; the Transform and pipe cost more than the rest of an upload-URL request.
    if (declared !== undefined) return Number(declared) > JSON_BODY_LIMIT ? done(tooLarge()) : done(null, payload);
    let seen = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, next) {
        seen += chunk.length;
        if (seen > JSON_BODY_LIMIT) next(tooLarge());
        else next(null, chunk);
      },
    });
    done(null, payload.pipe(counted));
  };
}

interface ErrorHandling {
  /** Errors and 404s carry `x-request-id`, also those raised before a route's own hooks ran. */
  requestIds: boolean;
  /** Where a request no route answers is timed, under `unmatched`; undefined: not timed. */
  metrics?: ApiMetrics;
}

/** Every error answers in the catalogue's shape ({error: {code, message, details?}}); only 5xx are logged. */
function setErrorHandlers(app: FastifyInstance, { requestIds, metrics }: ErrorHandling): void {
  app.setErrorHandler(async (error, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) request.log.error({ err: error, code: apiError.code }, 'Request failed');
    if (requestIds) reply.header('x-request-id', request.id);
    return reply.code(apiError.status).headers(apiError.headers).send(apiError.body());
  });
  app.setNotFoundHandler(async (request, reply) => {
    if (requestIds) reply.header('x-request-id', request.id);
    if (metrics) {
      reply.raw.once('finish', () => metrics.observeRequest('unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000));
    }
    const error = new ApiError('ROUTE_NOT_FOUND', `There is no ${request.method} ${request.url.split('?')[0]}.`);
    return reply.code(error.status).send(error.body());
  });
}

/** Where the main port is reached: the pipeline's Service (`<pipeline>-api.<namespace>.svc`, port spec.api.service.port, 8080 by default). */
function apiServer(config: ApiConfig): { url: string; description: string; variables: Record<string, { default: string; description: string }> } {
  const host = `${config.pipeline}-api${config.namespace ? `.${config.namespace}.svc` : ''}:8080`;
  return {
    url: 'http://{service}',
    description: "The pipeline's API Service inside the cluster.",
    variables: { service: { default: host, description: 'Service host and port (spec.api.service.port; 8080 by default).' } },
  };
}

/**
 * Job, OCR and probe routes on the main app; /metrics, /openapi.json and the detailed /health on
 * the admin app. The OpenAPI document describes the main port and is built on its first request.
 */
async function registerRoutes(
  main: { app: FastifyInstance; hooks: RouteHooks },
  admin: { app: FastifyInstance; hooks: RouteHooks },
  config: ApiConfig,
  services: Services,
  metrics: ApiMetrics,
  shutdown: AbortSignal,
): Promise<void> {
  const { commands, results, waiter, readiness, receiver } = services;
  const specs: RouteSpec[] = [];
  let document: Record<string, unknown> | undefined;
  const openapi = (): Record<string, unknown> => {
    document ??= openApiDocument(
      specs,
      {
        title: 'ocr-platform API',
        version: '1',
        description: `OCR jobs for pipeline "${config.pipeline}": upload URLs, jobs, results, webhooks. Errors: {error: {code, message, details?}}; codes in docs/api.md.`,
      },
      [apiServer(config)],
    );
    return document;
  };
  const syncDeps = { commands, results, waiter, maxUploadBytes: config.maxUploadBytes, syncTimeoutMs: config.syncTimeoutSeconds * 1000, shutdown, receiver };
  specs.push(
    ...jobRoutes({ commands, results, maxUploadBytes: config.maxUploadBytes, receiver }),
    deleteJobRoute(services.deletion),
    ...ocrRoutes(syncDeps),
    ...receiptRoutes(syncDeps),
    jobFieldsRoute({ commands, results }),
    jobResultRoute({ commands, results, inputs: { blobs: services.inputs, maxBytes: config.maxUploadBytes } }),
    ...probeRoutes(readiness),
  );
  // Every route that authenticates can also refuse an address that failed authentication too often.
  for (const [i, spec] of specs.entries()) if (spec.auth) specs[i] = { ...spec, errors: [...spec.errors, 'AUTH_RATE_LIMITED'] };
  await registerMainRoutes(main, specs, config.maxUploadBytes);
  for (const spec of adminRoutes(readiness, metrics, openapi)) registerRoute(admin.app, spec, admin.hooks);
}

/**
 * The form parser (@fastify/multipart) adds an async onRequest and onResponse hook to every route
 * it is registered for, so it is registered only in a child scope with the routes that take forms.
 * A route that takes JSON and forms (POST /v1/jobs) is registered in both: outside for JSON (and
 * within the JSON body limit), inside for forms only (the router's `body` constraint, route.ts).
 * A form sent to a route that takes none is 415 UNSUPPORTED_MEDIA_TYPE.
 */
async function registerMainRoutes(main: { app: FastifyInstance; hooks: RouteHooks }, specs: readonly RouteSpec[], maxUploadBytes: number): Promise<void> {
  const { app, hooks } = main;
  app.addConstraintStrategy(bodyConstraint);
  const forms = specs.filter(takesForms);
  for (const spec of specs) {
    if (!takesForms(spec)) registerRoute(app, spec, hooks);
    else if (spec.body) registerRoute(app, spec, hooks, { jsonOnly: true });
  }
  await app.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fileSize: maxUploadBytes, files: 1, fields: 8, fieldSize: 2048, parts: 10, headerPairs: 100 },
    });
    for (const spec of forms) registerRoute(scope, spec, hooks, spec.body ? { constraints: { body: 'form' } } : {});
  });
}
