// A small zod -> Fastify adapter. Each route is declared once, with zod schemas for
// params, query and body; registerRoute parses with them (the handler sees parsed
// values, defaults applied), and the same declarations build /openapi.json.
import type { FastifyInstance, FastifyReply, FastifyRequest, preParsingHookHandler } from 'fastify';
import { z } from 'zod';
import { ApiError, ERROR_CATALOGUE, type ErrorCode } from './errors.ts';
import { isRawImageBody } from './uploads.ts';

export interface RouteSpec {
  method: 'GET' | 'POST' | 'DELETE';
  /** Fastify path, e.g. /v1/jobs/:id */
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** Needs an API key (and counts against the key's rate limit). */
  auth: boolean;
  params?: z.ZodType;
  querystring?: z.ZodType;
  /** JSON body. Multipart and raw image bodies are parsed by the handler and described in `content`. */
  body?: z.ZodType;
  /**
   * A faster parse of the most common bodies, equal to `body`'s where it answers; undefined hands the
   * body to `body` (POST /v1/jobs: schemas.ts quickCreateJobBody).
   */
  quickBody?: (body: unknown) => unknown;
  /** The JSON body may be left out (POST /v1/jobs/{id}/submit); the handler then sees undefined. */
  bodyOptional?: boolean;
  /** Extra request content types for the OpenAPI document (multipart, image/*). */
  content?: Record<string, { schema: z.ZodType | Record<string, unknown>; description?: string }>;
  bodyLimit?: number;
  /** `alternatives`: further content types of the same answer (GET /v1/jobs/{id}/result?format=text|hocr|tsv), by media type. */
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string; alternatives?: Record<string, Record<string, unknown>> }>;
  /** Catalogue codes this route can answer with; listed in the OpenAPI document. */
  errors: ErrorCode[];
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: boolean;
  }
}

function parseOrThrow(schema: z.ZodType, value: unknown, where: string): unknown {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message }));
  const first = issues[0];
  throw new ApiError('INVALID_REQUEST', first ? `${first.path}: ${first.message}` : undefined, { issues });
}

/** What the app runs around declared routes (app.ts): authentication on routes with `auth`, and the request timing on every one. */
export interface RouteHooks {
  /** Authenticates the request and takes from its key's rate limit; sets `request.caller`; throws the catalogue's error. */
  authenticate(request: FastifyRequest): void;
  /** Once the response is sent: `route` is the route's template (`/v1/jobs/:id`). */
  responded(route: string, request: FastifyRequest, reply: FastifyReply): void;
  /**
   * Keeps JSON bodies within the JSON limit on a route whose body limit is sized for images (app.ts);
   * attached only to routes registered with such a limit.
   */
  limitJsonBody?: preParsingHookHandler;
}

/**
 * The media type of a multipart form, as the form parser (@fastify/multipart) matches it: type and
 * subtype in any case, then parameters (the boundary) or nothing.
 */
const FORM_BODY = /^\s*multipart\/form-data\s*(;|$)/i;

/** True when the request's body is a multipart form (by its Content-Type; the form parser reads it). */
export function isFormBody(headers: { 'content-type'?: string | undefined }): boolean {
  const type = headers['content-type'];
  return type !== undefined && FORM_BODY.test(type);
}

type ConstraintStrategy = Parameters<FastifyInstance['addConstraintStrategy']>[0];
type RouterHandler = Parameters<ReturnType<ConstraintStrategy['storage']>['set']>[1];

/**
 * The router's `body` constraint: `form` for a multipart form, nothing otherwise. A route that takes
 * both JSON and forms (POST /v1/jobs) is registered twice: the JSON one with no constraint, outside
 * the scope where the form parser and its hooks are registered, and the form one with `{ body: 'form' }`
 * inside it (app.ts), so a JSON request never runs the form parser's hooks.
 */
export const bodyConstraint: ConstraintStrategy = {
  name: 'body',
  mustMatchWhenDerived: false,
  storage() {
    const handlers = new Map<unknown, RouterHandler>();
    return {
      get: (value) => handlers.get(value) ?? null,
      set: (value, handler) => void handlers.set(value, handler),
    };
  },
  validate(value) {
    if (value !== 'form') throw new Error(`the body constraint is "form", not ${String(value)}`);
  },
  // Undefined (no constraint derived) for every body that is not a form: such requests match unconstrained routes only.
  deriveConstraint: (request) => (isFormBody(request.headers) ? 'form' : undefined),
};

/** How one registration of a spec differs from the spec (registerRoute). */
export interface RouteVariant {
  /** Router constraints (`{ body: 'form' }`: only multipart forms reach this registration). */
  constraints?: Record<string, string>;
  /** Leave out the spec's bodyLimit: this registration takes JSON only, within the app's JSON limit. */
  jsonOnly?: boolean;
}

/** Parses params, query and JSON body with the spec's zod schemas; throws INVALID_REQUEST or EMPTY_BODY. */
function validate(spec: RouteSpec, request: FastifyRequest): void {
  if (spec.params) request.params = parseOrThrow(spec.params, request.params, 'params');
  if (spec.querystring) request.query = parseOrThrow(spec.querystring, request.query, 'query');
  // JSON bodies only: a multipart or image request is parsed by its handler.
  if (spec.body && !isFormBody(request.headers) && !isRawImageBody(request.body)) {
    if (request.body === undefined || request.body === null) {
      if (spec.bodyOptional) return;
      throw new ApiError('EMPTY_BODY');
    }
    request.body = spec.quickBody?.(request.body) ?? parseOrThrow(spec.body, request.body, 'body');
  }
}

/**
 * The route with its hooks. Hooks take a callback rather than being async (a promise and a
 * microtask turn less per hook and request); what they throw, Fastify's hook runner catches and
 * hands to the error handler. Every hook is the route's own: a request runs only what its route
 * needs. The first one sets `x-request-id`, so every answer of the route carries it, errors too.
 */
export function registerRoute(app: FastifyInstance, spec: RouteSpec, hooks: RouteHooks, variant: RouteVariant = {}): void {
  const { url } = spec;
  const bodyLimit = variant.jsonOnly ? undefined : spec.bodyLimit;
  const onRequest = spec.auth
    ? (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
        reply.header('x-request-id', request.id);
        hooks.authenticate(request);
        done();
      }
    : (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
        reply.header('x-request-id', request.id);
        done();
      };
  app.route({
    method: spec.method,
    url,
    ...(bodyLimit ? { bodyLimit } : {}),
    ...(variant.constraints ? { constraints: variant.constraints } : {}),
    config: { auth: spec.auth },
    onRequest,
    // A body limit sized for images would let a JSON body that large be parsed: the app's hook keeps JSON within its own limit.
    ...(bodyLimit && hooks.limitJsonBody && !variant.constraints ? { preParsing: hooks.limitJsonBody } : {}),
    onResponse: (request, reply, done) => {
      hooks.responded(url, request, reply);
      done();
    },
    // Parsed in the handler, where a preValidation hook would parse (there are no preHandler hooks): one hook
    // runner less per request. What validate throws, Fastify hands to the error handler as a hook's error.
    handler: (request, reply) => {
      validate(spec, request);
      return spec.handler(request, reply);
    },
  });
}

/** True when the route takes multipart forms: it is registered where the form parser is (app.ts). */
export function takesForms(spec: RouteSpec): boolean {
  return spec.content?.['multipart/form-data'] !== undefined;
}

function jsonSchema(schema: z.ZodType | Record<string, unknown>, io: 'input' | 'output'): Record<string, unknown> {
  if (!(schema instanceof z.ZodType)) return schema;
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** OpenAPI 3.1 (JSON Schema 2020-12) for every declared route. */
export function openApiDocument(
  specs: readonly RouteSpec[],
  info: { title: string; version: string; description: string },
  servers: { url: string; description: string; variables?: Record<string, { default: string; description: string }> }[] = [
    { url: '/', description: 'The host that served this document.' },
  ],
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const path = spec.url.replace(/:([A-Za-z]+)/g, '{$1}');
    paths[path] ??= {};
    paths[path][spec.method.toLowerCase()] = operation(spec);
  }
  // The project's license (package.json); Redocly's recommended rules ask for one.
  const license = { name: 'Apache-2.0', identifier: 'Apache-2.0' };
  return { openapi: '3.1.0', info: { ...info, license }, servers, paths, components: components() };
}

/** One route as an OpenAPI operation; empty parameter and request body sections are left out. */
function operation(spec: RouteSpec): Record<string, unknown> {
  const parameters = operationParameters(spec);
  const requestContent = operationRequestContent(spec);
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: spec.tags,
    ...(spec.auth ? { security: [{ apiKey: [] }, { bearer: [] }] } : { security: [] }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(Object.keys(requestContent).length > 0 ? { requestBody: { required: !spec.bodyOptional, content: requestContent } } : {}),
    responses: { ...successResponses(spec), ...errorResponses(spec) },
  };
}

/** Path and query parameters, one per property of the params and querystring schemas; path parameters are always required. */
function operationParameters(spec: RouteSpec): unknown[] {
  const parameters: unknown[] = [];
  for (const [where, schema] of [
    ['path', spec.params],
    ['query', spec.querystring],
  ] as const) {
    if (!schema) continue;
    const json = jsonSchema(schema, 'input');
    const properties = (json.properties ?? {}) as Record<string, unknown>;
    const required = new Set((json.required ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      parameters.push({ name, in: where, required: where === 'path' || required.has(name), schema: property });
    }
  }
  return parameters;
}

/** The JSON body (when declared) and every extra content type (multipart, image/*). */
function operationRequestContent(spec: RouteSpec): Record<string, unknown> {
  const content: Record<string, unknown> = {};
  if (spec.body) content['application/json'] = { schema: jsonSchema(spec.body, 'input') };
  for (const [type, entry] of Object.entries(spec.content ?? {})) {
    content[type] = { schema: jsonSchema(entry.schema, 'input'), ...(entry.description ? { description: entry.description } : {}) };
  }
  return content;
}

function responseContent(response: RouteSpec['responses'][number]): Record<string, unknown> {
  const content: Record<string, unknown> = { [response.contentType ?? 'application/json']: { schema: jsonSchema(response.schema!, 'output') } };
  for (const [type, schema] of Object.entries(response.alternatives ?? {})) content[type] = { schema };
  return content;
}

function successResponses(spec: RouteSpec): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    responses[status] = {
      description: response.description,
      ...(response.schema ? { content: responseContent(response) } : {}),
    };
  }
  return responses;
}

/**
 * What the router itself answers on every route, before any handler: a malformed URL or a path
 * parameter over 100 characters is 400 INVALID_REQUEST (frameworkErrors in app.ts).
 */
const ROUTER_ERRORS: ErrorCode[] = ['INVALID_REQUEST'];

/** One response per HTTP status the route's error codes map to, listing those codes; they share the Error schema. */
function errorResponses(spec: RouteSpec): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...spec.errors, ...ROUTER_ERRORS])) {
    const status = ERROR_CATALOGUE[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, unknown> = {};
  for (const [status, codes] of byStatus) {
    responses[String(status)] = {
      description: `Error codes: ${codes.join(', ')}`,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return responses;
}

function components(): Record<string, unknown> {
  return {
    securitySchemes: {
      apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      bearer: { type: 'http', scheme: 'bearer' },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE) },
              message: { type: 'string' },
              details: { type: 'object' },
            },
          },
        },
      },
    },
  };
}

/** What every route with `auth: true` can answer before its handler runs (AUTH_RATE_LIMITED is added in app.ts). */
export const AUTH_ERRORS: ErrorCode[] = ['API_KEY_MISSING', 'API_KEY_INVALID', 'RATE_LIMITED'];

/** What a route that takes job options (languages, webhook) can answer. */
export const JOB_OPTION_ERRORS: ErrorCode[] = [
  'INVALID_REQUEST',
  'LANGUAGE_NOT_ALLOWED',
  'ENGINE_NOT_ALLOWED',
  'ENGINE_LANGUAGE_UNSUPPORTED',
  'WEBHOOKS_DISABLED',
  'WEBHOOK_URL_REFUSED',
];

/** What a route that receives an image in its body (multipart or raw) can answer. */
export const IMAGE_BODY_ERRORS: ErrorCode[] = [
  'EMPTY_BODY',
  'MULTIPART_INVALID',
  'IMAGE_TOO_LARGE',
  'PAYLOAD_TOO_LARGE',
  'IMAGE_EMPTY',
  'IMAGE_TYPE_UNSUPPORTED',
  'IMAGE_TRUNCATED',
  'UNSUPPORTED_MEDIA_TYPE',
  'UPLOADS_PER_KEY_LIMITED',
  'API_BUSY',
];

/** What a route that stores and queues can answer when a dependency is down, or the queue holds as many jobs as allowed. */
export const DEPENDENCY_ERRORS: ErrorCode[] = ['STORAGE_UNAVAILABLE', 'QUEUE_UNAVAILABLE', 'QUEUE_BACKLOG_FULL'];
