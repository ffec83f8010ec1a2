// How the operator talks to the API server: one connection pool, a timeout on every request,
// and 429/5xx retried with Retry-After and capped backoff.
//
// Why a KubeConfig subclass: @kubernetes/client-node 2.0.x builds a new undici Agent in every
// KubeConfig.applySecurityAuthentication call whenever a CA or client certificate is
// configured (dist/config.js createDispatcher: `new UndiciAgent({ connect })`), so every request
// and every watch start was a TCP + TLS handshake of its own. Here the dispatcher is built once
// and shared by every API call and watch of this KubeConfig (keep-alive, 30 s TCP keep-alive probe
// as the library sets it; undici 8 offers HTTP/2 by default and kube-apiserver accepts it, so one
// TLS connection carries every watch stream and call: test/integration/operator/idle.test.ts
// counts them). API calls go through our HttpLibrary (makeApiClient below); watches take the
// dispatcher from applySecurityAuthentication and bring their own abort signal.
import {
  KubeConfig,
  RequestContext,
  ResponseContext,
  ServerConfiguration,
  createConfiguration,
  wrapHttpLibrary,
  type HttpLibrary,
} from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../shared/logger.ts';

export interface RequestPolicy {
  /** Per attempt, in ms: a hung call fails instead of holding a queue worker (undici's own default is 300 s). Default 30 000. */
  timeoutMs: number;
  /** Attempts of one call, the first included (default 5): 429 and 5xx are retried, anything else is returned at once. */
  maxAttempts: number;
  /** First backoff in ms without Retry-After (default 250); doubles per attempt. */
  baseDelayMs: number;
  /** Largest wait between attempts in ms, Retry-After included (default 10 000). */
  maxDelayMs: number;
}

export const DEFAULT_REQUEST_POLICY: RequestPolicy = { timeoutMs: 30_000, maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 10_000 };

/** Statuses worth another attempt: API Priority and Fairness (429) and the server's transient errors. */
export const retryableStatus = (status: number): boolean => status === 429 || status === 500 || status === 502 || status === 503 || status === 504;

/**
 * Retry-After as ms from now: delta-seconds ("3", "0") or an HTTP-date; undefined when absent
 * or unreadable (then the backoff decides). A date in the past reads 0.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/^[A-Za-z]{3}, /.test(v)) return undefined; // an IMF-fixdate starts with the day name
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Wait before attempt `attempt + 1` (attempt 1 = the first failed one), never above maxDelayMs:
 * the server's Retry-After when it sent one, else baseDelayMs * 2^(attempt-1) with full jitter
 * (a random point in the upper half), so many callers refused at once do not retry in step.
 */
export function retryDelay(attempt: number, retryAfterMs: number | undefined, policy: RequestPolicy, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(policy.maxDelayMs, retryAfterMs);
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}

export interface KubeClientOptions {
  log: Logger;
  policy?: Partial<RequestPolicy>;
  /** Called once per HTTP response or failure of an API call (not watches): verb, resource (resourceOf), status (0: no answer), for a request counter. */
  observe?: (verb: string, resource: string, status: number) => void;
  random?: () => number;
}

type DispatcherFactory = (...args: unknown[]) => unknown;

/** A KubeConfig whose API clients and watches share one connection pool, with timeouts and retries on API calls. */
export class PooledKubeConfig extends KubeConfig {
  #http: HttpLibrary;

  constructor(opts: KubeClientOptions) {
    super();
    const policy = { ...DEFAULT_REQUEST_POLICY, ...opts.policy };
    // The library's default HttpLibrary (undici fetch), which createConfiguration picks without httpApi.
    const inner = createConfiguration().httpApi;
    this.#http = wrapHttpLibrary({ send: (ctx) => sendWithRetries(inner, ctx, policy, opts) });
    // Memoise the private createDispatcher (see the top of this file): one Agent for the process.
    const self = this as unknown as { createDispatcher?: DispatcherFactory };
    const original = self.createDispatcher;
    if (typeof original === 'function') {
      let shared: { value: unknown } | undefined;
      self.createDispatcher = (...args) => (shared ??= { value: original.apply(this, args) }).value;
    }
  }

  override makeApiClient<T>(apiClientType: new (config: ReturnType<typeof createConfiguration>) => T): T {
    const cluster = this.getCurrentCluster();
    if (!cluster) throw new Error('No active cluster in the kubeconfig');
    const config = createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: this }, httpApi: this.#http });
    return new apiClientType(config);
  }
}

/**
 * The resource of an API path, with its subresource: /apis/apps/v1/namespaces/ns/deployments/d -> "deployments",
 * .../ocrpipelines/p/status -> "ocrpipelines/status", /api/v1/namespaces/ns -> "namespaces". A small set of values, for a metric label.
 */
export function resourceOf(url: string): string {
  const parts = new URL(url).pathname.split('/').filter(Boolean);
  const start = parts[0] === 'api' ? 2 : 3; // /api/v1/... or /apis/<group>/<version>/...
  const rest = parts.slice(start);
  const scoped = rest[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
  return scoped.length > 2 ? `${scoped[0]}/${scoped[2]}` : (scoped[0] ?? '');
}

/** The error a timed-out attempt ends with, named so logs and describeError say what happened. */
class RequestTimeoutError extends Error {
  override name = 'RequestTimeoutError';
}

async function sendWithRetries(inner: HttpLibrary, ctx: RequestContext, policy: RequestPolicy, opts: KubeClientOptions): Promise<ResponseContext> {
  const verb = ctx.getHttpMethod().toString();
  const resource = resourceOf(ctx.getUrl());
  ctx.setHeaderParam('User-Agent', 'ocr-platform-operator');
  for (let attempt = 1; ; attempt++) {
    ctx.setSignal(AbortSignal.timeout(policy.timeoutMs));
    let res: ResponseContext;
    try {
      res = await inner.send(ctx).toPromise();
    } catch (err) {
      opts.observe?.(verb, resource, 0);
      if ((err as Error).name === 'TimeoutError') throw new RequestTimeoutError(`${verb} ${ctx.getUrl()}: no answer within ${policy.timeoutMs} ms`);
      throw err;
    }
    opts.observe?.(verb, resource, res.httpStatusCode);
    if (!retryableStatus(res.httpStatusCode) || attempt >= policy.maxAttempts) return res;
    const wait = retryDelay(attempt, parseRetryAfter(res.headers['retry-after'], Date.now()), policy, opts.random);
    await res.body.text().catch(() => undefined); // release the connection before waiting
    opts.log.debug({ verb, url: ctx.getUrl(), status: res.httpStatusCode, attempt, retryInMs: wait }, 'Retrying an API request');
    await sleep(wait);
  }
}
