// The operator's own HTTP client for the Kubernetes API (issue 14): JSON requests and watch
// streams over ONE undici Agent, so every call and every watch share a keep-alive connection
// pool (HTTP/2 when the API server offers it over TLS: one connection carries every watch and
// call; test/integration/operator/idle.test.ts counts them). A timeout on every request, 429 and
// 5xx retried with Retry-After and capped backoff (retry.ts), and one observe() per answer for
// the ocr_operator_api_requests_total metric.
//
// Why not @kubernetes/client-node at run time: its dist/config.js imports every generated API
// class and model, 55-80 MiB of RSS for the few calls the operator makes. Types from it are
// still used (`import type`, erased at run time).
import { Agent } from 'undici';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../shared/logger.ts';
import type { ClusterAccess } from './kubeconfig.ts';
import { DEFAULT_REQUEST_POLICY, parseRetryAfter, resourceOf, retryDelay, retryableStatus, type RequestPolicy } from './retry.ts';

export type Verb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Query = Record<string, string | number | boolean | undefined>;

export interface KubeRequest {
  method: Verb;
  /** API path without the server, e.g. /api/v1/namespaces/ns/secrets/s. */
  path: string;
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Default application/json; e.g. application/apply-patch+yaml (server-side apply takes JSON too) or application/merge-patch+json. */
  contentType?: string;
  /** Default application/json; a PartialObjectMetadata(List) representation for metadata-only reads. */
  accept?: string;
}

/**
 * A non-2xx answer of the API server. `code` is the HTTP status and `body` the parsed Status
 * (or the text when it is not JSON): the shape reconcile/reconciler.ts describeError and every
 * `err.code === 404/409` check read.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: number;
  readonly body: unknown;
  constructor(method: string, path: string, code: number, body: unknown) {
    const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : body;
    super(`${method} ${path}: HTTP ${code}${typeof message === 'string' && message ? `: ${message}` : ''}`);
    this.code = code;
    this.body = body;
  }
}

/** The error a timed-out attempt ends with, named so logs and describeError say what happened. */
export class RequestTimeoutError extends Error {
  override name = 'RequestTimeoutError';
}

export interface KubeClientOptions {
  log: Logger;
  policy?: Partial<RequestPolicy>;
  /** Called once per HTTP answer or failure of an API call (not watches): verb, resource (resourceOf), status (0: no answer), for a request counter. */
  observe?: (verb: string, resource: string, status: number) => void;
  random?: () => number;
}

/** An open watch response: its status and, for 200, the body stream of newline-separated JSON events. */
export interface OpenStream {
  statusCode: number;
  body: Readable;
}

const USER_AGENT = 'ocr-platform-operator';
/** TCP keep-alive probe of idle connections, in ms (the interval client-node used). */
const TCP_KEEPALIVE_MS = 30_000;

export const queryString = (query: Query | undefined): string => {
  const entries = Object.entries(query ?? {}).filter((e): e is [string, string | number | boolean] => e[1] !== undefined);
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString()}` : '';
};

/** One API server, one connection pool; see the top of this file. */
export class KubeClient {
  readonly server: string;
  readonly #access: ClusterAccess;
  readonly #agent: Agent;
  readonly #origin: string;
  readonly #basePath: string;
  readonly #policy: RequestPolicy;
  readonly #opts: KubeClientOptions;

  constructor(access: ClusterAccess, opts: KubeClientOptions) {
    this.#access = access;
    this.server = access.server;
    const url = new URL(access.server);
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#policy = { ...DEFAULT_REQUEST_POLICY, ...opts.policy };
    this.#opts = opts;
    const { tls } = access;
    this.#agent = new Agent({
      allowH2: true,
      // Watches stay open for minutes; their own inactivity timer (informer.ts) ends dead ones. Calls carry a per-attempt signal.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: {
        keepAlive: true,
        keepAliveInitialDelay: TCP_KEEPALIVE_MS,
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
        ...(tls.servername ? { servername: tls.servername } : {}),
        rejectUnauthorized: !tls.insecureSkipVerify,
      },
    });
  }

  /** The one dispatcher of this client (tests check that calls and watches share it). */
  get dispatcher(): Agent {
    return this.#agent;
  }

  #headers(accept: string | undefined, contentType: string | undefined): Record<string, string> {
    const token = this.#access.token();
    const basic = this.#access.basic;
    return {
      'user-agent': USER_AGENT,
      accept: accept ?? 'application/json',
      ...(contentType ? { 'content-type': contentType } : {}),
      ...(token
        ? { authorization: `Bearer ${token}` }
        : basic
          ? { authorization: `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}` }
          : {}),
    };
  }

  /**
   * One API call with the policy's timeout per attempt and retries of 429/5xx; resolves with the
   * parsed JSON answer (undefined for an empty one), rejects with ApiError for any other non-2xx.
   */
  async request<T = unknown>(req: KubeRequest): Promise<T> {
    const path = `${this.#basePath}${req.path}${queryString(req.query)}`;
    const resource = resourceOf(req.path);
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers = this.#headers(req.accept, body === undefined ? undefined : (req.contentType ?? 'application/json'));
    for (let attempt = 1; ; attempt++) {
      const signal = AbortSignal.timeout(this.#policy.timeoutMs);
      let status: number;
      let text: string;
      let retryAfter: string | undefined;
      try {
        const res = await this.#agent.request({ origin: this.#origin, path, method: req.method, headers, body, signal });
        status = res.statusCode;
        retryAfter = [res.headers['retry-after']].flat()[0];
        text = await res.body.text();
      } catch (err) {
        this.#opts.observe?.(req.method, resource, 0);
        if (signal.aborted) throw new RequestTimeoutError(`${req.method} ${req.path}: no answer within ${this.#policy.timeoutMs} ms`);
        throw err;
      }
      this.#opts.observe?.(req.method, resource, status);
      if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
      if (!retryableStatus(status) || attempt >= this.#policy.maxAttempts) throw new ApiError(req.method, req.path, status, parseBody(text));
      const wait = retryDelay(attempt, parseRetryAfter(retryAfter, Date.now()), this.#policy, this.#opts.random);
      this.#opts.log.debug({ verb: req.method, path: req.path, status, attempt, retryInMs: wait }, 'Retrying an API request');
      await sleep(wait);
    }
  }

  /**
   * Opens a watch (or any streamed GET): no timeout and no retry here; the caller owns the
   * stream and ends it with `signal`. A non-200 answer's body is read into an ApiError.
   */
  async stream(path: string, query: Query, accept: string | undefined, signal: AbortSignal): Promise<Readable> {
    const res = await this.#agent.request({
      origin: this.#origin,
      path: `${this.#basePath}${path}${queryString(query)}`,
      method: 'GET',
      headers: this.#headers(accept, undefined),
      signal,
    });
    if (res.statusCode !== 200) throw new ApiError('GET', path, res.statusCode, parseBody(await res.body.text()));
    return res.body;
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
