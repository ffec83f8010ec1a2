// apply: server-side apply every desired child with one field manager and force, then
// delete children of this pipeline that are no longer desired (a disabled HPA). Errors
// propagate: the work queue retries with backoff and the status says what failed.
// Before that, the generated API keys Secret is created once when it does not exist: the
// one place randomness enters a reconcile (the builders in desired/ stay pure).
// A Deployment that goes from fixed replicas to autoscaled hands spec.replicas over first
// (replicasHandover): the one write under a second field manager.
import { randomBytes } from 'node:crypto';
import type { KubernetesObject, V1Deployment, V1Secret } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../../contract/labels.ts';
import type { OcrPipeline } from '../../crds/ocrpipeline.ts';
import { generatedKeysSecret } from '../desired/api-keys.ts';
import { childKey } from '../desired/index.ts';
import { secretValueHash, type GeneratedKeys } from './gather.ts';
import { AppliedRecords, recordOf, unchanged, withDesiredHash } from './unchanged.ts';

export interface KubeWriter {
  /** Server-side apply (fieldManager ocr-platform-operator, force). */
  apply(obj: KubernetesObject): Promise<KubernetesObject>;
  delete(obj: KubernetesObject): Promise<void>;
  /**
   * Server-side apply under REPLICAS_HANDOVER_MANAGER without force (replicasHandover).
   * 'conflict' when the API server refuses it with 409: another manager (the HPA
   * controller) already changed the value, so there is nothing left to hand over.
   */
  handOver(obj: KubernetesObject): Promise<'applied' | 'conflict'>;
  /**
   * Creates a Secret (POST). When it already exists (409 AlreadyExists) it is read and
   * returned unchanged with created false: an existing Secret is never overwritten.
   */
  createSecret(secret: V1Secret): Promise<{ secret: V1Secret; created: boolean }>;
}

export interface ApplyResult {
  created: KubernetesObject[];
  deleted: KubernetesObject[];
  /** The API server's answer to each apply (in completion order): fresher than the cache (new generation, current status). */
  applied: KubernetesObject[];
  /** Deployments whose spec.replicas was handed over before the apply dropped it (replicasHandover). */
  handedOver: KubernetesObject[];
  /** Children left alone: the cache already holds what would be applied (reconcile/unchanged.ts). */
  skipped: KubernetesObject[];
}

/**
 * The field manager that holds spec.replicas between our last apply with replicas and the
 * HPA's first scale. Kubernetes' server-side apply docs, "Transferring ownership": when the
 * only manager of a field stops applying it, the API server removes it and the Deployment
 * falls to its default of 1 replica, until the HPA acts. Applying the current count once
 * under another manager makes that manager a co-owner, so our apply without replicas leaves
 * the value alone; the HPA controller's updates then take the field over from it.
 */
export const REPLICAS_HANDOVER_MANAGER = 'ocr-platform-operator-handover';

/** Whether our field manager's last apply set spec.replicas on this Deployment (from managedFields). */
export function appliesReplicas(d: V1Deployment): boolean {
  return (d.metadata?.managedFields ?? []).some((m) => {
    if (m.manager !== FIELD_MANAGER || m.operation !== 'Apply') return false;
    const spec = (m.fieldsV1 as Record<string, Record<string, unknown> | undefined> | undefined)?.['f:spec'];
    return spec?.['f:replicas'] !== undefined;
  });
}

/**
 * The replicas-only apply that keeps a Deployment's current count when the desired one no
 * longer sets spec.replicas (fixed -> autoscaled) while our manager still owns it; undefined
 * otherwise (nothing to hand over, or handed over already: our manager no longer owns it).
 */
export function replicasHandover(desired: KubernetesObject, existing: KubernetesObject | undefined): V1Deployment | undefined {
  if (desired.kind !== 'Deployment' || !existing) return undefined;
  if ((desired as V1Deployment).spec?.replicas !== undefined) return undefined;
  const current = existing as V1Deployment;
  if (!appliesReplicas(current)) return undefined;
  const { name, namespace } = current.metadata ?? {};
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace }, spec: { replicas: current.spec?.replicas ?? 1 } } as V1Deployment;
}

/** Children that exist, belong to this pipeline (controller ownerReference) and are not desired. */
export function childrenToDelete(desired: KubernetesObject[], existing: KubernetesObject[], ownerUid: string): KubernetesObject[] {
  const wanted = new Set(desired.map(childKey));
  return existing.filter((o) => !wanted.has(childKey(o)) && (o.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === ownerUid));
}

/** Where applyChildren remembers its answers: this process's AppliedRecords and the pipeline's key in them. */
export interface ApplyMemory {
  records: AppliedRecords;
  pipeline: string;
}

/**
 * Applies every desired child that is not unchanged (reconcile/unchanged.ts), in parallel,
 * then deletes children no longer desired. Every child is tried even when one fails; the first
 * error is thrown after all settled (the answers of the others are recorded).
 */
export async function applyChildren(
  writer: Pick<KubeWriter, 'apply' | 'delete' | 'handOver'>,
  desired: KubernetesObject[],
  existing: KubernetesObject[],
  ownerUid: string,
  memory: ApplyMemory = { records: new AppliedRecords(), pipeline: '' },
): Promise<ApplyResult> {
  const byKey = new Map(existing.map((o) => [childKey(o), o]));
  const result: ApplyResult = { created: [], deleted: [], applied: [], handedOver: [], skipped: [] };
  const outcomes = await Promise.allSettled(
    desired.map(async (plain) => {
      const child = withDesiredHash(plain);
      const key = childKey(child);
      const current = byKey.get(key);
      if (unchanged(child, current, memory.records.get(memory.pipeline, key))) {
        result.skipped.push(child);
        return;
      }
      const handover = replicasHandover(child, current);
      if (handover && (await writer.handOver(handover)) === 'applied') result.handedOver.push(handover);
      const answer = await writer.apply(child);
      memory.records.set(memory.pipeline, key, recordOf(answer));
      result.applied.push(answer);
      if (!current) result.created.push(child);
    }),
  );
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  result.deleted = childrenToDelete(desired, existing, ownerUid);
  await Promise.all(result.deleted.map((child) => writer.delete(child)));
  return result;
}

/** 32 random bytes as base64url (43 characters, no ':' or whitespace, so the keys file parses as one name:key line). */
export const randomApiKey = (): string => randomBytes(32).toString('base64url');

export interface EnsuredKeys {
  /** The Secret was created by this call (false: another reconcile or a user made it first). */
  created: boolean;
  /** "name/key" -> sha256 of the value, as gather computes it, for the config hash. */
  secretHashes: Record<string, string>;
}

/**
 * Makes sure the generated API keys Secret exists; a no-op (undefined) when the cache holds
 * it already. Creates it with a fresh random key, or reads the one that exists if the cache
 * lagged behind. Throws when the Secret it finds has no keys entry (gather reports that case
 * as SecretKeyNotFound on the next pass).
 * @param newKey the random key source; default randomApiKey (tests pass a fixed one)
 */
export async function ensureGeneratedKeys(
  writer: Pick<KubeWriter, 'createSecret'>,
  pipeline: OcrPipeline,
  keys: GeneratedKeys,
  newKey: () => string = randomApiKey,
): Promise<EnsuredKeys | undefined> {
  if (keys.secret) return undefined;
  const { secret, created } = await writer.createSecret(generatedKeysSecret(pipeline, newKey()));
  const hash = secretValueHash(secret, keys.key);
  if (hash === undefined) throw new Error(`Secret ${pipeline.metadata.namespace}/${keys.name} exists without the key "${keys.key}"`);
  return { created, secretHashes: { [`${keys.name}/${keys.key}`]: hash } };
}
