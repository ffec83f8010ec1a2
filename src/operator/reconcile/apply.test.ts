import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { ApiKeys } from '../../api/auth.ts';
import { pipeline } from '../testing/fixtures.ts';
import { FIELD_MANAGER } from '../../contract/labels.ts';
import { applyChildren, childrenToDelete, ensureGeneratedKeys, randomApiKey, replicasHandover, type KubeWriter } from './apply.ts';
import { secretValueHash } from './gather.ts';

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
  async handOver() {
    return 'applied' as const;
  }
  async createSecret(s: V1Secret) {
    const existing = this.objects.get(this.key(s));
    if (existing) return { secret: existing, created: false };
    this.objects.set(this.key(s), s);
    return { secret: s, created: true };
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

/** A Deployment as the API server returns it, with the managedFields entries of the given managers. */
const deployed = (replicas: number | undefined, managers: { manager: string; operation: string; replicas: boolean }[]): KubernetesObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'p-worker',
      namespace: 'ns',
      managedFields: managers.map((m) => ({
        manager: m.manager,
        operation: m.operation,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { ...(m.replicas ? { 'f:replicas': {} } : {}), 'f:template': {} } },
      })),
    },
    spec: { ...(replicas !== undefined ? { replicas } : {}), selector: {}, template: {} },
  }) as KubernetesObject;
const autoscaled = deployed(undefined, []);
const ours = { manager: FIELD_MANAGER, operation: 'Apply', replicas: true };

const handoverCases: { name: string; desired: KubernetesObject; existing: KubernetesObject | undefined; replicas: number | undefined }[] = [
  {
    name: 'switching to autoscaled while our manager applied replicas hands the current count over',
    desired: autoscaled,
    existing: deployed(4, [ours]),
    replicas: 4,
  },
  { name: 'a Deployment that still has fixed replicas needs no handover', desired: deployed(2, []), existing: deployed(4, [ours]), replicas: undefined },
  {
    name: 'a count the HPA controller already owns is not handed over again',
    desired: autoscaled,
    existing: deployed(5, [
      { manager: FIELD_MANAGER, operation: 'Apply', replicas: false },
      { manager: 'kube-controller-manager', operation: 'Update', replicas: true },
    ]),
    replicas: undefined,
  },
  {
    name: 'replicas set by a kubectl update under our name is not an apply and is not handed over',
    desired: autoscaled,
    existing: deployed(3, [{ manager: FIELD_MANAGER, operation: 'Update', replicas: true }]),
    replicas: undefined,
  },
  { name: 'a Deployment created autoscaled has nothing to hand over', desired: autoscaled, existing: undefined, replicas: undefined },
];
for (const c of handoverCases) {
  void test(c.name, () => {
    const h = replicasHandover(c.desired, c.existing);
    assert.equal(h?.spec?.replicas, c.replicas);
    if (h) assert.deepEqual(h, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'p-worker', namespace: 'ns' }, spec: { replicas: c.replicas } });
  });
}

void test('the handover is written before the apply that drops replicas, and a conflict means nothing was handed over', async () => {
  for (const answer of ['applied', 'conflict'] as const) {
    const calls: string[] = [];
    const writer = {
      handOver: async (o: KubernetesObject) => {
        calls.push(`handOver ${String((o as { spec?: { replicas?: number } }).spec?.replicas)}`);
        return answer;
      },
      apply: async (o: KubernetesObject) => {
        calls.push('apply');
        return o;
      },
      delete: async () => {},
    };
    const result = await applyChildren(writer, [{ ...autoscaled, metadata: { ...autoscaled.metadata, ownerReferences: [] } }], [deployed(4, [ours])], OWNER);
    assert.deepEqual(calls, ['handOver 4', 'apply']);
    assert.equal(result.handedOver.length, answer === 'applied' ? 1 : 0);
    assert.equal(result.applied.length, 1);
  }
});

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
  const failing: KubeWriter = {
    handOver: () => store.handOver(),
    apply: () => Promise.reject(new Error('HTTP 422: bad')),
    delete: (o) => store.delete(o),
    createSecret: (s) => store.createSecret(s),
  };
  await assert.rejects(applyChildren(failing, [obj('Deployment', 'p-api')], [stale], OWNER), /422/);
  assert.ok(store.objects.has('HorizontalPodAutoscaler/p-worker'));
});

// The generated API keys Secret (auth apiKeys without apiKeysSecretRef): created once, never overwritten.
const receipts = pipeline('minimal');
const KEYS = { name: 'receipts-api-keys', key: 'keys' };
const keysOf = (store: MemoryStore): V1Secret | undefined => store.objects.get('Secret/receipts-api-keys');
const keysText = (s: V1Secret | undefined) => Buffer.from(s?.data?.keys ?? '', 'base64').toString('utf8');

void test('a missing generated keys Secret is created with one name:key line the API accepts, owned by the pipeline', async () => {
  const store = new MemoryStore();
  const ensured = await ensureGeneratedKeys(store, receipts, KEYS, () => 'k'.repeat(43));
  const secret = keysOf(store);
  assert.equal(ensured?.created, true);
  assert.equal(keysText(secret), `default:${'k'.repeat(43)}\n`);
  assert.equal(ApiKeys.parse(keysText(secret)).match('k'.repeat(43)), 'default');
  assert.equal(secret?.metadata?.namespace, 'default');
  assert.deepEqual(
    secret?.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]),
    [['OcrPipeline', 'receipts', receipts.metadata.uid, true]],
  );
  assert.equal(secret?.metadata?.labels?.['app.kubernetes.io/managed-by'], 'ocr-platform-operator');
  assert.deepEqual(ensured?.secretHashes, { 'receipts-api-keys/keys': secretValueHash(secret, 'keys') });
});

void test('a Secret that already exists (the cache lagged behind) is read back, not overwritten', async () => {
  const store = new MemoryStore();
  await ensureGeneratedKeys(store, receipts, KEYS, () => 'first');
  const ensured = await ensureGeneratedKeys(store, receipts, KEYS, () => 'second');
  assert.equal(ensured?.created, false);
  assert.equal(keysText(keysOf(store)), 'default:first\n');
  assert.deepEqual(ensured?.secretHashes, { 'receipts-api-keys/keys': secretValueHash(keysOf(store), 'keys') });
});

void test('a generated Secret already in the cache means no write at all', async () => {
  const store = new MemoryStore();
  const cached: V1Secret = { metadata: { name: KEYS.name }, data: { keys: 'eA==' } };
  assert.equal(await ensureGeneratedKeys(store, receipts, { ...KEYS, secret: cached }), undefined);
  assert.equal(store.objects.size, 0);
});

void test('an existing generated Secret without its keys entry is an error, not an overwrite', async () => {
  const store = new MemoryStore();
  store.objects.set('Secret/receipts-api-keys', { apiVersion: 'v1', kind: 'Secret', metadata: { name: KEYS.name }, data: {} } as V1Secret);
  await assert.rejects(ensureGeneratedKeys(store, receipts, KEYS), /exists without the key "keys"/);
  assert.deepEqual(keysOf(store)?.data, {});
});

void test('a random API key is 32 bytes of base64url: 43 characters, no colon, different each time', () => {
  const [a, b] = [randomApiKey(), randomApiKey()];
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b);
});
