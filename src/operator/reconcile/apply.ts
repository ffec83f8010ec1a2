// apply: server-side apply every desired child with one field manager and force, then
// delete children of this pipeline that are no longer desired (a disabled HPA). Errors
// propagate: the work queue retries with backoff and the status says what failed.
// Before that, the generated API keys Secret is created once when it does not exist: the
// one place randomness enters a reconcile (the builders in desired/ stay pure).
import { randomBytes } from 'node:crypto';
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import type { OcrPipeline } from '../../crds/ocrpipeline.ts';
import { generatedKeysSecret } from '../desired/api-keys.ts';
import { childKey } from '../desired/index.ts';
import { secretValueHash, type GeneratedKeys } from './gather.ts';

export interface KubeWriter {
  /** Server-side apply (fieldManager ocr-platform-operator, force). */
  apply(obj: KubernetesObject): Promise<KubernetesObject>;
  delete(obj: KubernetesObject): Promise<void>;
  /**
   * Creates a Secret (POST). When it already exists (409 AlreadyExists) it is read and
   * returned unchanged with created false: an existing Secret is never overwritten.
   */
  createSecret(secret: V1Secret): Promise<{ secret: V1Secret; created: boolean }>;
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

export async function applyChildren(
  writer: Pick<KubeWriter, 'apply' | 'delete'>,
  desired: KubernetesObject[],
  existing: KubernetesObject[],
  ownerUid: string,
): Promise<ApplyResult> {
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
