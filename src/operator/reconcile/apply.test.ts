import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyChildren, childrenToDelete, type KubeWriter } from './apply.ts';

const OWNER = 'uid-1';
const obj = (kind: string, name: string, owner = OWNER): KubernetesObject => ({
  apiVersion: kind === 'Deployment' ? 'apps/v1' : 'autoscaling/v2',
  kind,
  metadata: { name, ownerReferences: [{ apiVersion: 'ocrplatform.io/v1alpha1', kind: 'OcrPipeline', name: 'p', uid: owner, controller: true }] },
});

/** An in-memory object store with the KubeWriter contract: state to assert on, not calls. */
class MemoryStore implements KubeWriter {
  objects = new Map<string, KubernetesObject>();
  key = (o: KubernetesObject) => `${o.kind ?? ''}/${o.metadata?.name ?? ''}`;
  async apply(o: KubernetesObject) {
    this.objects.set(this.key(o), o);
    return o;
  }
  async delete(o: KubernetesObject) {
    this.objects.delete(this.key(o));
  }
}

const cases: { name: string; desired: KubernetesObject[]; existing: KubernetesObject[]; deleted: string[] }[] = [
  {
    name: 'an HPA that is no longer desired is deleted',
    desired: [obj('Deployment', 'p-worker')],
    existing: [obj('Deployment', 'p-worker'), obj('HorizontalPodAutoscaler', 'p-worker')],
    deleted: ['p-worker'],
  },
  { name: 'nothing is deleted when everything is still desired', desired: [obj('Deployment', 'p-api')], existing: [obj('Deployment', 'p-api')], deleted: [] },
  { name: 'an object owned by another pipeline is never deleted', desired: [], existing: [obj('Deployment', 'p-api', 'uid-other')], deleted: [] },
];
for (const c of cases) {
  void test(c.name, () =>
    assert.deepEqual(
      childrenToDelete(c.desired, c.existing, OWNER).map((o) => o.metadata?.name),
      c.deleted,
    ),
  );
}

void test('applying leaves exactly the desired children and reports which were created and deleted', async () => {
  const store = new MemoryStore();
  const stale = obj('HorizontalPodAutoscaler', 'p-worker');
  const kept = obj('Deployment', 'p-api');
  await store.apply(stale);
  await store.apply(kept);
  const desired = [kept, obj('Deployment', 'p-worker')];
  const result = await applyChildren(store, desired, [stale, kept], OWNER);
  assert.deepEqual([...store.objects.keys()].sort(), ['Deployment/p-api', 'Deployment/p-worker']);
  assert.deepEqual(
    result.created.map((o) => o.metadata?.name),
    ['p-worker'],
  );
  assert.deepEqual(
    result.deleted.map((o) => `${o.kind}/${o.metadata?.name}`),
    ['HorizontalPodAutoscaler/p-worker'],
  );
});

void test('an apply error propagates and stops before deleting anything', async () => {
  const store = new MemoryStore();
  const stale = obj('HorizontalPodAutoscaler', 'p-worker');
  await store.apply(stale);
  const failing: KubeWriter = { apply: () => Promise.reject(new Error('HTTP 422: bad')), delete: (o) => store.delete(o) };
  await assert.rejects(applyChildren(failing, [obj('Deployment', 'p-api')], [stale], OWNER), /422/);
  assert.ok(store.objects.has('HorizontalPodAutoscaler/p-worker'));
});
