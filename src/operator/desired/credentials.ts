// Which credentials each component's pods get (issue 13, item 6: least privilege). The
// shared references (queue.serviceBus.connectionStringSecretRef or namespace,
// storage.blob.connectionStringSecretRef or accountUrl, pod.serviceAccountName) stay valid
// and are the fallback; a component's own reference replaces the shared one for that
// component only, so the API never sees the workers' Secret and the reverse. The operator
// itself always uses the shared Service Bus reference (it reads queue runtime properties,
// which needs Manage) and never reads Storage. Pure: the builders and gather both ask here.
import type { OcrPipelineSpec, SecretKeyRef } from '../../crds/ocrpipeline.ts';

type Component = 'api' | 'worker';

/** The Service Bus connection string a component's pods get; undefined: the namespace, with workload identity. */
export function serviceBusSecretRef(spec: OcrPipelineSpec, component: Component): SecretKeyRef | undefined {
  const sb = spec.queue.serviceBus;
  return sb[component]?.connectionStringSecretRef ?? sb.connectionStringSecretRef;
}

/** The Storage connection string a component's pods get; undefined: the account URL, with workload identity. */
export function storageSecretRef(spec: OcrPipelineSpec, component: Component): SecretKeyRef | undefined {
  const blob = spec.storage.blob;
  return blob[component]?.connectionStringSecretRef ?? blob.connectionStringSecretRef;
}

/** The ServiceAccount a component's pods run as: its own, else pod.serviceAccountName, else the namespace default (undefined). */
export function componentServiceAccount(spec: OcrPipelineSpec, component: Component): string | undefined {
  return spec[component].serviceAccountName ?? spec.pod.serviceAccountName;
}

/**
 * Whether the workers authenticate to Service Bus differently from the operator (their own
 * connection string or their own ServiceAccount). Such credentials are meant to hold Listen
 * only, which cannot read the queue's MaxDeliveryCount, so the operator passes the spec's
 * maxDeliveryCount to them (WORKER_MAX_DELIVERY_COUNT). With the shared credentials the
 * worker keeps reading the queue's own value, as it always has.
 */
export function workerHasOwnQueueCredentials(spec: OcrPipelineSpec): boolean {
  return spec.queue.serviceBus.worker !== undefined || spec.worker.serviceAccountName !== undefined;
}

/** "name/key", the form DesiredInput.secretHashes is keyed by. */
export const secretHashKey = (ref: SecretKeyRef): string => `${ref.name}/${ref.key}`;

/**
 * The secretHashes one component's config hash covers: all of them except the other
 * component's own credentials (unless this component uses the same Secret key). A pipeline
 * without own credentials hashes exactly what it hashed before, so upgrading the operator
 * rolls no pods; a rotated worker-only Secret rolls only the workers.
 */
export function componentSecretHashes(spec: OcrPipelineSpec, secretHashes: Record<string, string>, component: Component): Record<string, string> {
  const other: Component = component === 'api' ? 'worker' : 'api';
  const mine = new Set([serviceBusSecretRef(spec, component), storageSecretRef(spec, component)].flatMap((r) => (r ? [secretHashKey(r)] : [])));
  const theirs = [spec.queue.serviceBus[other]?.connectionStringSecretRef, spec.storage.blob[other]?.connectionStringSecretRef]
    .flatMap((r) => (r ? [secretHashKey(r)] : []))
    .filter((k) => !mine.has(k));
  if (theirs.length === 0) return secretHashes;
  return Object.fromEntries(Object.entries(secretHashes).filter(([k]) => !theirs.includes(k)));
}
