// The whole reconcile against an in-memory cluster (our own reader/writer interfaces, not
// a client library): asserts the resulting state, and that an idle loop writes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreV1Event, KubernetesObject, V1Secret } from '@kubernetes/client-node';
import type { OcrPipelineStatus } from '../../crds/ocrpipeline.ts';
import { createLogger } from '../../shared/logger.ts';
import { EventRecorder } from '../events.ts';
import { SecretIndex } from '../secret-index.ts';
import { sampleSpec } from '../testing/fixtures.ts';
import type { RawPipeline } from './gather.ts';
import { Reconciler } from './reconciler.ts';

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
    delete: async (o: KubernetesObject) => {
      this.children.delete(`${o.kind ?? ''}/${o.metadata?.name ?? ''}`);
    },
    writeStatus: async (_raw: RawPipeline, status: OcrPipelineStatus) => {
      this.statusWrites++;
      this.pipeline = { ...this.pipeline, status };
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
    });
  }
}

const condition = (c: MemoryCluster, type: string) => c.pipeline.status?.conditions?.find((x) => x.type === type);

void test('a first reconcile creates every child, records Created events and writes status once', async () => {
  const c = new MemoryCluster();
  c.addAllSecrets();
  await c.reconciler().reconcile('finance/invoices');
  assert.equal(c.children.size, 7);
  assert.equal(c.statusWrites, 1);
  assert.equal(c.events.filter((e) => e.reason === 'Created').length, 7);
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
