import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { input, pipeline, set, type SpecMod } from '../testing/fixtures.ts';
import { ENV, PORTS } from '../../contract/container.ts';
import { CONFIG_HASH_ANNOTATION } from '../../contract/labels.ts';
import { API_ADMIN_PORT_NAME, apiDeployment } from './api-deployment.ts';
import { apiService } from './api-service.ts';
import { componentSecretHashes, componentServiceAccount, serviceBusSecretRef, storageSecretRef, workerHasOwnQueueCredentials } from './credentials.ts';
import { workerDeployment } from './worker-deployment.ts';

const container = (d: V1Deployment): V1Container => d.spec?.template.spec?.containers[0] as V1Container;
const env = (d: V1Deployment) => Object.fromEntries((container(d).env ?? []).map((e) => [e.name, e.value ?? e.valueFrom?.secretKeyRef]));
const hash = (d: V1Deployment) => d.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];

const apiSb = set('queue.serviceBus.api', { connectionStringSecretRef: { name: 'sb-send', key: 'cs' } });
const workerSb = set('queue.serviceBus.worker', { connectionStringSecretRef: { name: 'sb-listen', key: 'cs' } });
const apiBlob = set('storage.blob.api', { connectionStringSecretRef: { name: 'st-api', key: 'cs' } });
const workerBlob = set('storage.blob.worker', { connectionStringSecretRef: { name: 'st-worker', key: 'cs' } });

// [sentence, base, mods, component, expected Service Bus ref name, expected Storage ref name]
const refCases: [string, 'minimal' | 'full', SpecMod[], 'api' | 'worker', string | undefined, string | undefined][] = [
  ['the shared strings serve both components when neither has its own', 'full', [], 'api', 'ocr-servicebus', 'ocr-storage'],
  ['the shared strings serve the worker when neither has its own', 'full', [], 'worker', 'ocr-servicebus', 'ocr-storage'],
  ["the API's own Service Bus string replaces the shared one for the API", 'full', [apiSb], 'api', 'sb-send', 'ocr-storage'],
  ["the API's own Service Bus string leaves the worker on the shared one", 'full', [apiSb], 'worker', 'ocr-servicebus', 'ocr-storage'],
  ["the worker's own strings replace both shared ones for the worker", 'full', [workerSb, workerBlob], 'worker', 'sb-listen', 'st-worker'],
  ['workload identity stays workload identity without own strings', 'minimal', [], 'api', undefined, undefined],
  ['an own string works next to a workload-identity namespace', 'minimal', [workerSb], 'worker', 'sb-listen', undefined],
];
for (const [name, base, mods, component, sb, blob] of refCases) {
  void test(name, () => {
    const spec = pipeline(base, ...mods).spec;
    assert.equal(serviceBusSecretRef(spec, component)?.name, sb);
    assert.equal(storageSecretRef(spec, component)?.name, blob);
  });
}

void test('each Deployment gets only its own connection strings as env, never the other component Secret', () => {
  const p = pipeline('full', apiSb, workerSb, apiBlob, workerBlob);
  const api = env(apiDeployment(input(p)));
  const worker = env(workerDeployment(input(p)));
  assert.deepEqual(api[ENV.serviceBusConnectionString], { name: 'sb-send', key: 'cs' });
  assert.deepEqual(api[ENV.blobConnectionString], { name: 'st-api', key: 'cs' });
  assert.deepEqual(worker[ENV.serviceBusConnectionString], { name: 'sb-listen', key: 'cs' });
  assert.deepEqual(worker[ENV.blobConnectionString], { name: 'st-worker', key: 'cs' });
  const names = (d: V1Deployment) => JSON.stringify(container(d));
  assert.doesNotMatch(names(apiDeployment(input(p))), /sb-listen|st-worker|ocr-servicebus|ocr-storage/);
  assert.doesNotMatch(names(workerDeployment(input(p))), /sb-send|st-api|ocr-servicebus|ocr-storage/);
});

void test('a component ServiceAccount overrides pod.serviceAccountName for that component only', () => {
  const p = pipeline('full', set('worker.serviceAccountName', 'ocr-worker'));
  assert.equal(componentServiceAccount(p.spec, 'worker'), 'ocr-worker');
  assert.equal(componentServiceAccount(p.spec, 'api'), 'ocr-invoices');
  assert.equal(workerDeployment(input(p)).spec?.template.spec?.serviceAccountName, 'ocr-worker');
  assert.equal(apiDeployment(input(p)).spec?.template.spec?.serviceAccountName, 'ocr-invoices');
});

const deliveryCases: [string, SpecMod[], boolean][] = [
  ['the worker on shared credentials reads MaxDeliveryCount from the queue itself', [], false],
  ['a worker with its own connection string gets maxDeliveryCount from the spec', [workerSb], true],
  ['a worker with its own ServiceAccount gets maxDeliveryCount from the spec', [set('worker.serviceAccountName', 'ocr-worker')], true],
  ["the API's own credentials do not change the worker", [apiSb], false],
];
for (const [name, mods, expected] of deliveryCases) {
  void test(name, () => {
    const p = pipeline('full', ...mods);
    assert.equal(workerHasOwnQueueCredentials(p.spec), expected);
    assert.equal(env(workerDeployment(input(p)))[ENV.workerMaxDeliveryCount], expected ? '5' : undefined);
  });
}

void test("a worker with its own credentials gets the queue's real MaxDeliveryCount when the operator read one that differs from the spec", () => {
  const p = pipeline('full', workerSb);
  assert.equal(env(workerDeployment({ ...input(p), queue: { maxDeliveryCount: 3 } }))[ENV.workerMaxDeliveryCount], '3');
  assert.equal(
    env(workerDeployment({ ...input(pipeline('full')), queue: { maxDeliveryCount: 3 } }))[ENV.workerMaxDeliveryCount],
    undefined,
    'shared: it reads it',
  );
});

void test('without own credentials each component hashes every Secret, as before (an operator upgrade rolls no pods)', () => {
  const p = pipeline('full');
  const hashes = { 'ocr-servicebus/connectionString': 'a', 'ocr-storage/connectionString': 'b' };
  assert.deepEqual(componentSecretHashes(p.spec, hashes, 'api'), hashes);
  assert.deepEqual(componentSecretHashes(p.spec, hashes, 'worker'), hashes);
});

void test("rotating the worker's own Secret rolls the workers and not the API", () => {
  const p = pipeline('full', apiSb, workerSb);
  const before = { 'ocr-servicebus/connectionString': 'a', 'sb-send/cs': 'b', 'sb-listen/cs': 'c' };
  const after = { ...before, 'sb-listen/cs': 'd' };
  assert.equal(hash(apiDeployment(input(p, before))), hash(apiDeployment(input(p, after))));
  assert.notEqual(hash(workerDeployment(input(p, before))), hash(workerDeployment(input(p, after))));
  assert.deepEqual(Object.keys(componentSecretHashes(p.spec, before, 'api')).sort(), ['ocr-servicebus/connectionString', 'sb-send/cs']);
});

void test('a Secret key both components name stays in both hashes', () => {
  const p = pipeline('full', set('queue.serviceBus.worker', { connectionStringSecretRef: { name: 'ocr-servicebus', key: 'connectionString' } }));
  const hashes = { 'ocr-servicebus/connectionString': 'a' };
  assert.deepEqual(componentSecretHashes(p.spec, hashes, 'api'), hashes);
});

void test('the API container declares the admin port and its env; the Service forwards only the public port', () => {
  const p = pipeline('full');
  const d = apiDeployment(input(p));
  assert.deepEqual(
    container(d).ports?.find((x) => x.name === API_ADMIN_PORT_NAME),
    { name: 'admin', containerPort: PORTS.apiAdmin, protocol: 'TCP' },
  );
  assert.equal(env(d)[ENV.apiAdminPort], String(PORTS.apiAdmin));
  assert.notEqual(PORTS.apiAdmin, PORTS.api);
  const targets = (apiService(input(p)).spec?.ports ?? []).map((x) => [x.targetPort, x.port]);
  assert.deepEqual(targets, [['http', 80]]);
});

void test('the worker container is unchanged by the API admin port: one port, no admin env', () => {
  const d = workerDeployment(input(pipeline('full')));
  assert.deepEqual(
    container(d).ports?.map((x) => x.name),
    ['http'],
  );
  assert.equal(env(d)[ENV.apiAdminPort], undefined);
});
