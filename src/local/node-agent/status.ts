// Pod status as the kubelet reports it, built from what the agent knows about each
// container. Pure: same input, same status; transition times are kept from the previous
// status while a condition's value does not change, so a steady pod writes nothing new.
//
// The types are the JSON the API server takes (timestamps as RFC 3339 strings), not the
// client library's classes (which hold Date objects): the agent writes them as they are.
import type { V1Pod } from '@kubernetes/client-node';
import { POD_IP } from './translate.ts';

export interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime: string;
  reason?: string;
}

export interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: { running: { startedAt: string } } | { waiting: { reason: string; message?: string } };
  lastState?: { terminated: { exitCode: number; reason: string; finishedAt: string; startedAt?: string; message?: string } };
}

export interface PodStatus {
  phase: 'Pending' | 'Running';
  hostIP: string;
  hostIPs: { ip: string }[];
  podIP: string;
  podIPs: { ip: string }[];
  startTime: string;
  qosClass: string;
  conditions: PodCondition[];
  containerStatuses: ContainerStatus[];
}

export interface ContainerView {
  name: string;
  image: string;
  /** set while the process runs */
  runningSince?: string;
  /** set while the container cannot run (config error, back-off after a crash, starting) */
  waiting?: { reason: string; message?: string };
  lastTerminated?: { exitCode: number; signal?: string; reason: string; startedAt?: string; finishedAt: string };
  restartCount: number;
  started: boolean;
  ready: boolean;
}

function condition(type: string, value: boolean, now: string, previous: readonly PodCondition[], reason?: string): PodCondition {
  const status = value ? 'True' : 'False';
  const before = previous.find((c) => c.type === type);
  const lastTransitionTime = before && before.status === status && before.lastTransitionTime ? before.lastTransitionTime : now;
  return { type, status, lastTransitionTime, ...(value || !reason ? {} : { reason }) };
}

export function containerStatus(view: ContainerView): ContainerStatus {
  const state = view.runningSince
    ? { running: { startedAt: view.runningSince } }
    : { waiting: { reason: view.waiting?.reason ?? 'ContainerCreating', ...(view.waiting?.message ? { message: view.waiting.message } : {}) } };
  const t = view.lastTerminated;
  return {
    name: view.name,
    image: view.image,
    imageID: '',
    ready: view.ready,
    started: view.started,
    restartCount: view.restartCount,
    state,
    ...(t
      ? {
          lastState: {
            terminated: {
              exitCode: t.exitCode,
              reason: t.reason,
              finishedAt: t.finishedAt,
              ...(t.startedAt ? { startedAt: t.startedAt } : {}),
              ...(t.signal ? { message: `killed by ${t.signal}` } : {}),
            },
          },
        }
      : {}),
  };
}

/**
 * Phase Pending until every container has run at least once, Running after (restarts keep
 * it Running, as with restartPolicy Always). Ready = ContainersReady = all containers ready.
 */
export function podStatus(pod: V1Pod, views: readonly ContainerView[], startTime: string, now: string): PodStatus {
  const previous = (pod.status?.conditions ?? []) as unknown as PodCondition[];
  const allReady = views.length > 0 && views.every((v) => v.ready);
  const everRan = views.length > 0 && views.every((v) => v.runningSince !== undefined || v.lastTerminated !== undefined);
  const notReady = views.filter((v) => !v.ready).map((v) => v.name);
  const reason = notReady.length ? 'ContainersNotReady' : undefined;
  return {
    phase: everRan ? 'Running' : 'Pending',
    hostIP: POD_IP,
    hostIPs: [{ ip: POD_IP }],
    podIP: POD_IP,
    podIPs: [{ ip: POD_IP }],
    startTime,
    qosClass: pod.status?.qosClass ?? 'Burstable',
    conditions: [
      condition('PodReadyToStartContainers', true, now, previous),
      condition('Initialized', true, now, previous),
      condition('ContainersReady', allReady, now, previous, reason),
      condition('Ready', allReady, now, previous, reason),
      condition('PodScheduled', true, now, previous),
    ],
    containerStatuses: views.map(containerStatus),
  };
}

/** Whether a pod (as stored in the API) is Ready: what Services and the proxy route by. */
export function isPodReady(pod: V1Pod): boolean {
  return pod.metadata?.deletionTimestamp === undefined && pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}
