import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { DESIRED_HASH_ANNOTATION, FIELD_MANAGER } from '../../contract/labels.ts';
import { REPLICAS_HANDOVER_MANAGER } from './apply.ts';
import { AppliedRecords, covers, editedSinceOurApply, unchanged, withDesiredHash, type AppliedRecord } from './unchanged.ts';

const desired: KubernetesObject = withDesiredHash<KubernetesObject & { spec: unknown }>({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'p-api', namespace: 'ns', labels: { 'ocrplatform.io/pipeline': 'p' }, annotations: { note: 'ours' } },
  spec: { template: { spec: { containers: [{ name: 'api', image: 'img:1' }] } } },
});
const hash = desired.metadata?.annotations?.[DESIRED_HASH_ANNOTATION] ?? '';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const ours = (s: number): V1ManagedFieldsEntry => ({ manager: FIELD_MANAGER, operation: 'Apply', time: at(s), fieldsV1: { 'f:metadata': {}, 'f:spec': {} } });
const other = (manager: string, s: number, fields: string[], subresource?: string): V1ManagedFieldsEntry => ({
  manager,
  operation: 'Update',
  time: at(s),
  fieldsV1: Object.fromEntries(fields.map((f) => [f, {}])),
  ...(subresource ? { subresource } : {}),
});

/** The cached child: by default what our last apply made, at generation 3, resourceVersion 100. */
function cached(
  over: {
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    generation?: number;
    rv?: string;
    managedFields?: V1ManagedFieldsEntry[];
    uid?: string;
  } = {},
): KubernetesObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'p-api',
      namespace: 'ns',
      uid: over.uid ?? 'u1',
      labels: over.labels ?? { 'ocrplatform.io/pipeline': 'p', extra: 'x' },
      annotations: over.annotations ?? { note: 'ours', [DESIRED_HASH_ANNOTATION]: hash, 'deployment.kubernetes.io/revision': '2' },
      ...('generation' in over ? (over.generation === undefined ? {} : { generation: over.generation }) : { generation: 3 }),
      resourceVersion: over.rv ?? '100',
      managedFields: over.managedFields ?? [ours(10)],
    },
  };
}
const record = (generation: number | undefined, rv = '100', uid = 'u1'): AppliedRecord => ({ uid, generation, resourceVersion: rv });

const cases: { name: string; cached: KubernetesObject | undefined; record?: AppliedRecord; desired?: KubernetesObject; expected: boolean }[] = [
  { name: 'a child not in the cache is applied', cached: undefined, expected: false },
  { name: 'a child whose generation is the one our apply got is skipped', cached: cached(), record: record(3), expected: true },
  {
    name: 'a cache one event behind our apply (older generation) is skipped, not mistaken for an edit',
    cached: cached({ generation: 2 }),
    record: record(3),
    expected: true,
  },
  { name: 'a child someone edited since our apply (newer generation) is applied', cached: cached({ generation: 4 }), record: record(3), expected: false },
  {
    name: 'a child without generation (a Service) whose resourceVersion is still ours is skipped',
    cached: cached({ generation: undefined, rv: '100' }),
    record: record(undefined, '100'),
    expected: true,
  },
  {
    name: 'a child without generation whose resourceVersion and spec moved on (a hand-edited targetPort) is applied',
    cached: { ...cached({ generation: undefined, rv: '101' }), spec: { ports: [{ port: 80, targetPort: 8089 }] } } as KubernetesObject,
    desired: { ...desired, spec: { ports: [{ port: 80, targetPort: 8080 }] } } as KubernetesObject,
    record: record(undefined, '100'),
    expected: false,
  },
  {
    name: 'a child without generation whose status moved on (an HPA the controller evaluated) but whose spec holds what we applied is skipped',
    cached: { ...cached({ generation: undefined, rv: '105' }), spec: { minReplicas: 1, maxReplicas: 3, behavior: { defaulted: true } } } as KubernetesObject,
    desired: { ...desired, spec: { minReplicas: 1, maxReplicas: 3 } } as KubernetesObject, // same hash annotation as cached: nothing else changed
    record: record(undefined, '100'),
    expected: true,
  },
  {
    name: 'a child carrying another hash (the desired object changed) is applied',
    cached: cached({ annotations: { note: 'ours', [DESIRED_HASH_ANNOTATION]: 'stale' } }),
    record: record(3),
    expected: false,
  },
  { name: 'a child without the hash annotation (applied by an older operator) is applied', cached: cached({ annotations: { note: 'ours' } }), expected: false },
  {
    name: 'a child that lost one of our labels is applied (metadata edits change no generation)',
    cached: cached({ labels: { extra: 'x' } }),
    record: record(3),
    expected: false,
  },
  {
    name: 'a child that lost one of our annotations is applied',
    cached: cached({ annotations: { [DESIRED_HASH_ANNOTATION]: hash } }),
    record: record(3),
    expected: false,
  },
  {
    name: 'a record of an earlier child of the same name (another uid) is ignored and managedFields decide',
    cached: cached({ generation: 1, uid: 'u2', managedFields: [ours(10), other('kubectl-edit', 20, ['f:spec'])] }),
    record: record(9),
    expected: false,
  },
  { name: 'after a restart (no record), a child only we wrote is skipped', cached: cached(), expected: true },
  {
    name: 'after a restart, a child whose status and scale others wrote later (the controllers, the HPA) is skipped',
    cached: cached({ managedFields: [ours(10), other('kube-controller-manager', 20, ['f:status'], 'status'), other('hpa', 30, ['f:spec'], 'scale')] }),
    expected: true,
  },
  {
    name: 'after a restart, a child whose metadata another manager wrote later (the revision annotation) is skipped',
    cached: cached({ managedFields: [ours(10), other('kube-controller-manager', 20, ['f:metadata'])] }),
    expected: true,
  },
  {
    name: 'after a restart, a child whose spec another manager wrote after our apply is applied',
    cached: cached({ managedFields: [ours(10), other('kubectl-edit', 20, ['f:metadata', 'f:spec'])] }),
    expected: false,
  },
  {
    name: 'after a restart, a child whose spec another manager wrote in the same second as our apply is applied',
    cached: cached({ managedFields: [ours(10), other('kubectl-edit', 10, ['f:spec'])] }),
    expected: false,
  },
  {
    name: 'after a restart, a spec edit older than our apply (which took the fields back) is not an edit',
    cached: cached({ managedFields: [other('kubectl-edit', 5, ['f:spec']), ours(10)] }),
    expected: true,
  },
  {
    name: 'after a restart, the replicas handover manager is ours',
    cached: cached({ managedFields: [ours(10), { ...other(REPLICAS_HANDOVER_MANAGER, 20, ['f:spec']), operation: 'Apply' }] }),
    expected: true,
  },
  { name: 'after a restart, a child without our Apply entry is applied', cached: cached({ managedFields: [] }), expected: false },
];

for (const c of cases) {
  void test(c.name, () => {
    assert.equal(unchanged(c.desired ?? desired, c.cached, c.record), c.expected);
  });
}

void test('the hash changes with any field of the desired object and not with key order', () => {
  const a = withDesiredHash({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', labels: { a: '1', b: '2' } }, spec: { ports: [{ port: 80 }] } });
  const reordered = withDesiredHash({
    kind: 'Service',
    apiVersion: 'v1',
    metadata: { labels: { b: '2', a: '1' }, name: 's' },
    spec: { ports: [{ port: 80 }] },
  });
  const changed = withDesiredHash({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', labels: { a: '1', b: '2' } }, spec: { ports: [{ port: 81 }] } });
  const h = (o: KubernetesObject) => o.metadata?.annotations?.[DESIRED_HASH_ANNOTATION];
  assert.match(h(a) ?? '', /^[0-9a-f]{16}$/);
  assert.equal(h(a), h(reordered));
  assert.notEqual(h(a), h(changed));
});

void test('the handover manager name the skip decision trusts is the one apply.ts writes with', () => {
  assert.equal(editedSinceOurApply([ours(10), { ...other(REPLICAS_HANDOVER_MANAGER, 20, ['f:spec']), operation: 'Apply' }]), false);
});

void test('records are kept per pipeline and forgotten with it', () => {
  const r = new AppliedRecords();
  r.set('ns/p', 'apps/v1/Deployment/p-api', record(1));
  r.set('ns/q', 'apps/v1/Deployment/q-api', record(2));
  r.forget('ns/p');
  assert.equal(r.get('ns/p', 'apps/v1/Deployment/p-api'), undefined);
  assert.deepEqual(r.get('ns/q', 'apps/v1/Deployment/q-api'), record(2));
});

void describe('covers: the cached spec holds every applied value', () => {
  const cases: { name: string; want: unknown; have: unknown; expected: boolean }[] = [
    { name: 'extra keys the API server defaulted are fine', want: { a: 1 }, have: { a: 1, b: 2 }, expected: true },
    { name: 'a changed scalar is a difference', want: { a: 1 }, have: { a: 2 }, expected: false },
    { name: 'a missing key is a difference', want: { a: 1 }, have: {}, expected: false },
    { name: 'arrays compare item by item', want: [{ p: 1 }, { p: 2 }], have: [{ p: 1, x: 0 }, { p: 2 }], expected: true },
    { name: 'an array of another length is a difference', want: [{ p: 1 }], have: [{ p: 1 }, { p: 2 }], expected: false },
    { name: 'a number and its string are different (intOrString)', want: { port: 8080 }, have: { port: '8080' }, expected: false },
    { name: 'an undefined wanted value is no requirement', want: { a: undefined }, have: {}, expected: true },
  ];
  for (const c of cases) void it(c.name, () => assert.equal(covers(c.want, c.have), c.expected));
});
