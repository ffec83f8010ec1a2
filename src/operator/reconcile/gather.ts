// gather: collect the state of the world for one pipeline from the informer caches (no
// API calls): the parsed spec, the referenced Secrets, the current children, the
// Deployments' replica counts and the worker HPA's status. Everything after this step is
// pure or a write (queue scaling's track() is the one named side effect, see reconciler.ts).
import { createHash } from 'node:crypto';
import type { KubernetesObject, V1ContainerStateTerminated, V1ContainerStatus, V1Deployment, V1Pod, V1Secret } from '@kubernetes/client-node';
import { formatIssues, ocrPipelineSpecSchema, type OcrPipeline, type OcrPipelineSpec, type OcrPipelineStatus } from '../../crds/ocrpipeline.ts';
import { LABELS } from '../../contract/labels.ts';
import type { ContainerExit, ContainerFacts, DeploymentFacts, MissingSecret, PodFacts } from '../conditions/checks.ts';
import { apiKeysSecretRef } from '../desired/api-keys.ts';
import { childName } from '../desired/common.ts';
import { kedaHpaName } from '../desired/keda-scaledobject.ts';
import type { HpaStatus } from '../scaling/decide.ts';
import type { QueueSecret } from '../scaling/service.ts';

/** An OcrPipeline as it comes from the API server, before the spec is parsed. */
export interface RawPipeline extends KubernetesObject {
  metadata: { name: string; namespace: string; uid: string; generation?: number; resourceVersion?: string; deletionTimestamp?: Date };
  spec?: unknown;
  status?: OcrPipelineStatus;
}

/** Read access to the informer caches. */
export interface ClusterReader {
  /** Reads the named Secrets (those the pipeline references) so getSecret can answer; absent: getSecret reads a complete cache. */
  loadSecrets?(namespace: string, names: readonly string[]): Promise<void>;
  getSecret(namespace: string, name: string): V1Secret | undefined;
  getDeployment(namespace: string, name: string): V1Deployment | undefined;
  /** Children carrying this pipeline's labels, of every managed kind. */
  listChildren(namespace: string, pipeline: string): KubernetesObject[];
  /** Pods carrying this pipeline's label (trimmed, see kube.ts trimPod); absent: pods are not watched. */
  listPods?(namespace: string, pipeline: string): V1Pod[];
}

export interface SecretRef {
  field: string;
  name: string;
  key: string;
}

export interface Gathered {
  raw: RawPipeline;
  /** Undefined when the spec does not parse; invalidSpec says why. */
  pipeline?: OcrPipeline;
  invalidSpec?: string;
  secretRefs: SecretRef[];
  missingSecrets: MissingSecret[];
  secretHashes: Record<string, string>;
  children: KubernetesObject[];
  api?: DeploymentFacts;
  worker?: DeploymentFacts;
  /**
   * The queue's connection string from this Secret pass, for the queue poller (it stays
   * in memory); absent without spec.queue.serviceBus.connectionStringSecretRef.
   */
  queueSecret?: QueueSecret;
  /** Status of the worker HPA: the operator's, or the one KEDA made for the ScaledObject. */
  workerHpa?: HpaStatus;
  /**
   * The API keys Secret the operator generates (auth apiKeys, no apiKeysSecretRef), with the
   * cached Secret when it exists; absent otherwise. The apply step creates it when missing.
   */
  generatedKeys?: GeneratedKeys;
  /** Name of the API keys Secret in use (the user's or the generated one); absent with auth disabled. */
  keysSecret?: string;
  /** The pipeline's pods per component; absent when the reader does not watch pods. */
  pods?: { api: PodFacts[]; worker: PodFacts[] };
}

export interface GeneratedKeys {
  name: string;
  key: string;
  /** The Secret in the cache; undefined until it is created (or while the cache lags behind the create). */
  secret?: V1Secret;
}

const QUEUE_SECRET_FIELD = 'spec.queue.serviceBus.connectionStringSecretRef';
/** How a missing key in the generated keys Secret is reported (the field that made the operator generate it). */
export const GENERATED_KEYS_FIELD = 'spec.api.auth: the generated keys Secret; delete it and the operator generates a new key';

/**
 * sha256 of a Secret key's value as stored (base64 in data, or plain stringData not yet
 * merged by the API server); undefined when the key is absent. A change rolls the pods (config hash).
 */
export function secretValueHash(secret: V1Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key] ?? secret?.stringData?.[key];
  return value === undefined ? undefined : createHash('sha256').update(value).digest('hex');
}

/**
 * Every Secret key the spec refers to that someone reads, with the field that refers to it:
 * the shared Service Bus string (the operator's), each component's own connection strings,
 * and the shared Storage string only while a component falls back to it (credentials.ts).
 */
export function secretRefs(spec: OcrPipelineSpec): SecretRef[] {
  const refs: SecretRef[] = [];
  const add = (field: string, ref: { name: string; key: string } | undefined) => {
    if (ref) refs.push({ field, name: ref.name, key: ref.key });
  };
  const { serviceBus: sb } = spec.queue;
  const { blob } = spec.storage;
  add(QUEUE_SECRET_FIELD, sb.connectionStringSecretRef);
  if (!blob.api || !blob.worker) add('spec.storage.blob.connectionStringSecretRef', blob.connectionStringSecretRef);
  for (const component of ['api', 'worker'] as const) {
    add(`spec.queue.serviceBus.${component}.connectionStringSecretRef`, sb[component]?.connectionStringSecretRef);
    add(`spec.storage.blob.${component}.connectionStringSecretRef`, blob[component]?.connectionStringSecretRef);
  }
  add('spec.api.apiKeysSecretRef', spec.api.apiKeysSecretRef);
  add('spec.api.jobTokenSecretRef', spec.api.jobTokenSecretRef);
  add('spec.webhookSecretRef', spec.webhookSecretRef);
  return refs;
}

/** The message of the Deployment's ReplicaFailure condition when it is True (pods cannot be created). */
function replicaFailure(d: V1Deployment): string | undefined {
  const failure = d.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  return failure ? (failure.message ?? failure.reason ?? 'unknown reason') : undefined;
}

/** The message of the Deployment's Progressing condition when the controller gave up waiting (reason ProgressDeadlineExceeded). */
function progressDeadlineExceeded(d: V1Deployment): string | undefined {
  const c = d.status?.conditions?.find((x) => x.type === 'Progressing' && x.status === 'False' && x.reason === 'ProgressDeadlineExceeded');
  return c ? (c.message ?? 'the Deployment controller gave no message') : undefined;
}

/**
 * A Deployment's generations, replica counts and conditions, as the Deployment reports them
 * itself; absent fields read 0 (spec.replicas: 1, the API server's default). The conditions
 * only count while status.observedGeneration is current: older ones speak of the previous spec.
 */
export function deploymentFacts(d: V1Deployment | undefined): DeploymentFacts | undefined {
  if (!d) return undefined;
  const status = d.status ?? {};
  const facts: DeploymentFacts = {
    generation: d.metadata?.generation ?? 0,
    observedGeneration: status.observedGeneration ?? 0,
    desired: d.spec?.replicas ?? 1,
    updated: status.updatedReplicas ?? 0,
    ready: status.readyReplicas ?? 0,
    available: status.availableReplicas ?? 0,
  };
  if (status.replicas !== undefined) facts.total = status.replicas;
  const failure = replicaFailure(d);
  if (failure !== undefined) facts.replicaFailure = failure;
  const deadline = facts.observedGeneration >= facts.generation ? progressDeadlineExceeded(d) : undefined;
  if (deadline !== undefined) facts.progressDeadlineExceeded = deadline;
  return facts;
}

function containerExit(t: V1ContainerStateTerminated | undefined): ContainerExit | undefined {
  if (!t) return undefined;
  return { exitCode: t.exitCode, ...(t.reason ? { reason: t.reason } : {}), ...(t.message ? { message: t.message } : {}) };
}

function containerFacts(c: V1ContainerStatus): ContainerFacts {
  const waiting = c.state?.waiting;
  const terminated = containerExit(c.state?.terminated);
  const lastTerminated = containerExit(c.lastState?.terminated);
  return {
    name: c.name,
    restartCount: c.restartCount ?? 0,
    ...(waiting?.reason ? { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } } : {}),
    ...(terminated ? { terminated } : {}),
    ...(lastTerminated ? { lastTerminated } : {}),
  };
}

/** The scheduler's message when PodScheduled is False with reason Unschedulable. */
function unschedulableMessage(pod: V1Pod): string | undefined {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status !== 'False' || scheduled.reason !== 'Unschedulable') return undefined;
  return scheduled.message ?? 'the scheduler gave no message';
}

/**
 * What the pod checks read of a pod; undefined for a pod that is going away or done
 * (deletionTimestamp, Succeeded, Failed): its problems are no longer the pipeline's.
 */
export function podFacts(pod: V1Pod): PodFacts | undefined {
  const phase = pod.status?.phase;
  if (pod.metadata?.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed') return undefined;
  const containers = (pod.status?.containerStatuses ?? []).map(containerFacts);
  const unschedulable = unschedulableMessage(pod);
  return { name: pod.metadata?.name ?? '', ...(unschedulable !== undefined ? { unschedulable } : {}), containers };
}

/** The pipeline's pods by component label, sorted by name so conditions do not flap between equal problems. */
export function podsByComponent(pods: V1Pod[]): { api: PodFacts[]; worker: PodFacts[] } {
  const out: { api: PodFacts[]; worker: PodFacts[] } = { api: [], worker: [] };
  for (const pod of [...pods].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
    const component = pod.metadata?.labels?.[LABELS.component];
    const facts = podFacts(pod);
    if (facts && (component === 'api' || component === 'worker')) out[component].push(facts);
  }
  return out;
}

/** The worker HPA among a pipeline's children: ours, or the one KEDA made for our ScaledObject. */
export function workerHpaStatus(children: KubernetesObject[], pipeline: string): HpaStatus | undefined {
  const names = new Set([childName(pipeline, 'worker'), kedaHpaName(pipeline)]);
  const hpa = children.find((c) => c.kind === 'HorizontalPodAutoscaler' && names.has(c.metadata?.name ?? ''));
  return (hpa as { status?: HpaStatus } | undefined)?.status;
}

/** A Secret key's value as text: data is base64, stringData (not yet merged by the API server) is plain. */
function decoded(secret: V1Secret | undefined, key: string): string | undefined {
  const encoded = secret?.data?.[key];
  return encoded !== undefined ? Buffer.from(encoded, 'base64').toString('utf8') : secret?.stringData?.[key];
}

/** Names of the Secrets gather will read for this pipeline: the referenced ones and the generated API keys Secret. */
export function referencedSecretNames(raw: RawPipeline): string[] {
  const parsed = ocrPipelineSpecSchema.safeParse(raw.spec);
  if (!parsed.success) return [];
  const { name, namespace, uid } = raw.metadata;
  const keys = apiKeysSecretRef({ apiVersion: 'ocrplatform.io/v1alpha1', kind: 'OcrPipeline', metadata: { name, namespace, uid }, spec: parsed.data });
  return [...secretRefs(parsed.data).map((r) => r.name), ...(keys?.generated ? [keys.name] : [])];
}

export function gather(raw: RawPipeline, reader: ClusterReader): Gathered {
  const { namespace, name } = raw.metadata;
  const children = reader.listChildren(namespace, name);
  const base = {
    raw,
    children,
    workerHpa: workerHpaStatus(children, name),
    api: deploymentFacts(reader.getDeployment(namespace, childName(name, 'api'))),
    worker: deploymentFacts(reader.getDeployment(namespace, childName(name, 'worker'))),
    ...(reader.listPods ? { pods: podsByComponent(reader.listPods(namespace, name)) } : {}),
  };
  const parsed = ocrPipelineSpecSchema.safeParse(raw.spec);
  if (!parsed.success) {
    return { ...base, invalidSpec: formatIssues(parsed.error).join('; '), secretRefs: [], missingSecrets: [], secretHashes: {} };
  }
  const spec = parsed.data;
  const refs = secretRefs(spec);
  const missingSecrets: MissingSecret[] = [];
  const secretHashes: Record<string, string> = {};
  let queueSecret: QueueSecret | undefined;
  for (const ref of refs) {
    const secret = reader.getSecret(namespace, ref.name);
    const hash = secretValueHash(secret, ref.key);
    if (hash === undefined) {
      missingSecrets.push({ name: ref.name, key: ref.key, field: ref.field, secretExists: secret !== undefined });
    } else {
      secretHashes[`${ref.name}/${ref.key}`] = hash;
    }
    if (ref.field === QUEUE_SECRET_FIELD) queueSecret = { secretExists: secret !== undefined, connectionString: decoded(secret, ref.key) };
  }
  const pipeline: OcrPipeline = {
    apiVersion: 'ocrplatform.io/v1alpha1',
    kind: 'OcrPipeline',
    metadata: { name, namespace, uid: raw.metadata.uid, ...(raw.metadata.generation !== undefined ? { generation: raw.metadata.generation } : {}) },
    spec,
  };
  const keys = gatherGeneratedKeys(pipeline, reader, missingSecrets, secretHashes);
  return { ...base, pipeline, secretRefs: refs, missingSecrets, secretHashes, ...(queueSecret ? { queueSecret } : {}), ...keys };
}

/**
 * The API keys Secret in use, and the generated one from the cache. Its hash counts like a
 * referenced Secret's, so rotating the key rolls the API pods. A generated Secret that is
 * absent is not missing (the apply step creates it); one that lost its key is, since the
 * operator never overwrites it.
 */
function gatherGeneratedKeys(
  pipeline: OcrPipeline,
  reader: ClusterReader,
  missingSecrets: MissingSecret[],
  secretHashes: Record<string, string>,
): Pick<Gathered, 'generatedKeys' | 'keysSecret'> {
  const ref = apiKeysSecretRef(pipeline);
  if (!ref) return {};
  if (!ref.generated) return { keysSecret: ref.name };
  const secret = reader.getSecret(pipeline.metadata.namespace, ref.name);
  const hash = secretValueHash(secret, ref.key);
  if (hash !== undefined) secretHashes[`${ref.name}/${ref.key}`] = hash;
  else if (secret) missingSecrets.push({ name: ref.name, key: ref.key, field: GENERATED_KEYS_FIELD, secretExists: true });
  return { keysSecret: ref.name, generatedKeys: { name: ref.name, key: ref.key, ...(secret ? { secret } : {}) } };
}
