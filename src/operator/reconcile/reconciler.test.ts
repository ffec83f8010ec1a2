// The whole reconcile against an in-memory cluster (our own reader/writer interfaces, not
// a client library): asserts the resulting state, and that an idle loop writes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreV1Event, KubernetesObject, V1Deployment, V1Secret } from '@kubernetes/client-node';
import type { OcrPipelineStatus } from '../../crds/ocrpipeline.ts';
import { createLogger } from '../../shared/logger.ts';
import { EventRecorder } from '../events.ts';
import { SecretIndex } from '../secret-index.ts';
import { sampleSpec } from '../testing/fixtures.ts';
import type { RawPipeline } from './gather.ts';
import { Reconciler, STATUS_INTERVAL_MS } from './reconciler.ts';

class MemoryCluster {
  pipeline: RawPipeline = {
    apiVersion: 'ocrplatform.io/v1alpha1',
    kind: 'OcrPipeline',
    metadata: { name: 'invoices', namespace: 'finance', uid: 'uid-1', generation: 1 },
    spec: sampleSpec('full'),
  };
  secrets = new Map<string, V1Secret>();
  children = new Map<string, KubernetesObject>();
  statusWrites = 0;
  applies = 0;
  secretCreates = 0;
  events: CoreV1Event[] = [];

  reader = {
    getPipeline: () => this.pipeline,
    getSecret: (_ns: string, name: string) => this.secrets.get(name),
    getDeployment: (_ns: string, name: string) => this.children.get(`Deployment/${name}`),
    listChildren: () => [...this.children.values()],
  };
  writer = {
    apply: async (o: KubernetesObject) => {
      this.applies++;
      this.children.set(`${o.kind ?? ''}/${o.metadata?.name ?? ''}`, o);
      return o;
    },
    handOver: async () => 'applied' as const,
    delete: async (o: KubernetesObject) => {
      this.children.delete(`${o.kind ?? ''}/${o.metadata?.name ?? ''}`);
    },
    writeStatus: async (_raw: RawPipeline, status: OcrPipelineStatus) => {
      this.statusWrites++;
      this.pipeline = { ...this.pipeline, status };
    },
    // The Secret lands in the map the reader serves, as the Secret watch would deliver it.
    createSecret: async (secret: V1Secret) => {
      const name = secret.metadata?.name ?? '';
      const existing = this.secrets.get(name);
      if (existing) return { secret: existing, created: false };
      this.secretCreates++;
      this.secrets.set(name, secret);
      return { secret, created: true };
    },
  };

  addAllSecrets() {
    for (const [name, key] of [
      ['ocr-servicebus', 'connectionString'],
      ['ocr-storage', 'connectionString'],
      ['ocr-api-keys', 'keys'],
      ['ocr-webhook', 'signingKey'],
    ] as const) {
      this.secrets.set(name, { metadata: { name }, data: { [key]: 'dmFsdWU=' } });
    }
  }

  reconciler(secretIndex = new SecretIndex()) {
    let t = 0;
    return new Reconciler({
      reader: this.reader,
      writer: this.writer,
      events: new EventRecorder(async (_ns, e) => this.events.push(e), createLogger('test', 'silent')),
      secretIndex,
      log: createLogger('test', 'silent'),
      clock: () => Date.UTC(2026, 0, 1, 0, 0, t++),
      newApiKey: () => `key-${this.secretCreates}`,
    });
  }
}

const condition = (c: MemoryCluster, type: string) => c.pipeline.status?.conditions?.find((x) => x.type === type);

void test('a first reconcile creates every child, records one Created event naming them all and writes status once', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  await c.reconciler().reconcile('finance/invoices');
  assert.equal(c.children.size, 7);
  assert.equal(c.statusWrites, 1);
  const created = c.events.filter((e) => e.reason === 'Created');
  assert.equal(created.length, 1);
  for (const child of c.children.values()) assert.ok(created[0]?.message?.includes(`${child.kind ?? ''} ${child.metadata?.name ?? ''}`), child.metadata?.name);
  assert.equal(condition(c, 'Degraded')?.status, 'False');
  assert.equal(c.pipeline.status?.observedGeneration, 1);
});

void test('an idle re-reconcile writes no status and emits no event', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  const r = c.reconciler();
  await r.reconcile('finance/invoices');
  // The second pass sees the Deployments the first created (as their watch events would
  // trigger in a cluster) and records that; from then on the world is unchanged.
  await r.reconcile('finance/invoices');
  const [writes, events] = [c.statusWrites, c.events.length];
  await r.reconcile('finance/invoices');
  await r.reconcile('finance/invoices');
  assert.equal(c.statusWrites, writes);
  assert.equal(c.events.length, events);
});

void test('an idle re-reconcile applies no child: each carries the hash of what would be applied', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  const r = c.reconciler();
  await r.reconcile('finance/invoices');
  const applies = c.applies;
  assert.equal(applies, 7);
  await r.reconcile('finance/invoices');
  await r.reconcile('finance/invoices');
  assert.equal(c.applies, applies);
});

void test('a missing Secret degrades the pipeline, applies nothing, warns once, and the Secret index knows to wake it', async () => {
  const c = new MemoryCluster();
  const index = new SecretIndex();
  const r = c.reconciler(index);
  await r.reconcile('finance/invoices');
  await r.reconcile('finance/invoices');
  assert.equal(c.applies, 0);
  assert.equal(condition(c, 'Degraded')?.reason, 'SecretNotFound');
  assert.match(condition(c, 'Degraded')?.message ?? '', /Secret finance\/ocr-servicebus/);
  assert.equal(c.events.filter((e) => e.reason === 'SecretNotFound').length, 1);
  assert.equal(c.statusWrites, 1);
  assert.deepEqual(index.pipelinesFor('finance', 'ocr-webhook'), ['finance/invoices']);

  c.addAllSecrets();
  await r.reconcile('finance/invoices');
  assert.equal(c.children.size, 7);
  assert.equal(condition(c, 'Degraded')?.status, 'False');
});

void test('a language the image lacks degrades the pipeline, keeps the running workers as they are, and clears once it is removed', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  const r = c.reconciler();
  await r.reconcile('finance/invoices');
  const worker = JSON.stringify(c.children.get('Deployment/invoices-worker'));
  const applies = c.applies;

  c.pipeline = {
    ...c.pipeline,
    metadata: { ...c.pipeline.metadata, generation: 2 },
    spec: { ...(c.pipeline.spec as Record<string, unknown>), languages: ['eng', 'jpn'] },
  };
  await r.reconcile('finance/invoices');
  assert.equal(c.applies, applies);
  assert.equal(JSON.stringify(c.children.get('Deployment/invoices-worker')), worker);
  assert.equal(condition(c, 'Degraded')?.reason, 'LanguageNotInImage');
  assert.match(condition(c, 'Degraded')?.message ?? '', /asks for jpn, which the image does not carry/);
  assert.equal(condition(c, 'Ready')?.status, 'False');
  assert.equal(c.events.filter((e) => e.reason === 'LanguageNotInImage').length, 1);

  c.pipeline = {
    ...c.pipeline,
    metadata: { ...c.pipeline.metadata, generation: 3 },
    spec: { ...(c.pipeline.spec as Record<string, unknown>), languages: ['eng', 'chi_sim'] },
  };
  await r.reconcile('finance/invoices');
  assert.equal(condition(c, 'Degraded')?.status, 'False');
  assert.ok(c.applies > applies);
});

void test('status.ocr shows what engine auto resolved to for the languages, and the engines jobs may ask for', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  const r = c.reconciler();
  await r.reconcile('finance/invoices');
  // The full sample reads eng, deu and chi_sim: paddle cannot read deu.
  assert.deepEqual(c.pipeline.status?.ocr, { engine: 'tesseract', requestEngines: ['tesseract', 'paddle'] });
  c.pipeline = {
    ...c.pipeline,
    metadata: { ...c.pipeline.metadata, generation: 2 },
    spec: { ...(c.pipeline.spec as Record<string, unknown>), languages: ['eng', 'chi_sim'] },
  };
  await r.reconcile('finance/invoices');
  assert.deepEqual(c.pipeline.status?.ocr, { engine: 'paddle', requestEngines: ['paddle', 'tesseract'] });
  const worker = c.children.get('Deployment/invoices-worker') as V1Deployment;
  const env = worker.spec?.template.spec?.containers[0]?.env ?? [];
  assert.equal(env.find((e) => e.name === 'OCR_ENGINE')?.value, 'paddle');
});

void test('switching the workers to KEDA deletes the worker HPA', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  const r = c.reconciler();
  await r.reconcile('finance/invoices');
  assert.ok(c.children.has('HorizontalPodAutoscaler/invoices-worker'));
  const spec = structuredClone(c.pipeline.spec) as { worker: { scaling: { provider: string } } };
  spec.worker.scaling.provider = 'keda';
  c.pipeline = { ...c.pipeline, spec, metadata: { ...c.pipeline.metadata, generation: 2 } };
  await r.reconcile('finance/invoices');
  assert.ok(!c.children.has('HorizontalPodAutoscaler/invoices-worker'));
  assert.equal(c.events.filter((e) => e.reason === 'Deleted').length, 1);
});

void test('a failed apply is reported as Degraded=ApplyFailed and rethrown for backoff', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  c.writer.apply = () => Promise.reject(Object.assign(new Error('x'), { code: 422, body: '{"message":"spec.template: invalid"}' }));
  await assert.rejects(c.reconciler().reconcile('finance/invoices'), /HTTP 422: spec.template: invalid/);
  assert.equal(condition(c, 'Degraded')?.reason, 'ApplyFailed');
});

void test('a deleted pipeline is a no-op', async () => {
  const c = new MemoryCluster();
  c.reader.getPipeline = () => undefined as unknown as RawPipeline;
  await c.reconciler().reconcile('finance/invoices');
  assert.equal(c.applies + c.statusWrites, 0);
});

// --- the generated API keys Secret (spec.api.auth apiKeys without apiKeysSecretRef) --------

/** The full sample without its keys Secret reference; `auth` set when given. */
function withoutKeysRef(c: MemoryCluster, auth?: 'apiKeys' | 'disabled') {
  const spec = structuredClone(c.pipeline.spec) as { api: Record<string, unknown> };
  delete spec.api.apiKeysSecretRef;
  if (auth) spec.api.auth = auth;
  c.pipeline = { ...c.pipeline, spec };
}
const apiDeploymentOf = (c: MemoryCluster): V1Deployment | undefined => c.children.get('Deployment/invoices-api');
const apiPod = (c: MemoryCluster) => apiDeploymentOf(c)?.spec?.template;
const apiEnvNames = (c: MemoryCluster) => Object.fromEntries((apiPod(c)?.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));

void test('a pipeline without a keys Secret gets a generated one, mounted by the API, named in status and in one Event', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  withoutKeysRef(c);
  const r = c.reconciler();
  await r.reconcile('finance/invoices');
  await r.reconcile('finance/invoices');
  assert.equal(c.secretCreates, 1);
  assert.ok(c.secrets.has('invoices-api-keys'));
  assert.equal(apiPod(c)?.spec?.volumes?.find((v) => v.name === 'api-keys')?.secret?.secretName, 'invoices-api-keys');
  assert.equal(apiEnvNames(c).API_KEYS_FILE, '/etc/ocr/api-keys/keys');
  assert.equal(c.pipeline.status?.api?.keysSecret, 'invoices-api-keys');
  const generated = c.events.filter((e) => e.reason === 'GeneratedAPIKey');
  assert.equal(generated.length, 1);
  assert.equal(generated[0]?.type, 'Normal');
  assert.ok(generated[0]?.message?.includes("kubectl get secret invoices-api-keys -n finance -o jsonpath='{.data.keys}' | base64 -d"));
});

void test('re-reconciling keeps the generated key and the pod template as they are', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  withoutKeysRef(c);
  const r = c.reconciler();
  await r.reconcile('finance/invoices');
  const [data, hash] = [c.secrets.get('invoices-api-keys')?.data, apiPod(c)?.metadata?.annotations?.['ocrplatform.io/config-hash']];
  await r.reconcile('finance/invoices');
  await r.reconcile('finance/invoices');
  assert.equal(c.secretCreates, 1);
  assert.deepEqual(c.secrets.get('invoices-api-keys')?.data, data);
  assert.equal(apiPod(c)?.metadata?.annotations?.['ocrplatform.io/config-hash'], hash);
});

void test('rotating the generated key rolls the API pods, and the Secret index wakes the pipeline for it', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  withoutKeysRef(c);
  const index = new SecretIndex();
  const r = c.reconciler(index);
  await r.reconcile('finance/invoices');
  const before = apiPod(c)?.metadata?.annotations?.['ocrplatform.io/config-hash'];
  assert.deepEqual(index.pipelinesFor('finance', 'invoices-api-keys'), ['finance/invoices']);
  c.secrets.set('invoices-api-keys', { metadata: { name: 'invoices-api-keys' }, data: { keys: Buffer.from('default:rotated\n').toString('base64') } });
  await r.reconcile('finance/invoices');
  assert.equal(c.secretCreates, 1);
  assert.notEqual(apiPod(c)?.metadata?.annotations?.['ocrplatform.io/config-hash'], before);
});

void test('a deleted generated Secret is generated again, with a new key and a new Event', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  withoutKeysRef(c);
  const r = c.reconciler();
  await r.reconcile('finance/invoices');
  const first = c.secrets.get('invoices-api-keys')?.data;
  c.secrets.delete('invoices-api-keys');
  await r.reconcile('finance/invoices');
  assert.equal(c.secretCreates, 2);
  assert.notDeepEqual(c.secrets.get('invoices-api-keys')?.data, first);
  assert.equal(c.events.filter((e) => e.reason === 'GeneratedAPIKey').length, 2);
});

void test('auth disabled runs the API with API_AUTH=disabled, no keys mount, no generated Secret and no keysSecret', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  withoutKeysRef(c, 'disabled');
  const r = c.reconciler();
  await r.reconcile('finance/invoices');
  await r.reconcile('finance/invoices');
  assert.equal(c.secretCreates, 0);
  assert.equal(apiEnvNames(c).API_AUTH, 'disabled');
  assert.equal(apiEnvNames(c).API_KEYS_FILE, undefined);
  assert.equal(
    apiPod(c)?.spec?.volumes?.find((v) => v.name === 'api-keys'),
    undefined,
  );
  assert.equal(c.pipeline.status?.api?.keysSecret, undefined);
  assert.equal(c.events.filter((e) => e.reason === 'GeneratedAPIKey').length, 0);
});

void test('a generated Secret that lost its key degrades the pipeline and is not overwritten', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  withoutKeysRef(c);
  c.secrets.set('invoices-api-keys', { metadata: { name: 'invoices-api-keys' }, data: {} });
  await c.reconciler().reconcile('finance/invoices');
  assert.equal(c.applies, 0);
  assert.equal(c.secretCreates, 0);
  assert.equal(condition(c, 'Degraded')?.reason, 'SecretKeyNotFound');
  assert.match(condition(c, 'Degraded')?.message ?? '', /invoices-api-keys has no key "keys" \(referenced by spec.api.auth/);
});

void test('a user-referenced keys Secret is named in status and nothing is generated', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  const r = c.reconciler();
  await r.reconcile('finance/invoices');
  await r.reconcile('finance/invoices');
  assert.equal(c.secretCreates, 0);
  assert.equal(c.pipeline.status?.api?.keysSecret, 'ocr-api-keys');
});

void test('a rollout the cache reports complete is progressing when the apply answers with a generation not yet observed', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  const r = c.reconciler();
  await r.reconcile('finance/invoices');
  // The cache: both Deployments rolled out at generation 1.
  for (const name of ['invoices-api', 'invoices-worker']) {
    const d = c.children.get(`Deployment/${name}`) as V1Deployment;
    c.children.set(`Deployment/${name}`, { ...d, metadata: { ...d.metadata, generation: 1 }, status: rolledOutStatus(1) } as KubernetesObject);
  }
  await r.reconcile('finance/invoices');
  assert.equal(condition(c, 'Progressing')?.reason, 'RolloutComplete');
  // The API server answers the next apply with generation 2, which its controller has not observed yet.
  const apply = c.writer.apply;
  c.writer.apply = async (o: KubernetesObject) => {
    const answer = await apply(o);
    return o.kind === 'Deployment' ? ({ ...o, metadata: { ...o.metadata, generation: 2 }, status: rolledOutStatus(1) } as KubernetesObject) : answer;
  };
  // A spec change the Deployments carry (an unchanged desired object is not applied again).
  const spec = c.pipeline.spec as { api: Record<string, unknown> };
  c.pipeline = { ...c.pipeline, metadata: { ...c.pipeline.metadata, generation: 2 }, spec: { ...spec, api: { ...spec.api, rateLimitPerMinute: 777 } } };
  await r.reconcile('finance/invoices');
  assert.deepEqual([condition(c, 'Progressing')?.status, condition(c, 'Progressing')?.reason], ['True', 'RollingOut']);
  assert.match(condition(c, 'Progressing')?.message ?? '', /has not observed yet/);
});

function rolledOutStatus(observedGeneration: number): V1Deployment['status'] {
  return { observedGeneration, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 };
}

/** A reconciler over `c` with a clock the test moves and a record of requeues. */
function timedReconciler(c: MemoryCluster) {
  const clock = { now: Date.UTC(2026, 0, 1) };
  const requeued: [string, number][] = [];
  const r = new Reconciler({
    reader: c.reader,
    writer: c.writer,
    events: new EventRecorder(async () => undefined, createLogger('test', 'silent')),
    secretIndex: new SecretIndex(),
    log: createLogger('test', 'silent'),
    clock: () => clock.now,
    requeueAfter: (key, ms) => requeued.push([key, ms]),
  });
  return { r, clock, requeued };
}

const readyDeployments = (c: MemoryCluster) => {
  for (const name of ['invoices-api', 'invoices-worker']) {
    const d = c.children.get(`Deployment/${name}`) as V1Deployment;
    c.children.set(`Deployment/${name}`, { ...d, metadata: { ...d.metadata, generation: 1 }, status: rolledOutStatus(1) } as KubernetesObject);
  }
};

void test('a status change soon after the last write waits for the rest of the interval; a later reconcile writes it', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  const { r, clock, requeued } = timedReconciler(c);
  await r.reconcile('finance/invoices');
  assert.equal(c.statusWrites, 1);
  readyDeployments(c);
  clock.now += 500;
  await r.reconcile('finance/invoices');
  assert.equal(c.statusWrites, 1, 'deferred');
  assert.deepEqual(requeued, [['finance/invoices', STATUS_INTERVAL_MS - 500]]);
  clock.now += STATUS_INTERVAL_MS;
  await r.reconcile('finance/invoices');
  assert.equal(c.statusWrites, 2);
  assert.equal(condition(c, 'Progressing')?.reason, 'RolloutComplete');
});

void test('a new generation is reported at once, however recent the last write', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  const { r, clock, requeued } = timedReconciler(c);
  await r.reconcile('finance/invoices');
  c.pipeline = { ...c.pipeline, metadata: { ...c.pipeline.metadata, generation: 2 } };
  clock.now += 100;
  await r.reconcile('finance/invoices');
  assert.equal(c.statusWrites, 2);
  assert.equal(c.pipeline.status?.observedGeneration, 2);
  assert.deepEqual(requeued, []);
});

void test('a cache that has not seen our status write yet does not make us write the same status again', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  const r = c.reconciler();
  await r.reconcile('finance/invoices');
  await r.reconcile('finance/invoices');
  c.writer.writeStatus = async () => {
    c.statusWrites++; // the cache (c.pipeline) keeps the old status, as an informer one event behind
  };
  readyDeployments(c);
  const writes = c.statusWrites;
  await r.reconcile('finance/invoices');
  assert.equal(c.statusWrites, writes + 1, 'the rollout finished: written');
  // Same world, the cache still shows the status before that write (its conditions' times are re-stamped against it).
  await r.reconcile('finance/invoices');
  assert.equal(c.statusWrites, writes + 1, 'not written again');
});
