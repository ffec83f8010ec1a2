// Whether a child must be applied again: the write-avoidance decision of the apply step.
// Server-side apply of an unchanged object changes nothing but still costs a request, and
// at 1,000 pipelines with 7 children each a resync used to make 7,000 of them. A child is
// skipped when all of these hold:
// - its cached copy carries the hash of the desired object (DESIRED_HASH_ANNOTATION, stamped on
//   every apply), so the last apply sent exactly this object;
// - the labels and annotations we set are still there (metadata edits change no generation);
// - nobody changed what we applied since: while this process remembers its last apply of the
//   child (AppliedRecords), the child's metadata.generation is not above the one our apply got
//   (kinds without generation, a Service: its resourceVersion is still ours); after a restart,
//   no other field manager has written outside metadata and status (the managedFields entries,
//   reduced in the cache by kube.ts trimChild) at or after our last apply.
// A kubectl edit of a Deployment's env bumps its generation; one of a Service's targetPort
// changes its resourceVersion; both are re-applied. Pure, except the records' own Map.
import { createHash } from 'node:crypto';
import type { KubernetesObject, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { DESIRED_HASH_ANNOTATION, FIELD_MANAGER } from '../../contract/labels.ts';
import { stableStringify } from '../desired/common.ts';

/** Managers whose writes are ours: the operator's apply and the replicas handover (apply.ts REPLICAS_HANDOVER_MANAGER). */
const OUR_MANAGERS = new Set([FIELD_MANAGER, `${FIELD_MANAGER}-handover`]);

/** The desired object with DESIRED_HASH_ANNOTATION set to the hash of everything else in it (16 hex characters). */
export function withDesiredHash<T extends KubernetesObject>(desired: T): T {
  const hash = createHash('sha256').update(stableStringify(desired)).digest('hex').slice(0, 16);
  const metadata = desired.metadata ?? {};
  return { ...desired, metadata: { ...metadata, annotations: { ...metadata.annotations, [DESIRED_HASH_ANNOTATION]: hash } } };
}

/** What our last apply of a child got back: its uid, generation and resourceVersion. */
export interface AppliedRecord {
  uid: string | undefined;
  generation: number | undefined;
  resourceVersion: string | undefined;
}

export const recordOf = (answer: KubernetesObject): AppliedRecord => ({
  uid: answer.metadata?.uid,
  generation: answer.metadata?.generation,
  resourceVersion: answer.metadata?.resourceVersion,
});

const subset = (want: Record<string, string> | undefined, have: Record<string, string> | undefined) =>
  Object.entries(want ?? {}).every(([k, v]) => have?.[k] === v);

/** A manager's time as a number (ms); entries without time read as the oldest. */
const timeOf = (m: V1ManagedFieldsEntry) => (m.time ? new Date(m.time).getTime() : 0);

/**
 * Whether another field manager wrote fields outside metadata and status at or after our
 * last apply (managedFields times have one-second resolution: the same second counts).
 * Status and scale subresource writes (the Deployment controller, the HPA) do not count:
 * nothing we apply lives there. True when we never applied the object.
 */
export function editedSinceOurApply(managedFields: V1ManagedFieldsEntry[] | undefined): boolean {
  const entries = managedFields ?? [];
  const ours = entries.find((m) => m.manager === FIELD_MANAGER && m.operation === 'Apply' && !m.subresource);
  if (!ours) return true;
  return entries.some((m) => {
    if (OUR_MANAGERS.has(m.manager ?? '') || m.subresource) return false;
    const fields = Object.keys((m.fieldsV1 as Record<string, unknown> | undefined) ?? {}).filter((k) => k !== 'f:metadata' && k !== 'f:status');
    return fields.length > 0 && timeOf(m) >= timeOf(ours);
  });
}

/**
 * Whether `desired` (already through withDesiredHash) needs no apply, given the cached child
 * and what this process's last apply of it got back (undefined: none since start).
 */
export function unchanged(desired: KubernetesObject, cached: KubernetesObject | undefined, record: AppliedRecord | undefined): boolean {
  if (!cached) return false;
  const want = desired.metadata ?? {};
  const have = cached.metadata ?? {};
  if (have.annotations?.[DESIRED_HASH_ANNOTATION] !== want.annotations?.[DESIRED_HASH_ANNOTATION]) return false;
  if (!subset(want.labels, have.labels) || !subset(want.annotations, have.annotations)) return false;
  if (record && record.uid === have.uid) {
    // A cache behind our own apply shows an older generation: not an edit.
    if (have.generation !== undefined && record.generation !== undefined) return have.generation <= record.generation;
    // No generation (Service, HorizontalPodAutoscaler): status writes move the resourceVersion
    // (the HPA controller's every 15 s), so what we applied is compared instead.
    return have.resourceVersion === record.resourceVersion || covers((desired as { spec?: unknown }).spec, (cached as { spec?: unknown }).spec);
  }
  return !editedSinceOurApply(have.managedFields);
}

/**
 * Whether `have` holds every value of `want`: objects key by key (extra keys in `have` are the
 * API server's defaults), arrays item by item with the same length, scalars equal. A value the
 * API server normalises ("1.5" -> "1500m") reads as a difference: one more apply, never a miss.
 */
export function covers(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(have) && have.length === want.length && want.every((w, i) => covers(w, have[i]));
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
    return Object.entries(want as Record<string, unknown>).every(([k, v]) => v === undefined || covers(v, (have as Record<string, unknown>)[k]));
  }
  return want === have;
}

/** This process's last apply answer per child, per pipeline (forgotten with the pipeline). */
export class AppliedRecords {
  #byPipeline = new Map<string, Map<string, AppliedRecord>>();

  get(pipeline: string, child: string): AppliedRecord | undefined {
    return this.#byPipeline.get(pipeline)?.get(child);
  }

  set(pipeline: string, child: string, record: AppliedRecord): void {
    const children = this.#byPipeline.get(pipeline) ?? new Map<string, AppliedRecord>();
    children.set(child, record);
    this.#byPipeline.set(pipeline, children);
  }

  forget(pipeline: string): void {
    this.#byPipeline.delete(pipeline);
  }
}
