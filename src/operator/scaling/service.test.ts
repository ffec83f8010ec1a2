import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { API_VERSION, KIND, parseSpec, type OcrPipeline } from '../../crds/ocrpipeline.ts';
import { ScalingService, workerHpaStatus } from './service.ts';
import type { QueueCredential, QueueReader } from './client.ts';

function pipeline(provider: 'prometheus-adapter' | 'keda' = 'prometheus-adapter'): OcrPipeline {
  const spec = parseSpec({
    image: 'example.invalid/ocr:1',
    queue: { serviceBus: { connectionStringSecretRef: { name: 'sb', key: 'cs' }, queueName: 'jobs' } },
    storage: { blob: { accountUrl: 'https://example.invalid', container: 'ocr' } },
    worker: { replicas: { min: 1, max: 10 }, scaling: { provider, messagesPerReplica: 5 } },
  });
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'receipts', namespace: 'finance', uid: 'u1' }, spec };
}

const secret = (data: Record<string, string>): V1Secret => ({ metadata: { name: 'sb' }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) });
const CS = 'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=manage;SharedAccessKey=c2VjcmV0';

function service(counts = 23) {
  const seen: QueueCredential[] = [];
  const requeued: string[] = [];
  const reader = (cred: QueueCredential): QueueReader => {
    seen.push(cred);
    return {
      counts: async () => ({ active: counts, scheduled: 0, deadLettered: 0, total: counts, transfer: 0, transferDeadLettered: 0 }),
      status: async () => 'Active',
    };
  };
  const s = new ScalingService({ registry: new Registry(), requeue: (k) => requeued.push(k), readerFor: reader, timing: { idleMs: 10_000, busyMs: 10_000 } });
  return { s, seen, requeued };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

void test('a missing Secret is QueueReachable=False SecretNotFound and nothing is polled', (t) => {
  const { s, seen } = service();
  t.after(() => s.close());
  const o = s.observe(pipeline(), { getSecret: () => undefined }, [], 1);
  assert.deepEqual(o.conditions[0] && [o.conditions[0].type, o.conditions[0].status, o.conditions[0].reason], ['QueueReachable', 'False', 'SecretNotFound']);
  assert.equal(seen.length, 0);
});

void test('a Secret without the key is SecretKeyNotFound', (t) => {
  const { s } = service();
  t.after(() => s.close());
  const o = s.observe(pipeline(), { getSecret: () => secret({ other: 'x' }) }, [], 1);
  assert.equal(o.conditions[0]?.reason, 'SecretKeyNotFound');
});

void test('the connection string is decoded from the Secret and the first read requeues the pipeline', async (t) => {
  const { s, seen, requeued } = service(23);
  t.after(() => s.close());
  const reader = { getSecret: () => secret({ cs: CS }) };
  const first = s.observe(pipeline(), reader, [], 1);
  assert.equal(first.conditions[0]?.status, 'Unknown');
  await until(() => requeued.length > 0);
  assert.deepEqual(seen, [{ kind: 'connectionString', connectionString: CS }]);
  const o = s.observe(pipeline(), reader, [], 1);
  assert.deepEqual([o.status.backlog, o.status.desiredWorkers, o.status.limitedBy], [23, 5, 'none']);
  assert.equal(o.conditions[0]?.reason, 'CountsRead');
  assert.equal(o.prometheusUrl, undefined);
});

void test('the worker HPA is found under its own name or under the name KEDA gives it', () => {
  const hpa = (name: string, desired: number): KubernetesObject => ({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name }, status: { desiredReplicas: desired } } as KubernetesObject);
  assert.equal(workerHpaStatus([hpa('receipts-api', 1), hpa('receipts-worker', 4)], 'receipts')?.desiredReplicas, 4);
  assert.equal(workerHpaStatus([hpa('keda-hpa-receipts-worker', 7)], 'receipts')?.desiredReplicas, 7);
  assert.equal(workerHpaStatus([hpa('other-worker', 7)], 'receipts'), undefined);
});
