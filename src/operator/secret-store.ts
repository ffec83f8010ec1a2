// The Secrets the operator holds: only those a pipeline references, read by name. It never
// caches the cluster's Secrets: a metadata-only watch (kube.ts) tells it which Secrets exist
// and at which resourceVersion, with everything else (data, labels, annotations, where
// kubectl's last-applied-configuration could repeat the data) stripped on arrival. Before a
// reconcile, load() GETs a referenced Secret only when it exists and its resourceVersion
// differs from the copy held; a Secret absent from the watch costs no request. Copies of
// Secrets no pipeline references any more are dropped after a load, in a later turn of the
// event loop (pruneDelayMs, default 5 s), never while a load that wants them runs.
//
//   await store.load('finance', ['queue', 'storage']);   // before gather
//   store.get('finance', 'queue');                       // sync, in gather, in the turn the load resolved
//
// Why a later turn: the reconciler indexes a pipeline's Secrets (SecretIndex, which answers
// `referenced`) only in gather, after its load resolved. Several reconciles load at once
// (--concurrency), and two of their reads can complete in one turn (two HTTP/2 streams in one
// socket read): a prune at the end of the second load dropped the copy the first had just
// loaded and not yet indexed, its gather saw no API keys Secret, and the apply step tried to
// create it again (409). At 1,000 pipelines a restart of a converged operator made 3 such writes.
// Why not at once after each load: a prune passes over every copy held, so one per load is
// O(pipelines) per reconcile; in bench:operator's CPU profile of a resync at 1,000 pipelines
// that pass (and SecretIndex.pipelinesFor inside it) took 18 % of the operator's CPU. One pass
// per pruneDelayMs after loads costs nothing measurable, and a copy nobody references lives at
// most that much longer.
import type { V1Secret } from '@kubernetes/client-node';

export interface SecretSource {
  /** The Secret's resourceVersion as the metadata watch last saw it; undefined when it does not exist. */
  version(namespace: string, name: string): string | undefined;
  /** GET by name; undefined when it does not exist (404). Other errors are thrown. */
  read(namespace: string, name: string): Promise<V1Secret | undefined>;
}

interface Held {
  /** The resourceVersion the watch showed when the copy was read (or the copy's own). */
  resourceVersion: string;
  secret: V1Secret;
}

const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

/** What gather uses of a Secret: its name and data (stringData for objects not yet merged by the API server). */
function kept(s: V1Secret): V1Secret {
  return {
    metadata: { name: s.metadata?.name ?? '', namespace: s.metadata?.namespace ?? '', resourceVersion: s.metadata?.resourceVersion ?? '' },
    ...(s.data ? { data: s.data } : {}),
    ...(s.stringData ? { stringData: s.stringData } : {}),
  };
}

export class SecretStore {
  readonly #source: SecretSource;
  /** Whether any pipeline references the Secret (the SecretIndex); unreferenced copies are dropped. */
  readonly #referenced: (namespace: string, name: string) => boolean;
  readonly #held = new Map<string, Held>();
  /** Keys wanted by loads still running, with how many of them want each: never pruned. */
  readonly #loading = new Map<string, number>();
  #pruneScheduled = false;
  readonly #pruneDelayMs: number;

  /** @param options.pruneDelayMs how long after a load unreferenced copies are dropped, in ms; default 5,000 */
  constructor(source: SecretSource, referenced: (namespace: string, name: string) => boolean, options: { pruneDelayMs?: number } = {}) {
    this.#source = source;
    this.#referenced = referenced;
    this.#pruneDelayMs = options.pruneDelayMs ?? 5_000;
  }

  /** Number of Secrets held (for tests). */
  get size(): number {
    return this.#held.size;
  }

  /** Brings the named Secrets of a namespace up to the watch's view; copies nobody references are dropped in a later turn. */
  async load(namespace: string, names: readonly string[]): Promise<void> {
    const unique = [...new Set(names)];
    const wanted = unique.map((name) => keyOf(namespace, name));
    for (const key of wanted) this.#loading.set(key, (this.#loading.get(key) ?? 0) + 1);
    try {
      for (const name of unique) await this.#refresh(namespace, name);
    } finally {
      for (const key of wanted) {
        const n = (this.#loading.get(key) ?? 1) - 1;
        if (n > 0) this.#loading.set(key, n);
        else this.#loading.delete(key);
      }
      this.#schedulePrune();
    }
  }

  /** One Secret up to the watch's view: dropped when the watch does not show it, read again at a new version. */
  async #refresh(namespace: string, name: string): Promise<void> {
    const key = keyOf(namespace, name);
    const version = this.#source.version(namespace, name);
    if (version === undefined) {
      this.#held.delete(key);
      return;
    }
    if (this.#held.get(key)?.resourceVersion === version) return;
    const secret = await this.#source.read(namespace, name);
    if (secret) this.#held.set(key, { resourceVersion: version, secret: kept(secret) });
    else this.#held.delete(key);
  }

  /**
   * Drops copies no pipeline references, pruneDelayMs after a load (one pass for every load in
   * between): by then every finished load's caller has run its gather and indexed what it read
   * (see the top of this file). Keys a running load wants stay.
   */
  #schedulePrune(): void {
    if (this.#pruneScheduled) return;
    this.#pruneScheduled = true;
    setTimeout(() => {
      this.#pruneScheduled = false;
      for (const key of this.#held.keys()) {
        const [ns = '', name = ''] = key.split('/');
        if (!this.#loading.has(key) && !this.#referenced(ns, name)) this.#held.delete(key);
      }
    }, this.#pruneDelayMs).unref();
  }

  /** The copy read by the last load; undefined when the Secret does not exist or was not loaded. */
  get(namespace: string, name: string): V1Secret | undefined {
    return this.#held.get(keyOf(namespace, name))?.secret;
  }

  /** The watch saw the Secret deleted: drop the copy at once. */
  forget(namespace: string, name: string): void {
    this.#held.delete(keyOf(namespace, name));
  }
}
