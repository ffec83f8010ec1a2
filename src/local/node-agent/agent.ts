// The local node agent: a minimal kubelet for this project's own pods. It registers a
// Node that kwok does not manage, keeps it Ready (node status + a Lease in
// kube-node-lease), runs every pod the scheduler binds to it as host processes (see
// pod.ts, container.ts, translate.ts), reports pod status through the status
// subresource, and finishes deletions (SIGTERM, grace period, SIGKILL, then the final
// delete with grace 0 that a kubelet sends).
import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { freePort } from '../../shared/net.ts';
import type { CommandOptions } from './commands.ts';
import type { ConfigLookup } from './env.ts';
import { inform, isConflict, isNotFound, type Informer, type Kube, type KubeObject } from '../kube.ts';
import { graceSeconds, PodRunner, podKey } from './pod.ts';
import { LOCAL_PORTS_ANNOTATION, POD_IP, type PortMapping } from './translate.ts';

export const LOCAL_AGENT_LABEL = 'ocrplatform.io/local-agent';
export const DEFAULT_NODE_NAME = 'ocr-local-agent';
export const LOCAL_AGENT_TAINT = { key: LOCAL_AGENT_LABEL, value: 'true', effect: 'NoSchedule' };

export interface NodeAgentOptions {
  kube: Kube;
  nodeName?: string;
  /** where pod volumes are materialised (a fresh temp dir per agent is best) */
  workDir: string;
  /** one log file per container: <namespace>_<pod>_<container>.log */
  logsDir: string;
  commands: CommandOptions;
  /** node capacity (default: this machine's CPUs and memory, 110 pods) */
  capacity?: { cpu: string; memory: string; pods: string };
  /** the longest a stop() waits per pod before SIGKILL (default 10 s; a deleted pod gets its full grace period) */
  stopGraceMs?: number;
  /** delete the Node on stop, so the pod garbage collector cleans up its pods in a shared cluster (default true) */
  deleteNodeOnStop?: boolean;
  log?: (line: string) => void;
}

export interface NodeAgent {
  nodeName: string;
  logsDir: string;
  /** pods this agent runs, by namespace/name */
  pods(): { name: string; uid: string; pids: number[]; ready: boolean; ports: PortMapping[] }[];
  stop(): Promise<void>;
}

/** The Node object: labelled for nodeSelectors, with no kwok annotation so kwok leaves it alone. */
export function localNode(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
        [LOCAL_AGENT_LABEL]: 'true',
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    },
    // Only pods that opt in (toleration + nodeSelector) run here as real processes; any other
    // pod (other tests' pipelines in a shared cluster) stays on kwok's fake nodes.
    spec: { taints: [LOCAL_AGENT_TAINT] },
  };
}

export function nodeStatus(capacity: { cpu: string; memory: string; pods: string }, now: string, since: string) {
  const condition = (type: string, status: 'True' | 'False', reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: since,
  });
  return {
    capacity,
    allocatable: capacity,
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'local node agent'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'local node agent'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'local node agent'),
      condition('Ready', 'True', 'KubeletReady', 'ocr-platform local node agent is running pods as host processes'),
    ],
    addresses: [
      { type: 'InternalIP', address: POD_IP },
      { type: 'Hostname', address: hostname() },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
    nodeInfo: {
      machineID: '',
      systemUUID: '',
      bootID: '',
      kernelVersion: '',
      osImage: 'ocr-platform local node agent',
      containerRuntimeVersion: `node://${process.versions.node}`,
      kubeletVersion: 'v1.36.0-ocr-local',
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    },
  };
}

export function machineCapacity(): { cpu: string; memory: string; pods: string } {
  return { cpu: String(availableParallelism()), memory: `${Math.floor(totalmem() / 1024 / 1024)}Mi`, pods: '110' };
}

const LEASE_SECONDS = 40;
const HEARTBEAT_MS = 10_000;

function decode(data: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

export async function startNodeAgent(options: NodeAgentOptions): Promise<NodeAgent> {
  const { kube } = options;
  const nodeName = options.nodeName ?? DEFAULT_NODE_NAME;
  const log = options.log ?? ((line: string) => process.stderr.write(`[node-agent] ${line}\n`));
  const capacity = options.capacity ?? machineCapacity();
  const since = new Date().toISOString();
  mkdirSync(options.workDir, { recursive: true });
  mkdirSync(options.logsDir, { recursive: true });

  // --- the Node and its heartbeats
  try {
    await kube.request('POST', '/api/v1/nodes', { body: localNode(nodeName) });
  } catch (error) {
    if (!isConflict(error)) throw error;
    const { metadata, spec } = localNode(nodeName);
    await kube.request('PATCH', `/api/v1/nodes/${nodeName}`, { body: { metadata, spec }, contentType: 'application/merge-patch+json' });
  }
  const heartbeat = async (): Promise<void> => {
    const now = new Date().toISOString();
    await kube.request('PATCH', `/api/v1/nodes/${nodeName}/status`, {
      body: { status: nodeStatus(capacity, now, since) },
      contentType: 'application/merge-patch+json',
    });
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: nodeName, namespace: 'kube-node-lease' },
      spec: { holderIdentity: nodeName, leaseDurationSeconds: LEASE_SECONDS, renewTime: now.replace('Z', '000Z') },
    };
    try {
      await kube.request('PATCH', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`, {
        body: { spec: lease.spec },
        contentType: 'application/merge-patch+json',
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await kube.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { body: lease });
    }
  };
  await heartbeat();
  const heartbeatTimer = setInterval(() => void heartbeat().catch((e: unknown) => log(`heartbeat failed: ${String(e)}`)), HEARTBEAT_MS);

  // --- Secrets and ConfigMaps the pods reference, cached by two informers
  const secrets = inform<KubeObject & { data?: Record<string, string> }>(kube, '/api/v1/secrets', {}, () => {});
  const configMaps = inform<KubeObject & { data?: Record<string, string> }>(kube, '/api/v1/configmaps', {}, () => {});
  await Promise.all([secrets.synced, configMaps.synced]);
  const lookup: ConfigLookup = {
    secret: (ns, name) => {
      const s = secrets.items.get(`${ns}/${name}`);
      return s ? decode(s.data) : undefined;
    },
    configMap: (ns, name) => configMaps.items.get(`${ns}/${name}`)?.data ?? undefined,
  };

  // --- pods bound to this node
  const runners = new Map<string, PodRunner>(); // by uid
  const dirty = new Set<string>();
  const written = new Map<string, string>();
  let flushTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const writeStatus = async (runner: PodRunner): Promise<void> => {
    const status = runner.status();
    const body = JSON.stringify({ status });
    // the same status (ignoring timestamps that did not move) is not written twice
    if (written.get(runner.uid) === body) return;
    const [ns, name] = runner.name.split('/') as [string, string];
    try {
      await kube.request('PATCH', `/api/v1/namespaces/${ns}/pods/${name}/status`, {
        body: { metadata: { uid: runner.uid }, status },
        contentType: 'application/merge-patch+json',
      });
      written.set(runner.uid, body);
    } catch (error) {
      if (!isNotFound(error) && !isConflict(error)) log(`pod ${runner.name}: status update failed: ${String(error)}`);
    }
  };
  const flush = (): void => {
    flushTimer = undefined;
    const uids = [...dirty];
    dirty.clear();
    for (const uid of uids) {
      const runner = runners.get(uid);
      if (runner) void writeStatus(runner);
    }
  };
  const markDirty = (uid: string): void => {
    dirty.add(uid);
    // coalesce bursts (several containers changing at once) into one write
    flushTimer ??= setTimeout(flush, 50);
  };

  const deleting = new Set<string>();
  const finishDeletion = async (runner: PodRunner, pod: V1Pod): Promise<void> => {
    if (deleting.has(runner.uid)) return;
    deleting.add(runner.uid);
    const grace = graceSeconds(pod);
    log(`pod ${runner.name}: deleting (grace period ${grace} s): SIGTERM`);
    await runner.terminate(grace * 1000);
    runners.delete(runner.uid);
    written.delete(runner.uid);
    const [ns, name] = runner.name.split('/') as [string, string];
    try {
      // the kubelet's final word: the containers are gone, the API server may drop the pod
      await kube.request('DELETE', `/api/v1/namespaces/${ns}/pods/${name}`, {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: runner.uid } },
      });
      log(`pod ${runner.name}: stopped and deleted`);
    } catch (error) {
      if (!isNotFound(error) && !isConflict(error)) log(`pod ${runner.name}: final delete failed: ${String(error)}`);
    } finally {
      deleting.delete(runner.uid);
    }
  };

  const onPod = (type: string, pod: V1Pod): void => {
    if (stopped) return;
    const uid = pod.metadata?.uid ?? '';
    let runner = runners.get(uid);
    if (type === 'DELETED') {
      if (runner) {
        // deleted with grace 0 by someone else (kubectl delete --force): stop at once
        runners.delete(uid);
        void runner.terminate(0).then(() => log(`pod ${podKey(pod)}: force-deleted; processes stopped`));
      }
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    if (runner) {
      runner.pod = pod;
      if (pod.metadata?.deletionTimestamp) void finishDeletion(runner, pod);
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      // never started here (e.g. the agent restarted): nothing to stop, just finish the deletion
      runner = new PodRunner(pod, podContext(pod));
      runners.set(uid, runner);
      void finishDeletion(runner, pod);
      return;
    }
    runner = new PodRunner(pod, podContext(pod));
    runners.set(uid, runner);
    markDirty(uid);
    void runner.start().catch((e: unknown) => log(`pod ${podKey(pod)}: start failed: ${String(e)}`));
  };

  const podContext = (pod: V1Pod) => {
    const uid = pod.metadata?.uid ?? '';
    const [ns, name] = podKey(pod).split('/') as [string, string];
    return {
      lookup,
      commands: options.commands,
      allocatePort: freePort,
      podDir: join(options.workDir, 'pods', uid),
      logsDir: options.logsDir,
      publishPorts: async (ports: unknown[]) => {
        await kube.request('PATCH', `/api/v1/namespaces/${ns}/pods/${name}`, {
          body: { metadata: { annotations: { [LOCAL_PORTS_ANNOTATION]: JSON.stringify(ports) } } },
          contentType: 'application/merge-patch+json',
        });
      },
      onChange: () => markDirty(uid),
      log,
    };
  };

  const pods: Informer<V1Pod & KubeObject> = inform<V1Pod & KubeObject>(
    kube,
    '/api/v1/pods',
    { fieldSelector: `spec.nodeName=${nodeName}` },
    (type, pod) => onPod(type, pod),
    (error) => log(`pod watch: ${error.message} (retrying)`),
  );
  await pods.synced;
  log(`node ${nodeName} Ready (${capacity.cpu} cpu, ${capacity.memory}); container logs in ${options.logsDir}`);

  return {
    nodeName,
    logsDir: options.logsDir,
    pods: () =>
      [...runners.values()].map((r) => ({
        name: r.name,
        uid: r.uid,
        pids: r.pids,
        ports: r.portMappings,
        ready: r.status().conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
      })),
    async stop() {
      if (stopped) return;
      stopped = true;
      pods.stop();
      secrets.stop();
      configMaps.stop();
      clearInterval(heartbeatTimer);
      clearTimeout(flushTimer);
      const grace = options.stopGraceMs ?? 10_000;
      await Promise.all([...runners.values()].map((r) => r.terminate(Math.min(grace, graceSeconds(r.pod) * 1000))));
      runners.clear();
      if (options.deleteNodeOnStop ?? true) {
        for (const path of [`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`, `/api/v1/nodes/${nodeName}`]) {
          try {
            await kube.request('DELETE', path, { timeoutMs: 5_000 });
          } catch (error) {
            if (!isNotFound(error)) log(`could not delete ${path}: ${String(error)}`);
          }
        }
      }
      rmSync(options.workDir, { recursive: true, force: true });
      log(`node ${nodeName}: stopped`);
    },
  };
}
