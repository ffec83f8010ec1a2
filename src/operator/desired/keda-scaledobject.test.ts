import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_VERSION, KIND, parseSpec, type OcrPipeline, type OcrPipelineSpecInput } from '../../crds/ocrpipeline.ts';
import { backlogQuery, kedaScaledObject } from './keda-scaledobject.ts';

type WorkerInput = NonNullable<OcrPipelineSpecInput['worker']>;

/** A pipeline with KEDA scaling; `worker` overrides merge into the worker spec. */
function pipeline(worker: Partial<WorkerInput> = {}, scaling: Record<string, unknown> = {}): OcrPipeline {
  const spec = parseSpec({
    image: 'ghcr.io/example/ocr-platform:0.1.0',
    queue: { serviceBus: { namespace: 'contoso.servicebus.windows.net', queueName: 'ocr-jobs' } },
    storage: { blob: { accountUrl: 'https://contoso.blob.core.windows.net', container: 'ocr' } },
    worker: { replicas: { min: 0, max: 20 }, ...worker, scaling: { provider: 'keda', messagesPerReplica: 5, activationMessages: 2, ...scaling } },
  });
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'receipts', namespace: 'finance', uid: 'uid-1', generation: 1 }, spec };
}

const input = (p: OcrPipeline) => ({ pipeline: p, secretHashes: {} });
const opts = { prometheusUrl: 'http://prometheus.monitoring:9090' };

void test("the ScaledObject renders with the pipeline's target, bounds, behavior and fallback", (t) => {
  t.assert.snapshot(kedaScaledObject(input(pipeline()), opts));
});

void test("the trigger scales on the pipeline's backlog with messagesPerReplica as threshold", () => {
  const so = kedaScaledObject(input(pipeline()), opts)!;
  const trigger = (so.spec.triggers as Array<{ type: string; metadata: Record<string, string> }>)[0]!;
  assert.equal(trigger.type, 'prometheus');
  assert.deepEqual(trigger.metadata, {
    serverAddress: 'http://prometheus.monitoring:9090',
    query: 'max(ocr_queue_backlog{namespace="finance",pipeline="receipts"})',
    threshold: '5',
    activationThreshold: '2',
    ignoreNullValues: 'false',
  });
});

void test('there is no ScaledObject when prometheus-adapter is the provider', () => {
  assert.equal(kedaScaledObject(input(pipeline({}, { provider: 'prometheus-adapter' })), opts), undefined);
});

void test('there is no ScaledObject when the worker count is fixed', () => {
  assert.equal(kedaScaledObject(input(pipeline({ replicas: { min: 3, max: 3 } })), opts), undefined);
});

void test('min 0 is kept and the fallback never drops below one worker', () => {
  const so = kedaScaledObject(input(pipeline()), opts)!;
  assert.equal(so.spec.minReplicaCount, 0);
  assert.deepEqual(so.spec.fallback, { failureThreshold: 3, replicas: 1, behavior: 'currentReplicasIfHigher' });
});

void test('a plan that raises the floor and disables scale-up reaches the ScaledObject', () => {
  const so = kedaScaledObject(input(pipeline()), { ...opts, plan: { minReplicas: 1, scaleUpDisabled: true } })!;
  assert.equal(so.spec.minReplicaCount, 1);
  const behavior = (so.spec.advanced as { horizontalPodAutoscalerConfig: { behavior: { scaleUp: { selectPolicy: string } } } }).horizontalPodAutoscalerConfig
    .behavior;
  assert.equal(behavior.scaleUp.selectPolicy, 'Disabled');
});

void test('label values with quotes cannot break out of the PromQL selector', () => {
  assert.equal(backlogQuery('a"b', 'c\\d'), 'max(ocr_queue_backlog{namespace="a\\"b",pipeline="c\\\\d"})');
});
