// The pod watch's part of the operator: what the cache keeps of a pod (trimPod), what the
// checks read of it (podFacts, podsByComponent), gather's pods, and which pod events requeue
// a pipeline (PodChanges).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { trimPod } from './kube.ts';
import { PodChanges } from './pod-changes.ts';
import { gather, podFacts, podsByComponent, type ClusterReader, type RawPipeline } from './reconcile/gather.ts';
import { sampleSpec } from './testing/fixtures.ts';

const TERMINATION = '{"level":60,"msg":"Configuration error: API_KEYS_FILE is not set (see --help)"}';

/** A crash-looping API pod as the API server returns it (kubelet fields included). */
function crashingPod(overrides: { name?: string; component?: string; resourceVersion?: string; restartCount?: number } = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: overrides.name ?? 'invoices-api-7d9f-x2',
      namespace: 'finance',
      uid: 'pod-uid',
      resourceVersion: overrides.resourceVersion ?? '10',
      labels: {
        'app.kubernetes.io/name': 'ocr-platform',
        'app.kubernetes.io/component': overrides.component ?? 'api',
        'app.kubernetes.io/managed-by': 'ocr-platform-operator',
        'ocrplatform.io/pipeline': 'invoices',
        'pod-template-hash': '7d9f',
        team: 'finance',
      },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"secret":"x"}' },
    },
    spec: { containers: [{ name: 'api', image: 'ocr:1', env: [{ name: 'TOKEN', value: 'secret-value' }] }] },
    status: {
      phase: 'Running',
      podIP: '10.0.0.7',
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: new Date(1) },
        { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: new Date(2) },
      ],
      containerStatuses: [
        {
          name: 'api',
          image: 'ocr:1',
          imageID: 'sha256:abc',
          ready: false,
          restartCount: overrides.restartCount ?? 4,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container' } },
          lastState: { terminated: { exitCode: 2, reason: 'Error', message: TERMINATION, startedAt: new Date(3), finishedAt: new Date(4) } },
        },
      ],
    },
  };
}

void test('the pod cache keeps identity, the component and pipeline labels and the checked status fields, nothing else', () => {
  assert.deepEqual(trimPod(crashingPod()), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'invoices-api-7d9f-x2',
      namespace: 'finance',
      uid: 'pod-uid',
      resourceVersion: '10',
      labels: { 'app.kubernetes.io/component': 'api', 'ocrplatform.io/pipeline': 'invoices' },
    },
    status: {
      phase: 'Running',
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: [
        {
          name: 'api',
          restartCount: 4,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container' } },
          lastState: { terminated: { exitCode: 2, reason: 'Error', message: TERMINATION } },
        },
      ],
    },
  });
});

void test('what the checks read is the same from a full pod and from a trimmed one', () => {
  assert.deepEqual(podFacts(trimPod(crashingPod())), podFacts(crashingPod()));
  assert.deepEqual(podFacts(crashingPod()), {
    name: 'invoices-api-7d9f-x2',
    containers: [
      {
        name: 'api',
        restartCount: 4,
        waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container' },
        lastTerminated: { exitCode: 2, reason: 'Error', message: TERMINATION },
      },
    ],
  });
});

void test('an unschedulable pod carries the scheduler message', () => {
  const pod: V1Pod = {
    metadata: { name: 'p' },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available' }] },
  };
  assert.deepEqual(podFacts(pod), { name: 'p', unschedulable: '0/1 nodes are available', containers: [] });
});

void test('pods being deleted, succeeded or failed are left out', () => {
  assert.equal(podFacts({ ...crashingPod(), metadata: { name: 'p', deletionTimestamp: new Date(5) } }), undefined);
  for (const phase of ['Succeeded', 'Failed']) assert.equal(podFacts({ metadata: { name: 'p' }, status: { phase } }), undefined);
});

void test('pods are grouped by their component label, sorted by name; other components are ignored', () => {
  const grouped = podsByComponent([
    crashingPod({ name: 'b', component: 'api' }),
    crashingPod({ name: 'a', component: 'api' }),
    crashingPod({ name: 'w', component: 'worker' }),
    crashingPod({ name: 'x', component: 'sidecar' }),
  ]);
  assert.deepEqual(
    grouped.api.map((p) => p.name),
    ['a', 'b'],
  );
  assert.deepEqual(
    grouped.worker.map((p) => p.name),
    ['w'],
  );
});

const raw: RawPipeline = {
  apiVersion: 'ocrplatform.io/v1alpha1',
  kind: 'OcrPipeline',
  metadata: { name: 'invoices', namespace: 'finance', uid: 'u' },
  spec: sampleSpec('minimal'),
};
const baseReader: ClusterReader = { getSecret: () => undefined, getDeployment: () => undefined, listChildren: (): KubernetesObject[] => [] };

void test("gather reads the pipeline's pods when the reader watches pods, and leaves pods out when it does not", () => {
  const asked: string[] = [];
  const g = gather(raw, {
    ...baseReader,
    listPods: (ns, pipeline) => {
      asked.push(`${ns}/${pipeline}`);
      return [crashingPod()];
    },
  });
  assert.deepEqual(asked, ['finance/invoices']);
  assert.deepEqual(
    g.pods?.api.map((p) => p.name),
    ['invoices-api-7d9f-x2'],
  );
  assert.equal(gather(raw, baseReader).pods, undefined);
});

void test('a pod event requeues its pipeline only when what the checks read changed', () => {
  const changes = new PodChanges();
  assert.equal(changes.changed('add', crashingPod()), 'finance/invoices', 'first sight');
  assert.equal(changes.changed('update', crashingPod({ resourceVersion: '11' })), undefined, 'a new resourceVersion alone');
  const heartbeat = crashingPod({ resourceVersion: '12' });
  heartbeat.status!.podIP = '10.0.0.8';
  heartbeat.status!.conditions![1]!.lastTransitionTime = new Date(99);
  assert.equal(changes.changed('update', heartbeat), undefined, 'fields the checks do not read');
  assert.equal(changes.changed('update', crashingPod({ resourceVersion: '13', restartCount: 5 })), 'finance/invoices', 'a restart');
  assert.equal(changes.changed('delete', crashingPod()), 'finance/invoices', 'deleted');
  assert.equal(changes.changed('add', crashingPod()), 'finance/invoices', 'seen again after the delete');
});

void test('a pod without a pipeline label never requeues anything', () => {
  const pod = crashingPod();
  delete pod.metadata!.labels!['ocrplatform.io/pipeline'];
  assert.equal(new PodChanges().changed('add', pod), undefined);
});
