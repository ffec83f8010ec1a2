// The pure parts of bench:operator: reading the audit log and the apiserver's request counter,
// telling a child's pipeline, a Deployment's availability, and the floor's copy of a child.
//   node --test bench/operator/measure.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAudit, parseRequestTotals, pipelineWrites, tally } from './measure.ts';
import { deploymentAvailable, floorObject, pipelineOf } from './observe.ts';

const line = (o: Record<string, unknown>) =>
  JSON.stringify({
    kind: 'Event',
    stage: 'ResponseComplete',
    verb: 'patch',
    user: { username: 'ocr-operator' },
    objectRef: { resource: 'deployments' },
    requestReceivedTimestamp: '2026-12-02T06:00:00.000000Z',
    ...o,
  });

void test("the audit log yields the operator's completed writes only, with subresources", () => {
  const text = [
    line({}),
    line({ objectRef: { resource: 'ocrpipelines', subresource: 'status' } }),
    line({ verb: 'create', objectRef: { resource: 'leases' } }),
    line({ user: { username: 'kubernetes-admin' } }),
    line({ stage: 'ResponseStarted' }),
    line({ verb: 'watch' }),
  ].join('\n');
  const writes = parseAudit(text);
  assert.deepEqual(
    writes.map((w) => `${w.verb} ${w.resource}`),
    ['patch deployments', 'patch ocrpipelines/status', 'create leases'],
  );
  assert.equal(pipelineWrites(writes).length, 2, 'Lease renewals are counted apart');
  assert.deepEqual(tally(writes)[0], ['patch deployments', 1]);
});

void test('apiserver_request_total is summed per write verb and resource over codes and other labels', () => {
  const text = [
    'apiserver_request_total{code="200",component="apiserver",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} 3',
    'apiserver_request_total{code="409",component="apiserver",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} 1',
    'apiserver_request_total{code="200",component="apiserver",resource="deployments",scope="resource",subresource="status",verb="PUT",version="v1"} 5',
    'apiserver_request_total{code="200",component="apiserver",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1"} 9',
  ].join('\n');
  assert.deepEqual(
    [...parseRequestTotals(text)],
    [
      ['APPLY deployments', 4],
      ['PUT deployments/status', 5],
    ],
  );
});

const NAMES = [
  ['p0001-api', 'p0001'],
  ['p0001-worker', 'p0001'],
  ['my-api-api', 'my-api'],
] as const;
for (const [child, owner] of NAMES) void test(`the child ${child} belongs to the pipeline ${owner}`, () => assert.equal(pipelineOf(child), owner));

const dep = (generation: number, observed: number, replicas: number | undefined, available: number, cond: string) =>
  ({
    metadata: { name: 'd', generation },
    spec: { replicas },
    status: { observedGeneration: observed, availableReplicas: available, conditions: [{ type: 'Available', status: cond }] },
  }) as never;
const AVAILABILITY = [
  { name: 'a Deployment with all replicas available at its generation is available', d: dep(1, 1, 2, 2, 'True'), want: true },
  { name: 'a Deployment whose controller has not seen its generation is not', d: dep(2, 1, 1, 1, 'True'), want: false },
  { name: 'a Deployment short of replicas is not', d: dep(1, 1, 3, 2, 'True'), want: false },
  { name: 'a Deployment without replicas in its spec counts one', d: dep(1, 1, undefined, 1, 'True'), want: true },
  { name: 'a Deployment with Available=False is not', d: dep(1, 1, 1, 1, 'False'), want: false },
];
for (const c of AVAILABILITY) void test(c.name, () => assert.equal(deploymentAvailable(c.d), c.want));

void test("the floor's copy keeps what the operator set and drops what the server and controllers filled in", () => {
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'p-api', namespace: 'old', uid: 'u', resourceVersion: '9', labels: { a: 'b' }, ownerReferences: [{}], managedFields: [{}] },
    spec: { ports: [{ port: 80 }], clusterIP: '10.96.0.9', clusterIPs: ['10.96.0.9'], selector: { a: 'b' } },
    status: { loadBalancer: {} },
  } as never;
  assert.deepEqual(floorObject(svc, 'floor'), {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'p-api', namespace: 'floor', labels: { a: 'b' } },
    spec: { ports: [{ port: 80 }], selector: { a: 'b' } },
  });
  const d = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'p-worker', annotations: { 'deployment.kubernetes.io/revision': '1', mine: 'x' } },
    spec: { replicas: 1 },
  } as never;
  assert.deepEqual((floorObject(d, 'floor') as { metadata: unknown }).metadata, {
    name: 'p-worker',
    namespace: 'floor',
    labels: undefined,
    annotations: { mine: 'x' },
  });
});
