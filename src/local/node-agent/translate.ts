// What changes when a container runs as a host process instead of in its own network
// and mount namespace. Without root the agent cannot create /etc/ocr/api-keys, and every
// pod shares the host's network, so two pods cannot both listen on 8080. The agent keeps
// the pod spec as the truth and translates, in one place:
//
//   in the pod spec                        on this machine
//   containerPort 8080                     a free loopback port, recorded in the pod
//                                          annotation ocrplatform.io/local-ports
//   env PORT / METRICS_PORT / *_PORT       the mapped host port, when the value is one of the
//     equal to a containerPort             container's ports (the apps read these to listen)
//   volumeMount /etc/ocr/api-keys          <pod dir>/volumes/<volume name>/, filled from the
//     (Secret, ConfigMap, emptyDir)        Secret or ConfigMap with the same items and modes
//   env values under a mount path          the same path under the pod dir (API_KEYS_FILE=
//                                          /etc/ocr/api-keys/keys -> <pod dir>/volumes/api-keys/keys)
//   emptyDir mounted at /tmp               TMPDIR=<pod dir>/volumes/tmp
//   pod IP                                 127.0.0.1 (HOST=127.0.0.1 so apps bind loopback only)
//   WORKER_NOTIFY_PORT unset (8081)        0, any port: each API pod's internal port is remapped, so a worker's
//                                          job-finished notice goes to that pod's own loopback port
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { ENV } from '../../contract/container.ts';
import { ContainerConfigError, type ConfigLookup } from './env.ts';

export const LOCAL_PORTS_ANNOTATION = 'ocrplatform.io/local-ports';
export const POD_IP = '127.0.0.1';

export interface PortMapping {
  container: string;
  /** The port's name in the pod spec, if it has one (probes and Services may refer to it). */
  name?: string;
  containerPort: number;
  hostPort: number;
}

/** One host port per declared container port; `allocate` returns a free loopback port. */
export async function mapPorts(pod: V1Pod, allocate: () => Promise<number>): Promise<PortMapping[]> {
  const out: PortMapping[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      out.push({ container: c.name, ...(p.name ? { name: p.name } : {}), containerPort: p.containerPort, hostPort: await allocate() });
    }
  }
  return out;
}

export function parsePortsAnnotation(value: string | undefined): PortMapping[] {
  if (!value) return [];
  try {
    const parsed = JSON.parse(value) as unknown;
    return Array.isArray(parsed) ? parsed.filter((m): m is PortMapping => typeof m?.containerPort === 'number' && typeof m?.hostPort === 'number') : [];
  } catch {
    return [];
  }
}

/**
 * The host port behind a port reference of a probe or a Service's targetPort: a name
 * ("http") or a number (8080). Undefined when the pod declares no such port.
 */
export function hostPortFor(mappings: readonly PortMapping[], ref: string | number, container?: string): number | undefined {
  const mine = container === undefined ? mappings : mappings.filter((m) => m.container === container);
  const hit = typeof ref === 'number' || /^\d+$/.test(ref) ? mine.find((m) => m.containerPort === Number(ref)) : mine.find((m) => m.name === ref);
  return hit?.hostPort;
}

/** Env names whose value is a port number the app listens on. */
export function isPortVariable(name: string): boolean {
  return name === 'PORT' || name.endsWith('_PORT');
}

export interface MountedPath {
  mountPath: string;
  hostPath: string;
}

/** Rewrites a value that is a mount path or below one to the host directory (longest mount wins). */
export function rewritePath(value: string, mounts: readonly MountedPath[]): string {
  const hit = [...mounts]
    .sort((a, b) => b.mountPath.length - a.mountPath.length)
    .find((m) => value === m.mountPath || value.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
  return hit ? hit.hostPath + value.slice(hit.mountPath.replace(/\/$/, '').length) : value;
}

/** Applies the table above to a resolved environment. Pure. */
export function localEnv(
  resolved: ReadonlyMap<string, string>,
  container: string,
  ports: readonly PortMapping[],
  mounts: readonly MountedPath[],
): Map<string, string> {
  const env = new Map<string, string>();
  for (const [name, value] of resolved) {
    const port = isPortVariable(name) && /^\d+$/.test(value) ? hostPortFor(ports, Number(value), container) : undefined;
    env.set(name, port !== undefined ? String(port) : rewritePath(value, mounts));
  }
  const tmp = mounts.find((m) => m.mountPath === '/tmp');
  if (tmp) env.set('TMPDIR', tmp.hostPath);
  if (!env.has('HOST')) env.set('HOST', POD_IP);
  if (!env.has(ENV.workerNotifyPort)) env.set(ENV.workerNotifyPort, '0');
  return env;
}

export interface VolumeFile {
  /** Path relative to the volume's directory. */
  path: string;
  content: string;
  mode: number;
}

/**
 * The files of a Secret, ConfigMap or emptyDir volume, as the kubelet would project them
 * (items select and rename keys; defaultMode/mode apply). Throws ContainerConfigError for
 * a missing required source or key, and for volume types the agent cannot provide.
 */
export function volumeFiles(volume: V1Volume, namespace: string, lookup: ConfigLookup): VolumeFile[] {
  if (volume.emptyDir) return [];
  if (volume.projected) {
    // the ServiceAccount token volume (kube-api-access-*) is projected: its Secret and
    // ConfigMap sources are honoured; no token is minted (these pods never call the API,
    // and our operator sets automountServiceAccountToken: false anyway)
    const mode = volume.projected.defaultMode ?? 0o644;
    return (volume.projected.sources ?? []).flatMap((s) => {
      if (s.secret)
        return volumeFiles(
          { name: volume.name, secret: { secretName: s.secret.name, items: s.secret.items, optional: s.secret.optional, defaultMode: mode } },
          namespace,
          lookup,
        );
      if (s.configMap)
        return volumeFiles(
          { name: volume.name, configMap: { name: s.configMap.name, items: s.configMap.items, optional: s.configMap.optional, defaultMode: mode } },
          namespace,
          lookup,
        );
      return [];
    });
  }
  const source = volume.secret ?? volume.configMap;
  if (!source) {
    throw new ContainerConfigError(`volume "${volume.name}": the local node agent supports secret, configMap, projected and emptyDir volumes only`);
  }
  const isSecret = volume.secret !== undefined;
  const name = isSecret ? (volume.secret!.secretName ?? '') : (volume.configMap!.name ?? '');
  const data = isSecret ? lookup.secret(namespace, name) : lookup.configMap(namespace, name);
  const defaultMode = source.defaultMode ?? 0o644;
  if (data === undefined) {
    if (source.optional) return [];
    throw new ContainerConfigError(`volume "${volume.name}": ${isSecret ? 'secret' : 'configmap'} "${name}" not found in namespace ${namespace}`);
  }
  if (!source.items?.length) return Object.entries(data).map(([key, content]) => ({ path: key, content, mode: defaultMode }));
  return source.items.flatMap((item) => {
    const content = data[item.key];
    if (content === undefined) {
      if (source.optional) return [];
      throw new ContainerConfigError(`volume "${volume.name}": couldn't find key ${item.key} in ${isSecret ? 'Secret' : 'ConfigMap'} ${namespace}/${name}`);
    }
    return [{ path: item.path, content, mode: item.mode ?? defaultMode }];
  });
}

/** The volumes one container mounts, with the host directory each gets under `podDir`. */
export function containerMounts(pod: V1Pod, container: V1Container, podDir: string): MountedPath[] {
  const volumes = new Set((pod.spec?.volumes ?? []).map((v) => v.name));
  return (container.volumeMounts ?? []).map((m) => {
    if (!volumes.has(m.name)) throw new ContainerConfigError(`volumeMount "${m.name}" of container ${container.name} names no volume of the pod`);
    const base = `${podDir}/volumes/${m.name}`;
    return { mountPath: m.mountPath, hostPath: m.subPath ? `${base}/${m.subPath}` : base };
  });
}
