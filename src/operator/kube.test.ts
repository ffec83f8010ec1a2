import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject, V1Deployment, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { childFingerprint } from './child-changes.ts';
import { objectPath, reduceManagedFields, statusPatch, trimChild, trimScaledObject } from './kube.ts';
import { WATCH_RETRY, watchQuery, watchRetryDelay } from './kube-http/informer.ts';
import { appliesReplicas } from './reconcile/apply.ts';
import { deploymentFacts } from './reconcile/gather.ts';

void test('the status merge patch removes fields that are gone and replaces the rest', () => {
  const patch = statusPatch(
    { observedGeneration: 1, api: { desiredReplicas: 2, readyReplicas: 2 }, conditions: [] },
    { observedGeneration: 2, conditions: [] },
  );
  assert.deepEqual(patch, { observedGeneration: 2, conditions: [], api: null });
});

void test('the first status write is the status itself', () => {
  assert.deepEqual(statusPatch(undefined, { observedGeneration: 1 }), { observedGeneration: 1 });
});

void describe('watch retry delay', () => {
  const mid = () => 0.5; // no jitter
  const cases: { name: string; previousMs: number; healthyForMs: number; random?: () => number; waitMs: number; nextMs: number }[] = [
    { name: 'the first failure waits the base delay', previousMs: 0, healthyForMs: 0, waitMs: 1_000, nextMs: 1_000 },
    { name: 'a watch that fails again soon after its restart waits twice as long', previousMs: 1_000, healthyForMs: 500, waitMs: 2_000, nextMs: 2_000 },
    {
      name: 'a watch that connects and fails at once keeps growing (a connect alone resets nothing)',
      previousMs: 16_000,
      healthyForMs: 59_999,
      waitMs: 32_000,
      nextMs: 32_000,
    },
    { name: 'the delay never exceeds the cap', previousMs: 60_000, healthyForMs: 0, waitMs: 60_000, nextMs: 60_000 },
    { name: 'a watch healthy for a minute starts over at the base delay', previousMs: 60_000, healthyForMs: 60_000, waitMs: 1_000, nextMs: 1_000 },
    { name: 'jitter spreads the wait by at most 20 % below', previousMs: 4_000, healthyForMs: 0, random: () => 0, waitMs: 6_400, nextMs: 8_000 },
    { name: 'jitter spreads the wait by at most 20 % above', previousMs: 4_000, healthyForMs: 0, random: () => 1, waitMs: 9_600, nextMs: 8_000 },
  ];
  for (const c of cases) {
    void it(c.name, () => assert.deepEqual(watchRetryDelay(c.previousMs, c.healthyForMs, c.random ?? mid), { waitMs: c.waitMs, nextMs: c.nextMs }));
  }
  void it('stays within base and cap over a long run of failures', () => {
    let previous = 0;
    for (let i = 0; i < 50; i++) {
      const { waitMs, nextMs } = watchRetryDelay(previous, 0);
      assert.ok(waitMs >= WATCH_RETRY.baseMs * 0.8 && waitMs <= WATCH_RETRY.maxMs * 1.2, String(waitMs));
      previous = nextMs;
    }
    assert.equal(previous, WATCH_RETRY.maxMs);
  });
});

void test('every watch asks for bookmarks and a server-side timeout of 5 to 10 minutes, keeping its own parameters', () => {
  assert.deepEqual(
    watchQuery({ resourceVersion: '7', labelSelector: 'a=b' }, () => 0),
    {
      resourceVersion: '7',
      labelSelector: 'a=b',
      allowWatchBookmarks: true,
      timeoutSeconds: 300,
    },
  );
  assert.equal(watchQuery({}, () => 1).timeoutSeconds, 600);
});

const managedFields: V1ManagedFieldsEntry[] = [
  {
    manager: 'ocr-platform-operator',
    operation: 'Apply',
    time: new Date(0),
    fieldsV1: { 'f:metadata': { 'f:labels': { 'f:a': {} } }, 'f:spec': { 'f:replicas': {}, 'f:template': { 'f:spec': {} } } },
  },
  { manager: 'kube-controller-manager', operation: 'Update', subresource: 'status', time: new Date(0), fieldsV1: { 'f:status': { 'f:replicas': {} } } },
];

void test('managedFields keep who wrote what top-level field and whether spec.replicas was among them, nothing deeper', () => {
  assert.deepEqual(reduceManagedFields(managedFields), [
    { manager: 'ocr-platform-operator', operation: 'Apply', time: new Date(0), fieldsV1: { 'f:metadata': {}, 'f:spec': { 'f:replicas': {} } } },
    { manager: 'kube-controller-manager', operation: 'Update', subresource: 'status', time: new Date(0), fieldsV1: { 'f:status': {} } },
  ]);
});

void test('a cached Deployment keeps metadata, spec.replicas and status (conditions without timestamps), and what the reconcile reads still reads the same', () => {
  const d: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'p-worker',
      namespace: 'ns',
      generation: 4,
      labels: { 'ocrplatform.io/pipeline': 'p' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}', keep: 'me' },
      managedFields,
    },
    spec: { replicas: 3, selector: {}, template: { spec: { containers: [{ name: 'worker', image: 'img' }] } } },
    status: {
      observedGeneration: 4,
      replicas: 3,
      readyReplicas: 2,
      conditions: [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: 'm',
          lastUpdateTime: new Date(5),
          lastTransitionTime: new Date(5),
        },
      ],
    },
  };
  const trimmed = trimChild(d) as V1Deployment;
  assert.equal(trimmed.spec?.template, undefined);
  assert.equal(trimmed.spec?.replicas, 3);
  assert.deepEqual(trimmed.metadata?.annotations, { keep: 'me' });
  assert.deepEqual(trimmed.status?.conditions, [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'm' }]);
  assert.deepEqual(deploymentFacts(trimmed), deploymentFacts(d));
  assert.equal(appliesReplicas(trimmed), appliesReplicas(d));
  assert.equal(appliesReplicas(trimmed), true);
});

void test('a Deployment from a list (no kind on items) is trimmed too; other kinds keep their spec and status', () => {
  const listed = { metadata: { name: 'x' }, spec: { replicas: 1, template: {} } } as KubernetesObject;
  assert.deepEqual((trimChild(listed) as V1Deployment).spec, { replicas: 1 });
  const hpa = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'h' },
    spec: { maxReplicas: 5 },
    status: { desiredReplicas: 2 },
  };
  const trimmed = trimChild(hpa) as typeof hpa;
  assert.deepEqual([trimmed.spec, trimmed.status], [hpa.spec, hpa.status]);
});

void test("a ScaledObject is cached with its spec and lean metadata, without KEDA's status; its fingerprint ignores status changes", () => {
  const so = {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: {
      name: 'p-worker',
      generation: 2,
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":1}', keep: 'me' },
      managedFields: [{ manager: 'keda', operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': { 'f:conditions': {} } } }],
    },
    spec: { maxReplicaCount: 3, triggers: [{ type: 'prometheus' }] },
    status: { conditions: [{ type: 'Ready', status: 'True' }], lastActiveTime: '2026-01-01T00:00:00Z' },
  };
  const trimmed = trimScaledObject(so) as typeof so;
  assert.equal(trimmed.status, undefined);
  assert.deepEqual(trimmed.spec, so.spec);
  assert.deepEqual(trimmed.metadata.annotations, { keep: 'me' });
  assert.deepEqual(trimmed.metadata.managedFields, [
    { manager: 'keda', operation: 'Update', time: undefined, subresource: 'status', fieldsV1: { 'f:status': {} } },
  ]);
  const later = trimScaledObject({ ...so, status: { ...so.status, lastActiveTime: '2026-01-01T00:01:00Z' } } as KubernetesObject);
  assert.equal(childFingerprint(later), childFingerprint(trimmed));
});

void describe('the REST path of a written object', () => {
  const meta = { name: 'p-api', namespace: 'ns' };
  const cases: { name: string; obj: KubernetesObject; path: string }[] = [
    {
      name: 'a Deployment lives under apps/v1',
      obj: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta },
      path: '/apis/apps/v1/namespaces/ns/deployments/p-api',
    },
    { name: 'a Service lives under the core group', obj: { apiVersion: 'v1', kind: 'Service', metadata: meta }, path: '/api/v1/namespaces/ns/services/p-api' },
    {
      name: 'a KEDA ScaledObject (watched only where KEDA is served)',
      obj: { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: meta },
      path: '/apis/keda.sh/v1alpha1/namespaces/ns/scaledobjects/p-api',
    },
  ];
  for (const c of cases) void it(c.name, () => assert.equal(objectPath(c.obj), c.path));
  void it('a kind the operator does not manage is refused with the place to add it', () =>
    assert.throws(() => objectPath({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta }), /No REST path known for v1 ConfigMap: add it to MANAGED_KINDS/));
});
