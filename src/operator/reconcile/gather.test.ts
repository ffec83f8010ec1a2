import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { sampleSpec } from '../testing/fixtures.ts';
import { gather, referencedSecretNames, secretRefs, workerHpaStatus, type ClusterReader, type RawPipeline } from './gather.ts';
import { parseSpec } from '../../crds/ocrpipeline.ts';

const raw = (spec: unknown): RawPipeline => ({
  apiVersion: 'ocrplatform.io/v1alpha1',
  kind: 'OcrPipeline',
  metadata: { name: 'invoices', namespace: 'finance', uid: 'u', generation: 2 },
  spec,
});
const reader = (secrets: Record<string, Record<string, string>>, deployments: Record<string, V1Deployment> = {}): ClusterReader => ({
  getSecret: (_ns, name) => (secrets[name] ? { metadata: { name }, data: secrets[name] } : undefined),
  getDeployment: (_ns, name) => deployments[name],
  listChildren: (): KubernetesObject[] => [],
});
const allSecrets = {
  'ocr-servicebus': { connectionString: 'YQ==' },
  'ocr-storage': { connectionString: 'Yg==' },
  'ocr-api-keys': { keys: 'Yw==' },
  'ocr-webhook': { signingKey: 'ZA==' },
};

void test('the full sample refers to four Secret keys, each with its field', () => {
  assert.deepEqual(
    secretRefs(parseSpec(sampleSpec('full'))).map((r) => `${r.field}=${r.name}/${r.key}`),
    [
      'spec.queue.serviceBus.connectionStringSecretRef=ocr-servicebus/connectionString',
      'spec.storage.blob.connectionStringSecretRef=ocr-storage/connectionString',
      'spec.api.apiKeysSecretRef=ocr-api-keys/keys',
      'spec.webhookSecretRef=ocr-webhook/signingKey',
    ],
  );
});

void test('with every Secret present nothing is missing and each value is hashed, not copied', () => {
  const g = gather(raw(sampleSpec('full')), reader(allSecrets));
  assert.deepEqual(g.missingSecrets, []);
  assert.equal(Object.keys(g.secretHashes).length, 4);
  assert.ok(Object.values(g.secretHashes).every((h) => /^[0-9a-f]{64}$/.test(h)));
});

void test('a missing Secret and a missing key are told apart', () => {
  const { 'ocr-webhook': _w, ...rest } = allSecrets;
  const g = gather(raw(sampleSpec('full')), reader({ ...rest, 'ocr-storage': { other: 'eA==' } }));
  assert.deepEqual(
    g.missingSecrets.map((m) => [m.name, m.secretExists]),
    [
      ['ocr-storage', true],
      ['ocr-webhook', false],
    ],
  );
});

void test('an invalid spec is reported, not thrown', () => {
  const g = gather(raw({ image: '' }), reader({}));
  assert.equal(g.pipeline, undefined);
  assert.match(g.invalidSpec ?? '', /spec\.image/);
});

void test('Deployment replica counts are read from status, with spec.replicas as desired', () => {
  const d: V1Deployment = {
    metadata: { generation: 3 },
    spec: { replicas: 4, selector: {}, template: {} },
    status: { observedGeneration: 3, updatedReplicas: 4, readyReplicas: 3, availableReplicas: 3 },
  };
  const g = gather(raw(sampleSpec('minimal')), reader({}, { 'invoices-worker': d }));
  assert.deepEqual(g.worker, { generation: 3, observedGeneration: 3, desired: 4, updated: 4, ready: 3, available: 3 });
  assert.equal(g.api, undefined);
});

void test('a ReplicaFailure condition on a Deployment is carried as replicaFailure', () => {
  const d: V1Deployment = {
    metadata: {},
    spec: { selector: {}, template: {} },
    status: { conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'serviceaccount "ocr" not found' }] },
  };
  const g = gather(raw(sampleSpec('minimal')), reader({}, { 'invoices-api': d }));
  assert.equal(g.api?.replicaFailure, 'serviceaccount "ocr" not found');
});

const progressingCases: { name: string; generation: number; observed: number; reason: string; status: string; expected: string | undefined }[] = [
  {
    name: 'a Deployment past its progress deadline at its current generation carries the message',
    generation: 2,
    observed: 2,
    status: 'False',
    reason: 'ProgressDeadlineExceeded',
    expected: 'ReplicaSet "invoices-api-1" has timed out progressing.',
  },
  {
    name: 'a progress deadline reported for an older generation is not carried: the new spec has its own deadline',
    generation: 3,
    observed: 2,
    status: 'False',
    reason: 'ProgressDeadlineExceeded',
    expected: undefined,
  },
  {
    name: 'a Deployment that is progressing normally carries no deadline',
    generation: 2,
    observed: 2,
    status: 'True',
    reason: 'NewReplicaSetAvailable',
    expected: undefined,
  },
];
for (const c of progressingCases) {
  void test(c.name, () => {
    const d: V1Deployment = {
      metadata: { generation: c.generation },
      spec: { selector: {}, template: {} },
      status: {
        observedGeneration: c.observed,
        replicas: 2,
        conditions: [{ type: 'Progressing', status: c.status, reason: c.reason, message: 'ReplicaSet "invoices-api-1" has timed out progressing.' }],
      },
    };
    const g = gather(raw(sampleSpec('minimal')), reader({}, { 'invoices-api': d }));
    assert.equal(g.api?.progressDeadlineExceeded, c.expected);
    assert.equal(g.api?.total, 2);
  });
}

void test('the Service Bus connection string is decoded from the Secret for the queue poller, and its absence told apart', () => {
  const cs = 'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=manage;SharedAccessKey=c2VjcmV0';
  const withCs = { ...allSecrets, 'ocr-servicebus': { connectionString: Buffer.from(cs).toString('base64') } };
  assert.deepEqual(gather(raw(sampleSpec('full')), reader(withCs)).queueSecret, { secretExists: true, connectionString: cs });
  const withoutKey = gather(raw(sampleSpec('full')), reader({ ...allSecrets, 'ocr-servicebus': { other: 'eA==' } }));
  assert.deepEqual(withoutKey.queueSecret, { secretExists: true, connectionString: undefined });
  const { 'ocr-servicebus': _sb, ...rest } = allSecrets;
  assert.deepEqual(gather(raw(sampleSpec('full')), reader(rest)).queueSecret, { secretExists: false, connectionString: undefined });
});

void test('the worker HPA is found under its own name or under the name KEDA gives it', () => {
  const hpa = (name: string, desired: number): KubernetesObject =>
    ({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name }, status: { desiredReplicas: desired } }) as KubernetesObject;
  assert.equal(workerHpaStatus([hpa('receipts-api', 1), hpa('receipts-worker', 4)], 'receipts')?.desiredReplicas, 4);
  assert.equal(workerHpaStatus([hpa('keda-hpa-receipts-worker', 7)], 'receipts')?.desiredReplicas, 7);
  assert.equal(workerHpaStatus([hpa('other-worker', 7)], 'receipts'), undefined);
});

void test('the Secrets read before gather are the referenced ones, plus the generated keys Secret when none is named', () => {
  assert.deepEqual(referencedSecretNames(raw(sampleSpec('full'))), ['ocr-servicebus', 'ocr-storage', 'ocr-api-keys', 'ocr-webhook']);
  const minimal = referencedSecretNames(raw(sampleSpec('minimal')));
  assert.ok(minimal.includes('invoices-api-keys'), minimal.join(','));
  assert.deepEqual(referencedSecretNames(raw({ not: 'a spec' })), []);
});

// Least-privilege credentials (issue 13, item 6): each component's own Secret is checked and hashed.
const ownCredentials = (spec: Record<string, unknown>, blobShared: boolean): Record<string, unknown> => {
  const s = structuredClone(spec) as { queue: { serviceBus: Record<string, unknown> }; storage: { blob: Record<string, unknown> } };
  s.queue.serviceBus.api = { connectionStringSecretRef: { name: 'sb-send', key: 'cs' } };
  s.queue.serviceBus.worker = { connectionStringSecretRef: { name: 'sb-listen', key: 'cs' } };
  s.storage.blob.api = { connectionStringSecretRef: { name: 'st-api', key: 'cs' } };
  s.storage.blob.worker = { connectionStringSecretRef: { name: 'st-worker', key: 'cs' } };
  if (!blobShared) delete s.storage.blob.connectionStringSecretRef;
  return s;
};

void test('each component Secret is referenced with its field; the shared Storage string only while a component falls back to it', () => {
  assert.deepEqual(
    secretRefs(parseSpec(ownCredentials(sampleSpec('full'), false))).map((r) => `${r.field}=${r.name}`),
    [
      'spec.queue.serviceBus.connectionStringSecretRef=ocr-servicebus',
      'spec.queue.serviceBus.api.connectionStringSecretRef=sb-send',
      'spec.storage.blob.api.connectionStringSecretRef=st-api',
      'spec.queue.serviceBus.worker.connectionStringSecretRef=sb-listen',
      'spec.storage.blob.worker.connectionStringSecretRef=st-worker',
      'spec.api.apiKeysSecretRef=ocr-api-keys',
      'spec.webhookSecretRef=ocr-webhook',
    ],
  );
  // Both components have their own Storage string: the shared one, even when set, is read by nobody and not required.
  assert.ok(!secretRefs(parseSpec(ownCredentials(sampleSpec('full'), true))).some((r) => r.field === 'spec.storage.blob.connectionStringSecretRef'));
});

void test("a missing component Secret is missing (SecretNotFound), and a present one is hashed for its component's config hash", () => {
  const { 'ocr-storage': _s, ...rest } = allSecrets;
  const g = gather(
    raw(ownCredentials(sampleSpec('full'), false)),
    reader({ ...rest, 'sb-send': { cs: 'ZQ==' }, 'st-api': { cs: 'Zg==' }, 'st-worker': { cs: 'Zw==' } }),
  );
  assert.deepEqual(
    g.missingSecrets.map((m) => [m.field, m.secretExists]),
    [['spec.queue.serviceBus.worker.connectionStringSecretRef', false]],
  );
  assert.ok(g.secretHashes['sb-send/cs'] && g.secretHashes['st-api/cs'] && g.secretHashes['st-worker/cs']);
  assert.equal(g.queueSecret?.secretExists, true, 'the operator still reads the shared Service Bus string');
});

void test('referencedSecretNames includes the component Secrets, so the operator reads and watches them', () => {
  assert.deepEqual(referencedSecretNames(raw(ownCredentials(sampleSpec('minimal'), false))), [
    'sb-send',
    'st-api',
    'sb-listen',
    'st-worker',
    'invoices-api-keys',
  ]);
});
