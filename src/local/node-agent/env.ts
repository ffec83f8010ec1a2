// A container's environment, resolved the way the kubelet does it: `envFrom` first, then
// `env` in order (later wins), `$(VAR)` references expanded against what came before,
// values from Secrets, ConfigMaps and the pod's own fields. Pure: the Secrets and
// ConfigMaps come in through a lookup, so every rule here is unit-tested without a cluster.
import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';

/** Data of a Secret (already base64-decoded) or ConfigMap; undefined when it does not exist. */
export interface ConfigLookup {
  secret(namespace: string, name: string): Record<string, string> | undefined;
  configMap(namespace: string, name: string): Record<string, string> | undefined;
}

/**
 * A problem that stops the container from being created, reported like the kubelet's
 * CreateContainerConfigError (the message names the missing object and key).
 */
export class ContainerConfigError extends Error {
  override name = 'ContainerConfigError';
  readonly reason = 'CreateContainerConfigError';
}

/** `$(VAR)` expands to a variable defined earlier; `$$(VAR)` is a literal `$(VAR)`; unknown references stay as they are. */
export function expandReferences(value: string, defined: ReadonlyMap<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && defined.has(name) ? defined.get(name)! : match;
  });
}

export function fieldValue(pod: V1Pod, fieldPath: string, podIP: string): string {
  const m = pod.metadata ?? {};
  const labelOrAnnotation = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (labelOrAnnotation) {
    const map = labelOrAnnotation[1] === 'labels' ? m.labels : m.annotations;
    return map?.[labelOrAnnotation[2]!] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return m.name ?? '';
    case 'metadata.namespace':
      return m.namespace ?? '';
    case 'metadata.uid':
      return m.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.hostIP':
      return podIP;
    default:
      throw new ContainerConfigError(
        `unsupported fieldRef.fieldPath "${fieldPath}": the local node agent supports metadata.name, metadata.namespace, metadata.uid, metadata.labels['k'], metadata.annotations['k'], spec.nodeName, spec.serviceAccountName, status.podIP, status.hostIP`,
      );
  }
}

function keyFrom(
  kind: 'secret' | 'configmap',
  namespace: string,
  data: Record<string, string> | undefined,
  ref: { name?: string; key: string; optional?: boolean },
): string | undefined {
  if (data === undefined) {
    if (ref.optional) return undefined;
    throw new ContainerConfigError(`${kind} "${ref.name ?? ''}" not found in namespace ${namespace}`);
  }
  if (!(ref.key in data)) {
    if (ref.optional) return undefined;
    throw new ContainerConfigError(`couldn't find key ${ref.key} in ${kind === 'secret' ? 'Secret' : 'ConfigMap'} ${namespace}/${ref.name ?? ''}`);
  }
  return data[ref.key];
}

function valueOf(variable: V1EnvVar, pod: V1Pod, lookup: ConfigLookup, defined: ReadonlyMap<string, string>, podIP: string): string | undefined {
  const namespace = pod.metadata?.namespace ?? 'default';
  if (variable.valueFrom === undefined) return expandReferences(variable.value ?? '', defined);
  const from = variable.valueFrom;
  if (from.secretKeyRef) return keyFrom('secret', namespace, lookup.secret(namespace, from.secretKeyRef.name ?? ''), from.secretKeyRef);
  if (from.configMapKeyRef) return keyFrom('configmap', namespace, lookup.configMap(namespace, from.configMapKeyRef.name ?? ''), from.configMapKeyRef);
  if (from.fieldRef) return fieldValue(pod, from.fieldRef.fieldPath, podIP);
  throw new ContainerConfigError(`env ${variable.name}: only value, secretKeyRef, configMapKeyRef and fieldRef are supported by the local node agent`);
}

/** Environment variable names the kubelet accepts (C identifiers plus '.' and '-'). */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Resolves `envFrom` and `env` of one container. Throws ContainerConfigError for a missing required Secret/ConfigMap or key. */
export function resolveEnv(pod: V1Pod, container: V1Container, lookup: ConfigLookup, podIP = '127.0.0.1'): Map<string, string> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const env = new Map<string, string>();
  for (const source of container.envFrom ?? []) {
    const ref = source.secretRef ?? source.configMapRef;
    const kind = source.secretRef ? 'secret' : 'configmap';
    const data = source.secretRef ? lookup.secret(namespace, ref?.name ?? '') : lookup.configMap(namespace, ref?.name ?? '');
    if (data === undefined) {
      if (ref?.optional) continue;
      throw new ContainerConfigError(`${kind} "${ref?.name ?? ''}" not found in namespace ${namespace} (envFrom)`);
    }
    for (const [key, value] of Object.entries(data)) {
      const name = `${source.prefix ?? ''}${key}`;
      if (ENV_NAME.test(name)) env.set(name, value); // the kubelet skips invalid names too
    }
  }
  for (const variable of container.env ?? []) {
    const value = valueOf(variable, pod, lookup, env, podIP);
    if (value !== undefined) env.set(variable.name, value);
  }
  return env;
}
