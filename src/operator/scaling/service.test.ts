import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { API_VERSION, KIND, parseSpec, type OcrPipeline } from '../../crds/ocrpipeline.ts';
import { silentLogger } from '../../shared/logger.ts';
import { queueReachable } from '../conditions/checks.ts';
import { ScalingService, type QueueSecret } from './service.ts';
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

/** The Service Bus Secret as gather's Secret pass hands it over (decoded; gather.test.ts covers the decoding). */
const secret = (connectionString: string | undefined): QueueSecret => ({ secretExists: true, connectionString });
const noSecret: QueueSecret = { secretExists: false, connectionString: undefined };
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
  const s = new ScalingService({
    log: silentLogger(),
    registry: new Registry(),
    requeue: (k) => requeued.push(k),
    readerFor: reader,
    timing: { idleMs: 10_000, busyMs: 10_000 },
  });
  return { s, seen, requeued };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One reconcile's calls, in the reconciler's order: track (side effects), then observe (pure). */
function reconcile(s: ScalingService, queueSecret: QueueSecret) {
  s.track(pipeline(), queueSecret, 1);
  return s.observe(pipeline(), queueSecret, undefined);
}

void test('a missing Secret is QueueReachable=False SecretNotFound and nothing is polled', (t) => {
  const { s, seen } = service();
  t.after(() => s.close());
  const o = reconcile(s, noSecret);
  const c = queueReachable(o.facts);
  assert.deepEqual([c.type, c.status, c.reason], ['QueueReachable', 'False', 'SecretNotFound']);
  assert.equal(seen.length, 0);
});

void test('a Secret without the key is SecretKeyNotFound', (t) => {
  const { s } = service();
  t.after(() => s.close());
  const o = reconcile(s, secret(undefined));
  assert.equal(queueReachable(o.facts).reason, 'SecretKeyNotFound');
});

void test("the connection string from gather's Secret pass is used and the first read requeues the pipeline", async (t) => {
  const { s, seen, requeued } = service(23);
  t.after(() => s.close());
  const first = reconcile(s, secret(CS));
  assert.equal(queueReachable(first.facts).status, 'Unknown');
  await until(() => requeued.length > 0);
  assert.deepEqual(seen, [{ kind: 'connectionString', connectionString: CS }]);
  const o = reconcile(s, secret(CS));
  assert.deepEqual([o.status.backlog, o.status.desiredWorkers, o.status.limitedBy], [23, 5, 'none']);
  assert.equal(queueReachable(o.facts).reason, 'CountsRead');
  assert.equal(o.prometheusUrl, undefined);
});

void test('observe changes nothing: without track the pipeline is never polled', (t) => {
  const { s, seen } = service();
  t.after(() => s.close());
  const o = s.observe(pipeline(), secret(CS), undefined);
  assert.equal(queueReachable(o.facts).reason, 'NotYetRead');
  assert.equal(seen.length, 0);
});

void test('once the queue is read, the queue settings are checked with the admin client and reach the condition facts', async () => {
  const requeued: string[] = [];
  const updates: unknown[] = [];
  const admin = {
    getQueue: async () => ({ name: 'jobs', maxDeliveryCount: 3, lockDuration: 'PT30S' }),
    updateQueue: async (q: { maxDeliveryCount: number; lockDuration: string }) => {
      updates.push([q.maxDeliveryCount, q.lockDuration]);
      throw Object.assign(new Error('Manage is required'), { statusCode: 401 });
    },
  };
  const s = new ScalingService({
    log: silentLogger(),
    registry: new Registry(),
    requeue: (k) => requeued.push(k),
    readerFor: () => ({
      counts: async () => ({ active: 0, scheduled: 0, deadLettered: 0, total: 0, transfer: 0, transferDeadLettered: 0 }),
      status: async () => 'Active',
    }),
    queueAdminFor: () => admin as never,
    timing: { idleMs: 10_000, busyMs: 10_000 },
  });
  try {
    assert.equal(reconcile(s, secret(CS)).facts.queueSettings, undefined, 'not before the poller read the queue');
    await until(() => requeued.length > 0);
    await until(() => {
      reconcile(s, secret(CS));
      return updates.length > 0 && requeued.length > 1;
    });
    const facts = reconcile(s, secret(CS)).facts.queueSettings;
    assert.deepEqual(updates, [[10, 'PT60S']], 'the spec defaults, once');
    assert.deepEqual(facts?.actual, { maxDeliveryCount: 3, lockDurationSeconds: 30 });
    assert.match(facts?.applyError ?? '', /401 Manage is required/);
  } finally {
    s.close();
  }
});
