// The API keys Secret a pipeline's API mounts. With spec.api.auth apiKeys (the default) it is
// the user's spec.api.apiKeysSecretRef or, without one, a Secret the operator generates once
// as <pipeline>-api-keys; with auth disabled there is none and the API runs open, explicitly.
// Pure: the random key comes in as an argument (src/operator/reconcile/apply.ts makes it),
// so rendering stays free of clocks and randomness. The generated Secret is created, never
// server-side applied, and Secret is not a managed kind (src/contract/kinds.ts): the prune
// step never sees it and the operator never overwrites it, so a user may rotate the key.
// Its ownerReference to the pipeline is what deletes it.
import type { V1Secret } from '@kubernetes/client-node';
import type { OcrPipeline } from '../../crds/ocrpipeline.ts';
import { childMetadata } from './common.ts';

/** Data key of the generated Secret: the keys file the API reads (src/api/auth.ts ApiKeys.parse). */
export const GENERATED_KEYS_DATA_KEY = 'keys';

/** Name of the key in the generated keys file; the API logs and rate-limits by it. */
export const GENERATED_KEY_NAME = 'default';

export const generatedKeysSecretName = (pipeline: string): string => `${pipeline}-api-keys`;

/** The Secret key the API mounts as its keys file; `generated` when the operator owns the Secret. */
export interface KeysSecretRef {
  name: string;
  key: string;
  generated: boolean;
}

/** The effective API keys Secret: the user's, the generated one, or none with auth disabled. */
export function apiKeysSecretRef(p: OcrPipeline): KeysSecretRef | undefined {
  const { api } = p.spec;
  if (api.auth === 'disabled') return undefined;
  if (api.apiKeysSecretRef) return { ...api.apiKeysSecretRef, generated: false };
  return { name: generatedKeysSecretName(p.metadata.name), key: GENERATED_KEYS_DATA_KEY, generated: true };
}

/** One `name:key` line in the format ApiKeys.parse reads; `key` is the random part (base64url, no colon). */
export function keysFile(key: string): string {
  return `${GENERATED_KEY_NAME}:${key}\n`;
}

/**
 * The generated Secret: the keys file under GENERATED_KEYS_DATA_KEY, the pipeline's labels
 * (component api) and a controller ownerReference, so deleting the pipeline deletes it.
 */
export function generatedKeysSecret(p: OcrPipeline, key: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMetadata(p, 'api', generatedKeysSecretName(p.metadata.name)),
    type: 'Opaque',
    data: { [GENERATED_KEYS_DATA_KEY]: Buffer.from(keysFile(key), 'utf8').toString('base64') },
  };
}

/** The command a user runs to read the keys file of a Secret. */
export function readKeysCommand(namespace: string, ref: { name: string; key: string }): string {
  return `kubectl get secret ${ref.name} -n ${namespace} -o jsonpath='{.data.${ref.key}}' | base64 -d`;
}
