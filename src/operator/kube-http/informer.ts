// A list+watch cache of one kind in one namespace (or all), as client-go's reflector keeps
// one: list, then watch from the list's resourceVersion with bookmarks and a server-side
// timeout, resume from the last seen resourceVersion when a watch ends, relist after
// 410 Gone, and restart a failed watch after a growing, capped, jittered delay. Lists are read
// in pages (limit/continue, LIST_PAGE_SIZE objects each, as client-go's pager does), and every
// listed and watched object passes through `trim` as it arrives, before it is cached (the
// caller keeps only what it reads): a cold start holds one page of full objects at a time, not
// every object of the kind at once. Callbacks: add, update (a new resourceVersion of a cached
// object), delete (a watch DELETED event, or an object missing from a relist).
// An optional kind (a CRD that may not be installed, KEDA's ScaledObject) whose list answers
// 404 or 403 is not an error: the cache stays empty and the list is tried again every
// `optional.recheckMs`, so the kind is picked up once it is installed and permitted.
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../shared/logger.ts';
import { ApiError, type KubeClient, type Query } from './client.ts';

export type InformerVerb = 'add' | 'update' | 'delete';

/** Watch retry delays, in ms: the first, the largest, and how long a watch must have run without error before the delay starts over. */
export const WATCH_RETRY = { baseMs: 1_000, maxMs: 60_000, healthyMs: 60_000, jitter: 0.2 } as const;

/**
 * The next delay before restarting a failed watch, and the un-jittered delay to remember for the
 * next failure: doubling from baseMs up to maxMs, back to baseMs only after the watch ran
 * healthyMs without error (a watch that connects and fails at once keeps growing), ±jitter.
 * @param previousMs the remembered delay of the last failure; 0 for none
 * @param healthyForMs how long the watch ran since its last (re)start
 */
export function watchRetryDelay(previousMs: number, healthyForMs: number, random: () => number = Math.random): { waitMs: number; nextMs: number } {
  const nextMs = previousMs === 0 || healthyForMs >= WATCH_RETRY.healthyMs ? WATCH_RETRY.baseMs : Math.min(WATCH_RETRY.maxMs, previousMs * 2);
  return { waitMs: Math.round(nextMs * (1 + WATCH_RETRY.jitter * (2 * random() - 1))), nextMs };
}

/**
 * Objects per list page. Measured at 250 pipelines (bench:operator's cluster): the namespace's
 * Deployments list is 4.4 MB of JSON (17.6 KB each, managedFields included), pods 4.3 MB, HPAs
 * 1.7 MB, pipelines 1.7 MB, PDBs 1.0 MB, Services 0.45 MB: 13.5 MB at once, about 54 MB at
 * 1,000 pipelines, all parsed before any was trimmed. client-go's pager default of 500 would
 * still be a 9 MB page of Deployments at 1,000 pipelines and one page per kind at 250; 100
 * keeps a page under 2 MB for 20 list requests per kind at 1,000 pipelines, on a cold start only.
 */
export const LIST_PAGE_SIZE = 100;

/** Shortest server-side watch timeout, in seconds (client-go's minimum is 5 min too). */
const WATCH_TIMEOUT_SECONDS = 300;

/**
 * Query parameters of every watch: bookmarks (the API server tells a quiet watch its current
 * resourceVersion, so a reconnect resumes from there instead of relisting) and a server-side
 * timeout (a watch ends cleanly and is reopened from its last resourceVersion over the same
 * pooled connection), 5 to 10 min at random so the watches of a process do not end together.
 */
export function watchQuery<Q extends Query>(query: Q, random: () => number = Math.random): Q & { allowWatchBookmarks: true; timeoutSeconds: number } {
  return { ...query, allowWatchBookmarks: true, timeoutSeconds: Math.round(WATCH_TIMEOUT_SECONDS * (1 + random())) };
}

/**
 * Client-side inactivity limit of a watch, in ms: longer than the API server's bookmark
 * interval (about one a minute), so a quiet but healthy watch is not torn down; a dead
 * connection still ends within it (then the watch resumes at once from its resourceVersion).
 */
export const WATCH_INACTIVITY_MS = 150_000;

/** A watch that ended before it ran this long (ms) without any event counts as failed, so a server that closes at once is not hammered. */
const MIN_CLEAN_WATCH_MS = 1_000;

export interface InformerOptions<T extends KubernetesObject> {
  /** The collection's path, e.g. /apis/apps/v1/namespaces/ns/deployments. */
  path: string;
  labelSelector?: string | undefined;
  /** Accept headers of the list and of the watch (a PartialObjectMetadata representation); default JSON objects. */
  accept?: { list: string; watch: string };
  trim: (o: KubernetesObject) => T;
  log: Logger;
  random?: () => number;
  /** Client-side inactivity limit of a watch, in ms (default WATCH_INACTIVITY_MS); tests shorten it. */
  inactivityMs?: number;
  /** Objects per list page (default LIST_PAGE_SIZE); tests shrink it. */
  pageSize?: number;
  /**
   * The kind may not be served (a CRD not installed) or not permitted (RBAC without it): a list
   * answering 404 or 403 empties the cache, is logged once, and is tried again every recheckMs.
   */
  optional?: { recheckMs: number };
}

/** One page of a list answer. */
interface ListPage {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KubernetesObject[] | null;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubernetesObject & { code?: number };
}

class WatchInactiveError extends Error {
  override name = 'WatchInactiveError';
}
class WatchEndedAtOnceError extends Error {
  override name = 'WatchEndedAtOnceError';
}

const nsOf = (o: KubernetesObject) => o.metadata?.namespace ?? '';
const nameOf = (o: KubernetesObject) => o.metadata?.name ?? '';

export class Informer<T extends KubernetesObject> {
  readonly #client: KubeClient;
  readonly #opts: InformerOptions<T>;
  readonly #random: () => number;
  /** namespace ('' for cluster-scoped) -> name -> trimmed object */
  #objects = new Map<string, Map<string, T>>();
  #resourceVersion = '';
  #callbacks: Record<InformerVerb, ((o: T) => void)[]> = { add: [], update: [], delete: [] };
  #stop = new AbortController();
  #watch: AbortController | undefined;
  #loop: Promise<void> | undefined;
  /** An optional kind whose last list answered 404/403 (see InformerOptions.optional). */
  #absent = false;

  constructor(client: KubeClient, opts: InformerOptions<T>) {
    this.#client = client;
    this.#opts = opts;
    this.#random = opts.random ?? Math.random;
  }

  on(verb: InformerVerb, cb: (o: T) => void): void {
    this.#callbacks[verb].push(cb);
  }

  get(name: string, namespace: string | undefined): T | undefined {
    return this.#objects.get(namespace ?? '')?.get(name);
  }

  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.#objects.values()].flatMap((m) => [...m.values()]);
    return [...(this.#objects.get(namespace)?.values() ?? [])];
  }

  /** False while an optional kind is not served or not permitted (its last list answered 404 or 403). */
  get served(): boolean {
    return !this.#absent;
  }

  /** The last resourceVersion seen (list, event or bookmark); '' before the first list and after 410 Gone. */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  /**
   * Lists once and starts watching in the background; resolves after that first list, also
   * when it failed (then it is logged and retried with backoff, as any failed watch).
   */
  async start(): Promise<void> {
    if (this.#loop) return;
    this.#stop = new AbortController();
    let delayMs = 0;
    try {
      await this.#relist();
    } catch (err) {
      if (!this.#notServed(err)) delayMs = await this.#failed(err, 0, 0);
    }
    this.#loop = this.#run(delayMs);
  }

  /**
   * An optional kind's 404/403: empties the cache (delete callbacks), logs once per absence, and
   * leaves the resourceVersion empty so the loop lists again after optional.recheckMs. False for
   * any other error, or for a kind that is not optional.
   */
  #notServed(err: unknown): boolean {
    const code = (err as { code?: unknown }).code;
    if (!this.#opts.optional || (code !== 404 && code !== 403)) return false;
    for (const o of this.list()) this.#delete(o);
    this.#resourceVersion = '';
    if (!this.#absent) {
      const why = code === 404 ? 'not served (its CRD is not installed)' : 'not permitted (RBAC)';
      this.#opts.log.info({ path: this.#opts.path, recheckInMs: this.#opts.optional.recheckMs }, `The kind is ${why}; checking again periodically`);
    }
    this.#absent = true;
    return true;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#watch?.abort();
    await this.#loop;
    this.#loop = undefined;
  }

  async #run(initialDelayMs: number): Promise<void> {
    let delayMs = initialDelayMs;
    while (!this.#stop.signal.aborted) {
      const startedAt = performance.now();
      try {
        if (this.#absent) await sleep(this.#opts.optional?.recheckMs ?? 0, undefined, { signal: this.#stop.signal });
        if (!this.#resourceVersion) await this.#relist();
        await this.#watchOnce();
      } catch (err) {
        if (this.#stop.signal.aborted) return;
        if (this.#notServed(err)) continue;
        if ((err as { code?: unknown }).code === 410)
          this.#resourceVersion = ''; // Gone: relist at once
        else if (!(err instanceof WatchInactiveError)) delayMs = await this.#failed(err, delayMs, performance.now() - startedAt);
      }
    }
  }

  /** Logs a failure and waits watchRetryDelay (or until stopped); returns the delay to remember. */
  async #failed(err: unknown, delayMs: number, healthyForMs: number): Promise<number> {
    const { waitMs, nextMs } = watchRetryDelay(delayMs, healthyForMs, this.#random);
    this.#opts.log.warn({ path: this.#opts.path, err, retryInMs: waitMs }, 'Failed to watch; restarting');
    await sleep(waitMs, undefined, { signal: this.#stop.signal }).catch(() => undefined);
    return nextMs;
  }

  /**
   * Lists page by page (limit/continue), trimming each page's objects before the next page is
   * read, then updates the cache from the whole list. A continue token that expired mid-list
   * (410) fails the list; the loop relists from the start. Every page carries the list's
   * resourceVersion (one snapshot); the watch starts there.
   */
  async #relist(): Promise<void> {
    const items: T[] = [];
    let resourceVersion = '';
    let cont: string | undefined;
    do {
      const page: ListPage = await this.#client.request<ListPage>({
        method: 'GET',
        path: this.#opts.path,
        query: { labelSelector: this.#opts.labelSelector, limit: this.#opts.pageSize ?? LIST_PAGE_SIZE, continue: cont },
        ...(this.#opts.accept ? { accept: this.#opts.accept.list } : {}),
      });
      for (const o of page.items ?? []) items.push(this.#opts.trim(o)); // an empty metadata list has items: null
      resourceVersion ||= page.metadata?.resourceVersion ?? '';
      cont = page.metadata?.continue || undefined;
    } while (cont);
    if (this.#absent) this.#opts.log.info({ path: this.#opts.path }, 'The kind is served and permitted now; watching it');
    this.#absent = false;
    const fresh = new Set(items.map((o) => `${nsOf(o)}/${nameOf(o)}`));
    for (const o of this.list()) if (!fresh.has(`${nsOf(o)}/${nameOf(o)}`)) this.#delete(o);
    for (const o of items) this.#addOrUpdate(o);
    this.#resourceVersion = resourceVersion;
  }

  async #watchOnce(): Promise<void> {
    const abort = new AbortController();
    this.#watch = abort;
    const query = watchQuery({ watch: true, resourceVersion: this.#resourceVersion, labelSelector: this.#opts.labelSelector }, this.#random);
    const inactivityMs = this.#opts.inactivityMs ?? WATCH_INACTIVITY_MS;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(new WatchInactiveError(`no data for ${inactivityMs} ms`)), inactivityMs);
      timer.unref();
    };
    const startedAt = performance.now();
    let events = 0;
    try {
      arm();
      const body = await this.#client.stream(this.#opts.path, query, this.#opts.accept?.watch, abort.signal);
      body.setEncoding('utf8');
      let pending = '';
      for await (const chunk of body as AsyncIterable<string>) {
        arm();
        pending += chunk;
        for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line) events += this.#event(JSON.parse(line) as WatchEvent);
        }
      }
    } catch (err) {
      throw abort.signal.reason instanceof WatchInactiveError ? abort.signal.reason : err;
    } finally {
      clearTimeout(timer);
      this.#watch = undefined;
    }
    if (events === 0 && performance.now() - startedAt < MIN_CLEAN_WATCH_MS) throw new WatchEndedAtOnceError(`the watch of ${this.#opts.path} ended at once`);
  }

  /** Applies one watch event to the cache; 1 when it was one. An ERROR event ends the watch (410: relist). */
  #event(e: WatchEvent): number {
    if (e.type === 'ERROR') throw new ApiError('WATCH', this.#opts.path, e.object.code ?? 500, e.object);
    if (e.type === 'ADDED' || e.type === 'MODIFIED') this.#addOrUpdate(this.#opts.trim(e.object));
    else if (e.type === 'DELETED') this.#delete(this.#opts.trim(e.object));
    this.#resourceVersion = e.object.metadata?.resourceVersion ?? this.#resourceVersion;
    return 1;
  }

  #addOrUpdate(o: T): void {
    const ns = nsOf(o);
    const byName = this.#objects.get(ns) ?? new Map<string, T>();
    this.#objects.set(ns, byName);
    const found = byName.get(nameOf(o));
    if (found && found.metadata?.resourceVersion !== undefined && found.metadata.resourceVersion === o.metadata?.resourceVersion) return;
    byName.set(nameOf(o), o);
    for (const cb of this.#callbacks[found ? 'update' : 'add']) cb(o);
  }

  #delete(o: T): void {
    const byName = this.#objects.get(nsOf(o));
    if (!byName?.delete(nameOf(o))) return;
    if (byName.size === 0) this.#objects.delete(nsOf(o));
    for (const cb of this.#callbacks.delete) cb(o);
  }
}
