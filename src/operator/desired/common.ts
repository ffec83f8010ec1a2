// Shared pieces of every child: names, labels, ownerReference, the pod template skeleton
// with restricted security, and the config hash that rolls pods on a config change.
import { createHash } from 'node:crypto';
import type {
  V1Container,
  V1Deployment,
  V1ResourceRequirements,
  V1EnvVar,
  V1OwnerReference,
  V1PodSpec,
  V1Probe,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { API_VERSION, KIND, type OcrPipeline, type OcrPipelineSpec } from '../../crds/ocrpipeline.ts';
import { API_KEYS_DIR, COMMANDS, ENV, PORT_NAMES, PORTS, PROBE_PATHS, TMP_DIR } from '../../contract/container.ts';
import { APP_NAME, CONFIG_HASH_ANNOTATION, FIELD_MANAGER, LABELS } from '../../contract/labels.ts';
import { componentServiceAccount, serviceBusSecretRef, storageSecretRef } from './credentials.ts';

export type Component = 'api' | 'worker';

export const childName = (pipeline: string, component: Component): string => `${pipeline}-${component}`;

/** Selects every child of one pipeline (used to find children that are no longer desired). */
export function ownedSelector(pipeline: string): string {
  return `${LABELS.managedBy}=${FIELD_MANAGER},${LABELS.pipeline}=${pipeline}`;
}

/** The stable labels a Deployment selects its pods by; never change them (selectors are immutable). */
export function selectorLabels(pipeline: string, component: Component): Record<string, string> {
  return { [LABELS.name]: APP_NAME, [LABELS.instance]: pipeline, [LABELS.component]: component };
}

export function childLabels(pipeline: string, component: Component): Record<string, string> {
  return {
    ...selectorLabels(pipeline, component),
    [LABELS.managedBy]: FIELD_MANAGER,
    [LABELS.partOf]: APP_NAME,
    [LABELS.pipeline]: pipeline,
  };
}

export function ownerReference(p: OcrPipeline): V1OwnerReference {
  return { apiVersion: API_VERSION, kind: KIND, name: p.metadata.name, uid: p.metadata.uid, controller: true, blockOwnerDeletion: true };
}

export function childMetadata(p: OcrPipeline, component: Component, name = childName(p.metadata.name, component)) {
  return {
    name,
    namespace: p.metadata.namespace,
    labels: childLabels(p.metadata.name, component),
    ownerReferences: [ownerReference(p)],
  };
}

/** Whether an HPA (or KEDA) owns the replica count: only when the range allows any scaling. */
export function isAutoscaled(replicas: { min: number; max: number }): boolean {
  return replicas.min < replicas.max;
}

/**
 * A short, stable hash of everything a pod reads at start-up that is not already in its
 * template as a literal: the contents of referenced Secrets. Changing a Secret does not
 * change the pod template by itself, so without this the pods would keep the old value.
 */
export function configHash(parts: unknown): string {
  return createHash('sha256').update(stableStringify(parts)).digest('hex').slice(0, 16);
}

export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function secretEnv(name: string, ref: { name: string; key: string }): V1EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } };
}

/** Env vars both components share: identity, queue and storage, each component with its own credentials (credentials.ts). */
export function sharedEnv(p: OcrPipeline, component: Component): V1EnvVar[] {
  const { spec } = p;
  const sb = spec.queue.serviceBus;
  const blob = spec.storage.blob;
  const sbRef = serviceBusSecretRef(spec, component);
  const blobRef = storageSecretRef(spec, component);
  const env: V1EnvVar[] = [
    { name: ENV.pipeline, value: p.metadata.name },
    { name: ENV.namespace, value: p.metadata.namespace },
    { name: ENV.languages, value: spec.languages.join(',') },
    { name: ENV.queueName, value: sb.queueName },
    sbRef ? secretEnv(ENV.serviceBusConnectionString, sbRef) : { name: ENV.serviceBusNamespace, value: sb.namespace ?? '' },
    blobRef ? secretEnv(ENV.blobConnectionString, blobRef) : { name: ENV.blobAccountUrl, value: blob.accountUrl ?? '' },
    { name: ENV.blobContainer, value: blob.container },
  ];
  if (spec.webhookSecretRef) env.push(secretEnv(ENV.webhookSecret, spec.webhookSecretRef));
  return env;
}

export function httpProbe(path: string, port: string, timing: OcrPipelineSpec['api']['probes']['liveness']): V1Probe {
  return { httpGet: { path, port }, ...timing, successThreshold: 1 };
}

export function probes(port: string, timings: OcrPipelineSpec['api']['probes']): Pick<V1Container, 'livenessProbe' | 'readinessProbe' | 'startupProbe'> {
  return {
    startupProbe: httpProbe(PROBE_PATHS.live, port, timings.startup),
    livenessProbe: httpProbe(PROBE_PATHS.live, port, timings.liveness),
    readinessProbe: httpProbe(PROBE_PATHS.ready, port, timings.readiness),
  };
}

export const RESTRICTED_CONTAINER_SECURITY = {
  runAsNonRoot: true,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export const TMP_VOLUME: V1Volume = { name: 'tmp', emptyDir: {} };
export const TMP_MOUNT: V1VolumeMount = { name: 'tmp', mountPath: TMP_DIR };
export const API_KEYS_VOLUME = 'api-keys';
export const API_KEYS_MOUNT: V1VolumeMount = { name: API_KEYS_VOLUME, mountPath: API_KEYS_DIR, readOnly: true };

/** The pod spec parts both Deployments share: placement, security, pull secrets; the ServiceAccount is the component's (credentials.ts). */
export function basePodSpec(spec: OcrPipelineSpec, component: Component): Omit<V1PodSpec, 'containers'> {
  const pod = spec.pod;
  const out: Omit<V1PodSpec, 'containers'> = {
    // The pods never call the Kubernetes API; do not hand them a token.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    // 65532: the image's own USER (Dockerfile) and the chart's podSecurityContext. A uid and gid of 10000 or more
    // cannot collide with a host account that has rights on the node (kube-score container-security-context-user-group-id).
    securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
  };
  const serviceAccountName = componentServiceAccount(spec, component);
  if (serviceAccountName) out.serviceAccountName = serviceAccountName;
  if (spec.imagePullSecrets?.length) out.imagePullSecrets = spec.imagePullSecrets.map((s) => ({ name: s.name }));
  if (pod.nodeSelector) out.nodeSelector = pod.nodeSelector;
  if (pod.tolerations) out.tolerations = pod.tolerations;
  if (pod.affinity) out.affinity = pod.affinity;
  return out;
}

/** PORT and METRICS_PORT: both name the component's one HTTP port (jobs or probes, and /metrics). */
export function portEnv(component: Component): V1EnvVar[] {
  return [
    { name: ENV.port, value: String(PORTS[component]) },
    { name: ENV.metricsPort, value: String(PORTS[component]) },
  ];
}

/**
 * The one container of a component's pod: the image's command for it, its named HTTP port,
 * probes on that port, resources and the restricted security context. Only env and mounts differ.
 */
export function componentContainer(spec: OcrPipelineSpec, component: Component, env: V1EnvVar[], volumeMounts: V1VolumeMount[]): V1Container {
  return {
    name: component,
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy,
    command: [...COMMANDS[component]],
    ports: [{ name: PORT_NAMES[component], containerPort: PORTS[component], protocol: 'TCP' }],
    env,
    resources: resources(spec[component].resources),
    ...probes(PORT_NAMES[component], spec[component].probes),
    securityContext: RESTRICTED_CONTAINER_SECURITY,
    // A container that exits without writing /dev/termination-log gets the tail of its log as
    // the termination message, which the operator shows in Degraded (conditions/checks.ts).
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts,
  };
}

/** Pod template metadata: user labels first, so ours (the selector) always win. */
export function podMetadata(p: OcrPipeline, component: Component, hash: string) {
  return {
    labels: { ...(p.spec.pod.labels ?? {}), ...childLabels(p.metadata.name, component) },
    annotations: { ...(p.spec.pod.annotations ?? {}), [CONFIG_HASH_ANNOTATION]: hash },
  };
}

/** Quantities as strings, the form the API server returns, so applies compare equal. */
export function resources(r: OcrPipelineSpec['api']['resources']): V1ResourceRequirements {
  const asStrings = (m?: Record<string, string | number>) => (m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)])) : undefined);
  const out: V1ResourceRequirements = {};
  const requests = asStrings(r.requests);
  const limits = asStrings(r.limits);
  if (requests) out.requests = requests;
  if (limits) out.limits = limits;
  return out;
}

/**
 * The Deployment both components share: labels, selector, a rolling update that never drops
 * below the current capacity, and `spec.replicas` only when no HPA owns the count.
 */
export function deployment(p: OcrPipeline, component: Component, replicas: { min: number; max: number }, hash: string, podSpec: V1PodSpec): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMetadata(p, component),
    spec: {
      ...(isAutoscaled(replicas) ? {} : { replicas: replicas.min }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(p.metadata.name, component) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: { metadata: podMetadata(p, component, hash), spec: podSpec },
    },
  };
}
