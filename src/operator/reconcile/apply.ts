// apply: server-side apply every desired child with one field manager and force, then
// delete children of this pipeline that are no longer desired (a disabled HPA). Errors
// propagate: the work queue retries with backoff and the status says what failed.
import type { KubernetesObject } from '@kubernetes/client-node';
import { childKey } from '../desired/index.ts';

export interface KubeWriter {
  /** Server-side apply (fieldManager ocr-platform-operator, force). */
  apply(obj: KubernetesObject): Promise<KubernetesObject>;
  delete(obj: KubernetesObject): Promise<void>;
}

export interface ApplyResult {
  created: KubernetesObject[];
  deleted: KubernetesObject[];
}

/** Children that exist, belong to this pipeline (controller ownerReference) and are not desired. */
export function childrenToDelete(desired: KubernetesObject[], existing: KubernetesObject[], ownerUid: string): KubernetesObject[] {
  const wanted = new Set(desired.map(childKey));
  return existing.filter((o) => !wanted.has(childKey(o)) && (o.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === ownerUid));
}

export async function applyChildren(writer: KubeWriter, desired: KubernetesObject[], existing: KubernetesObject[], ownerUid: string): Promise<ApplyResult> {
  const existingKeys = new Set(existing.map(childKey));
  const created: KubernetesObject[] = [];
  for (const child of desired) {
    await writer.apply(child);
    if (!existingKeys.has(childKey(child))) created.push(child);
  }
  const deleted = childrenToDelete(desired, existing, ownerUid);
  for (const child of deleted) await writer.delete(child);
  return { created, deleted };
}
