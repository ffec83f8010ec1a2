// A small JSON client for the Kubernetes API, for the node agent, the service proxy and
// the platform: plain requests with the kubeconfig's credentials, and list+watch that
// keeps a local cache (a minimal informer). The generated client library does the same
// with much more ceremony around patch content types and Date-typed timestamps; the agent
// needs raw JSON (it writes status as the API server stores it).
import { KubeConfig } from '@kubernetes/client-node';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';

export class KubeError extends Error {
  override name = 'KubeError';
  readonly status: number;
  readonly reason: string | undefined;
  constructor(status: number, message: string, reason?: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeError && e.status === 404;
export const isConflict = (e: unknown): boolean => e instanceof KubeError && e.status === 409;

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface KubeList<T> {
  metadata: { resourceVersion: string };
  items: T[];
}

export type ContentType = 'application/json' | 'application/merge-patch+json' | 'application/apply-patch+yaml' | 'application/strategic-merge-patch+json';

export interface RequestInit {
  body?: unknown;
  contentType?: ContentType;
  query?: Record<string, string | number | boolean | undefined>;
  timeoutMs?: number;
}

export interface Kube {
  readonly server: string;
  readonly kubeconfigPath: string;
  request<T = KubeObject>(method: string, path: string, init?: RequestInit): Promise<T>;
  /** Opens a watch stream; calls onEvent per event until the server closes it or `signal` aborts. */
  watchStream(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (type: string, object: KubeObject) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

function withQuery(path: string, query: RequestInit['query']): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

export async function connectKube(kubeconfigPath: string): Promise<Kube> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig ${kubeconfigPath} has no current cluster: set current-context`);
  const server = cluster.server.replace(/\/$/, '');
  const base: RequestOptions = {};
  await kc.applyToHTTPSOptions(base);

  const open = (
    method: string,
    path: string,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): { req: ReturnType<typeof httpsRequest>; response: Promise<IncomingMessage> } => {
    const url = new URL(server + path);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { ...base, method, headers: { ...(base.headers ?? {}), ...headers }, ...(signal ? { signal } : {}) });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    return { req, response };
  };

  const readBody = async (res: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  return {
    server,
    kubeconfigPath,
    async request<T>(method: string, path: string, init: RequestInit = {}): Promise<T> {
      const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body !== undefined) {
        headers['content-type'] = init.contentType ?? 'application/json';
        // explicit length: the API server ignores a chunked DELETE body (DeleteOptions)
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      const { req, response } = open(method, withQuery(path, init.query), headers);
      req.setTimeout(init.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${path} timed out after ${init.timeoutMs ?? 30_000} ms`)));
      req.end(body);
      const res = await response;
      const text = await readBody(res);
      const status = res.statusCode ?? 0;
      if (status >= 400) {
        let message = text;
        let reason: string | undefined;
        try {
          const parsed = JSON.parse(text) as { message?: string; reason?: string };
          message = parsed.message ?? text;
          reason = parsed.reason;
        } catch {
          /* not JSON */
        }
        throw new KubeError(status, `${method} ${path}: ${status} ${message}`, reason);
      }
      return (text ? JSON.parse(text) : {}) as T;
    },
    async watchStream(path, query, onEvent, signal) {
      const { req, response } = open('GET', withQuery(path, { ...query, watch: true }), { accept: 'application/json' }, signal);
      req.end();
      const res = await response;
      if ((res.statusCode ?? 0) >= 400) {
        const text = await readBody(res);
        throw new KubeError(res.statusCode ?? 0, `watch ${path}: ${res.statusCode} ${text}`);
      }
      let buffer = '';
      for await (const chunk of res) {
        buffer += (chunk as Buffer).toString('utf8');
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          const event = JSON.parse(line) as { type: string; object: KubeObject };
          if (event.type === 'ERROR') {
            const status = event.object as { code?: number; message?: string };
            throw new KubeError(status.code ?? 500, `watch ${path}: ${status.message ?? 'error event'}`);
          }
          onEvent(event.type, event.object);
        }
      }
    },
  };
}

export const keyOf = (o: KubeObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export interface Informer<T extends KubeObject> {
  /** Current objects by namespace/name. */
  readonly items: ReadonlyMap<string, T>;
  /** Resolves after the first list. */
  readonly synced: Promise<void>;
  stop(): void;
}

/**
 * List, then watch from the list's resourceVersion; on a closed stream re-watch, on an
 * expired version ("410 Gone") or any error re-list after a short pause. Calls onChange
 * for every add, update and delete (and for objects that vanished between lists).
 */
export function inform<T extends KubeObject>(
  kube: Kube,
  path: string,
  query: Record<string, string | undefined>,
  onChange: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T) => void,
  onError: (error: Error) => void = () => {},
): Informer<T> {
  const items = new Map<string, T>();
  const abort = new AbortController();
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((resolve) => {
    markSynced = resolve;
  });
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      abort.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          r();
        },
        { once: true },
      );
    });

  const run = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      try {
        const list = await kube.request<KubeList<T>>('GET', path, { query });
        const seen = new Set<string>();
        for (const item of list.items) {
          const key = keyOf(item);
          seen.add(key);
          const before = items.get(key);
          items.set(key, item);
          if (before?.metadata?.resourceVersion !== item.metadata?.resourceVersion) onChange(before ? 'MODIFIED' : 'ADDED', item);
        }
        for (const [key, item] of items) {
          if (!seen.has(key)) {
            items.delete(key);
            onChange('DELETED', item);
          }
        }
        markSynced();
        let resourceVersion = list.metadata.resourceVersion;
        while (!abort.signal.aborted) {
          await kube.watchStream(
            path,
            { ...query, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 240 },
            (type, object) => {
              resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
              if (type === 'BOOKMARK') return;
              const item = object as T;
              if (type === 'DELETED') items.delete(keyOf(item));
              else items.set(keyOf(item), item);
              onChange(type as 'ADDED' | 'MODIFIED' | 'DELETED', item);
            },
            abort.signal,
          );
        }
      } catch (error) {
        if (abort.signal.aborted) return;
        if (!(error instanceof KubeError && error.status === 410)) onError(error as Error);
        await sleep(1_000);
      }
    }
  };
  void run();
  return { items, synced, stop: () => abort.abort() };
}
