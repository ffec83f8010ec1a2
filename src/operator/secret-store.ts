// The Secrets the operator holds: only those a pipeline references, read by name. It never
// caches the cluster's Secrets: a metadata-only watch (kube.ts) tells it which Secrets exist
// and at which resourceVersion, with everything else (data, labels, annotations, where
// kubectl's last-applied-configuration could repeat the data) stripped on arrival. Before a
// reconcile, load() GETs a referenced Secret only when it exists and its resourceVersion
// differs from the copy held; a Secret absent from the watch costs no request. Copies of
// Secrets no pipeline references any more are dropped on the next load.
//
//   await store.load('finance', ['queue', 'storage']);   // before gather
//   store.get('finance', 'queue');                       // sync, in gather
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

  constructor(source: SecretSource, referenced: (namespace: string, name: string) => boolean) {
    this.#source = source;
    this.#referenced = referenced;
  }

  /** Number of Secrets held (for tests). */
  get size(): number {
    return this.#held.size;
  }

  /** Brings the named Secrets of a namespace up to the watch's view, then drops copies nobody references. */
  async load(namespace: string, names: readonly string[]): Promise<void> {
    const wanted = new Set(names.map((n) => keyOf(namespace, n)));
    for (const name of new Set(names)) {
      const key = keyOf(namespace, name);
      const version = this.#source.version(namespace, name);
      if (version === undefined) {
        this.#held.delete(key);
        continue;
      }
      if (this.#held.get(key)?.resourceVersion === version) continue;
      const secret = await this.#source.read(namespace, name);
      if (secret) this.#held.set(key, { resourceVersion: version, secret: kept(secret) });
      else this.#held.delete(key);
    }
    for (const key of this.#held.keys()) {
      const [ns = '', name = ''] = key.split('/');
      if (!wanted.has(key) && !this.#referenced(ns, name)) this.#held.delete(key);
    }
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
