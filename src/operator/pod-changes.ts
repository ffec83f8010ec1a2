// Which pod events matter to a pipeline: the pod watch sees every status write of every
// pipeline pod (kubelet heartbeats of conditions, probe results, IPs), but the pod checks read
// only a few fields. A pod event requeues its pipeline only when what the checks read changed.
import type { V1Pod } from '@kubernetes/client-node';
import { LABELS } from '../contract/labels.ts';
import { podFacts } from './reconcile/gather.ts';

/** Remembers, per pod, what the checks last read of it (at most one entry per live pod). */
export class PodChanges {
  #seen = new Map<string, string>(); // namespace/name -> fingerprint

  /**
   * The pipeline key (namespace/pipeline) to requeue for this event, or undefined when the
   * pod carries no pipeline label or nothing the checks read changed.
   */
  changed(verb: 'add' | 'update' | 'delete', pod: V1Pod): string | undefined {
    const namespace = pod.metadata?.namespace ?? '';
    const pipeline = pod.metadata?.labels?.[LABELS.pipeline];
    if (!pipeline) return undefined;
    const key = `${namespace}/${pod.metadata?.name ?? ''}`;
    if (verb === 'delete') {
      this.#seen.delete(key);
      return `${namespace}/${pipeline}`;
    }
    const fingerprint = JSON.stringify([pod.metadata?.labels?.[LABELS.component] ?? '', podFacts(pod) ?? null]);
    if (this.#seen.get(key) === fingerprint) return undefined;
    this.#seen.set(key, fingerprint);
    return `${namespace}/${pipeline}`;
  }
}
