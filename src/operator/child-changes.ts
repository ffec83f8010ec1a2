// Which watch events should wake a reconcile. Every write the operator makes comes back as a
// watch event (its status writes as pipeline updates, its applies as child updates), and the
// Deployment and HPA controllers write status all the time; reacting to each re-ran the
// reconcile about 25 times per new pipeline. These filters let an event through only when
// something the reconcile reads changed (controller-runtime's GenerationChangedPredicate for
// pipelines; a fingerprint of the cached child for children).
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { LABELS } from '../contract/labels.ts';
import { stableStringify } from './desired/common.ts';

type Verb = 'add' | 'update' | 'delete';
const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * Pipelines: added, deleted, a new metadata.generation (a spec change) or a deletionTimestamp.
 * Status-only updates, ours included, do not count: the reconcile writes status from the world,
 * not from the status it finds, and a foreign status edit is repaired by the next resync.
 */
export class PipelineChanges {
  #seen = new Map<string, string>(); // namespace/name -> generation and deletion

  /** The pipeline key to reconcile for this event, or undefined. */
  changed(verb: Verb, o: KubernetesObject): string | undefined {
    const key = keyOf(o);
    if (verb === 'delete') {
      this.#seen.delete(key);
      return key;
    }
    const mark = `${o.metadata?.generation ?? ''}/${o.metadata?.deletionTimestamp ? 'deleting' : ''}`;
    if (this.#seen.get(key) === mark) return undefined;
    this.#seen.set(key, mark);
    return key;
  }
}

/**
 * The part of a cached child (kube.ts trimChild) the reconcile reads: everything but the
 * resourceVersion, managedFields and timestamps. A status write that changes only those
 * (a Deployment controller's heartbeat, our own apply of an unchanged child) wakes nothing.
 */
export function childFingerprint(o: KubernetesObject): string {
  const { resourceVersion: _rv, managedFields: _mf, creationTimestamp: _ct, ...metadata } = o.metadata ?? {};
  return stableStringify({ ...o, metadata });
}

/** Children: the owning pipeline's key when the child appeared, vanished, or its fingerprint changed. */
export class ChildChanges {
  #seen = new Map<string, string>(); // kind/namespace/name -> sha256 of the fingerprint (small, one per child)

  changed(verb: Verb, kind: string, o: KubernetesObject): string | undefined {
    const pipeline = o.metadata?.labels?.[LABELS.pipeline];
    const key = `${kind}/${keyOf(o)}`;
    if (verb === 'delete') {
      this.#seen.delete(key);
      return pipeline ? `${o.metadata?.namespace ?? ''}/${pipeline}` : undefined;
    }
    const fingerprint = createHash('sha256').update(childFingerprint(o)).digest('base64');
    if (this.#seen.get(key) === fingerprint) return undefined;
    this.#seen.set(key, fingerprint);
    return pipeline ? `${o.metadata?.namespace ?? ''}/${pipeline}` : undefined;
  }
}
