// Bad specs never reach the operator: the API server rejects them with the CRD's own
// message (OpenAPI schema and CEL rules generated from src/crds/). No operator runs here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  apply,
  clusterWithNamespace,
  closeNamespace,
  pipeline,
  skipWithoutCluster,
  uniqueNamespace,
  type PipelineManifest,
  type TestCluster,
} from './harness.ts';

const NS = uniqueNamespace('validation');

type Spec = Record<string, unknown>;
const base: Spec = pipeline(NS, 'x').spec;
const without = (key: string): Spec => Object.fromEntries(Object.entries(base).filter(([k]) => k !== key));

const cases: Array<{ name: string; spec: Spec; messages: string[] }> = [
  {
    name: 'API replicas.min above replicas.max is rejected by the CEL rule',
    spec: { ...base, api: { replicas: { min: 5, max: 2 } } },
    messages: ['spec.api.replicas', 'replicas.min must be less than or equal to replicas.max'],
  },
  {
    name: 'worker replicas.min above replicas.max is rejected by the CEL rule',
    spec: { ...base, worker: { replicas: { min: 4, max: 1 } } },
    messages: ['spec.worker.replicas', 'replicas.min must be less than or equal to replicas.max'],
  },
  {
    name: 'a language that is not a tesseract code is rejected by its pattern',
    spec: { ...base, languages: ['English'] },
    messages: ['spec.languages[0]', "should match '^[a-z]{3}(_[a-z]+)?$'"],
  },
  {
    name: 'a negative Service port is rejected by its minimum',
    spec: { ...base, api: { replicas: { min: 1, max: 3 }, service: { port: -1 } } },
    messages: ['spec.api.service.port', 'should be greater than or equal to 1'],
  },
  {
    name: 'a missing image is rejected as a required field',
    spec: without('image'),
    messages: ['spec.image: Required value'],
  },
  {
    name: 'a missing queue is rejected as a required field',
    spec: without('queue'),
    messages: ['spec.queue: Required value'],
  },
  {
    name: 'both a Service Bus namespace and a connection string are rejected by the CEL rule',
    spec: {
      ...base,
      queue: { serviceBus: { namespace: 'contoso.servicebus.windows.net', connectionStringSecretRef: { name: 's', key: 'k' }, queueName: 'q' } },
    },
    messages: ['set exactly one of queue.serviceBus.namespace (workload identity) or queue.serviceBus.connectionStringSecretRef'],
  },
  {
    name: 'auth disabled together with an API keys Secret is rejected by the CEL rule',
    spec: { ...base, api: { replicas: { min: 1, max: 3 }, auth: 'disabled', apiKeysSecretRef: { name: 'keys', key: 'keys' } } },
    messages: ['spec.api', 'api.auth disabled runs the API without keys: remove api.apiKeysSecretRef, or set api.auth to apiKeys'],
  },
];

void describe("the API server rejects invalid OcrPipelines with the CRD's message", { skip: skipWithoutCluster, timeout: 60_000 }, () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await clusterWithNamespace('it-operator-validation', NS);
  });

  after(async () => {
    await closeNamespace(cluster, NS);
  });

  void it('a valid pipeline is accepted (the cases below differ from it in one field)', async () => {
    const created = await apply(cluster.kc, pipeline(NS, 'valid'));
    assert.equal(created.metadata?.name, 'valid');
  });

  for (const c of cases) {
    void it(c.name, async () => {
      const invalid: PipelineManifest = { ...pipeline(NS, 'invalid'), spec: c.spec };
      const error = await apply(cluster.kc, invalid).then(
        () => undefined,
        (e: unknown) => e as { code?: number; body?: string },
      );
      assert.ok(error, 'the API server accepted the pipeline');
      assert.equal(error.code, 422, `HTTP 422 Unprocessable Entity, got ${String(error.code)}: ${String(error.body)}`);
      const message = (JSON.parse(error.body ?? '{}') as { message?: string }).message ?? '';
      for (const m of c.messages) assert.ok(message.includes(m), `message names "${m}": ${message}`);
    });
  }
});
