import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { isPodReady, podStatus, type ContainerView } from './status.ts';

const pod: V1Pod = { metadata: { name: 'p', namespace: 'n' }, spec: { containers: [] } };
const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:05.000Z';
const running = (over: Partial<ContainerView> = {}): ContainerView => ({
  name: 'api',
  image: 'img',
  runningSince: T0,
  restartCount: 0,
  started: true,
  ready: true,
  ...over,
});
const cond = (s: ReturnType<typeof podStatus>, type: string) => s.conditions.find((c) => c.type === type);

void test('a running, ready container makes the pod Running and Ready with its container status', () => {
  const s = podStatus(pod, [running()], T0, T1);
  assert.equal(s.phase, 'Running');
  assert.equal(s.podIP, '127.0.0.1');
  assert.equal(cond(s, 'Ready')?.status, 'True');
  assert.equal(cond(s, 'ContainersReady')?.status, 'True');
  assert.deepEqual(s.containerStatuses, [
    { name: 'api', image: 'img', imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: T0 } } },
  ]);
});

void test('a started but unready container keeps the pod Running and not Ready, naming the reason', () => {
  const s = podStatus(pod, [running({ ready: false })], T0, T1);
  assert.equal(s.phase, 'Running');
  assert.deepEqual(cond(s, 'Ready'), { type: 'Ready', status: 'False', lastTransitionTime: T1, reason: 'ContainersNotReady' });
});

void test('a container that never ran keeps the pod Pending with the waiting reason', () => {
  const s = podStatus(
    pod,
    [
      {
        name: 'api',
        image: 'img',
        restartCount: 0,
        started: false,
        ready: false,
        waiting: { reason: 'CreateContainerConfigError', message: 'secret "x" not found' },
      },
    ],
    T0,
    T1,
  );
  assert.equal(s.phase, 'Pending');
  assert.deepEqual(s.containerStatuses[0]?.state, { waiting: { reason: 'CreateContainerConfigError', message: 'secret "x" not found' } });
});

void test('a crashed container in back-off shows restarts and its last exit, and the pod stays Running', () => {
  const s = podStatus(
    pod,
    [
      {
        name: 'api',
        image: 'img',
        restartCount: 2,
        started: false,
        ready: false,
        waiting: { reason: 'CrashLoopBackOff' },
        lastTerminated: { exitCode: 1, reason: 'Error', finishedAt: T1 },
      },
    ],
    T0,
    T1,
  );
  assert.equal(s.phase, 'Running');
  assert.equal(s.containerStatuses[0]?.restartCount, 2);
  assert.deepEqual(s.containerStatuses[0]?.lastState, { terminated: { exitCode: 1, reason: 'Error', finishedAt: T1 } });
});

void test('transition times are kept while a condition does not change', () => {
  const before = { ...pod, status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: T0 as unknown as Date }] } };
  assert.equal(cond(podStatus(before, [running()], T0, T1), 'Ready')?.lastTransitionTime, T0);
  assert.equal(cond(podStatus(before, [running({ ready: false })], T0, T1), 'Ready')?.lastTransitionTime, T1);
});

void test('a pod is ready for traffic only with Ready=True and no deletion in progress', () => {
  assert.equal(isPodReady({ status: { conditions: [{ type: 'Ready', status: 'True' }] } }), true);
  assert.equal(isPodReady({ metadata: { deletionTimestamp: new Date() }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }), false);
  assert.equal(isPodReady({ status: { conditions: [{ type: 'Ready', status: 'False' }] } }), false);
});
