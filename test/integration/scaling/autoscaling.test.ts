// Worker autoscaling end to end on the local control plane, in named stages with explicit
// timeouts: Service Bus stand-in -> operator (a real process, polling the queue) ->
// Prometheus (scraping the operator on loopback) -> prometheus-adapter
// (external.metrics.k8s.io) -> the worker HPA the operator built -> status.scaling.
// The assertions read the cluster's state (HPA status, OcrPipeline status), never calls.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiextensionsV1Api, AutoscalingV2Api, CoreV1Api, CustomObjectsApi, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { ServiceBusClient } from '@azure/service-bus';
import { parseSpec, type OcrPipeline, type OcrPipelineStatus } from '../../../src/crds/ocrpipeline.ts';
import { kedaScaledObject } from '../../../src/operator/desired/keda-scaledobject.ts';
import { serviceBusClient, startServiceBusStandin, type ServiceBusStandin } from '../../support/servicebus.ts';
import { waitFor } from '../../support/ports.ts';
import { apply, applyCrd, scalingCluster, startOperator, type OperatorProcess, type ScalingCluster } from './harness.ts';

const NS = `scaling-e2e-${process.pid}`;
const PIPELINE = 'receipts';
const MESSAGES_PER_REPLICA = 5;
const MAX_WORKERS = 8;
const KEDA_CRD = 'scaledobjects.keda.sh';

const skip = process.env.OCR_TEST_SKIP_CLUSTER ? 'OCR_TEST_SKIP_CLUSTER is set' : false;

function pipelineManifest() {
  return {
    apiVersion: 'ocrplatform.io/v1alpha1',
    kind: 'OcrPipeline',
    metadata: { name: PIPELINE, namespace: NS },
    spec: {
      image: 'example.invalid/ocr-platform:e2e',
      queue: { serviceBus: { connectionStringSecretRef: { name: 'servicebus', key: 'connection-string' }, queueName: 'ocr-jobs' } },
      storage: { blob: { accountUrl: 'https://example.invalid', container: 'ocr' } },
      api: { replicas: { min: 1, max: 1 } },
      worker: {
        replicas: { min: 1, max: MAX_WORKERS },
        scaling: {
          messagesPerReplica: MESSAGES_PER_REPLICA,
          // scale-up: HPA defaults (at once); scale-down: no window, all at once, so the test is quick
          behavior: { scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 5 }] } },
        },
      },
    },
  };
}

void describe('worker autoscaling on queue depth (local control plane)', { timeout: 280_000, skip }, () => {
  let env: ScalingCluster;
  let standin: ServiceBusStandin;
  let sb: ServiceBusClient;
  let operator: OperatorProcess | undefined;
  let hpas: AutoscalingV2Api;
  let custom: CustomObjectsApi;

  const hpa = async (): Promise<V2HorizontalPodAutoscaler | undefined> =>
    hpas.readNamespacedHorizontalPodAutoscaler({ name: `${PIPELINE}-worker`, namespace: NS }).catch(() => undefined);
  const status = async (): Promise<OcrPipelineStatus | undefined> =>
    (
      (await custom.getNamespacedCustomObject({ group: 'ocrplatform.io', version: 'v1alpha1', namespace: NS, plural: 'ocrpipelines', name: PIPELINE })) as {
        status?: OcrPipelineStatus;
      }
    ).status;
  const condition = (s: OcrPipelineStatus | undefined, type: string) => s?.conditions?.find((c) => c.type === type);

  /** Waits for the HPA to want `n` workers; the message carries what it and the operator saw. */
  async function hpaWants(n: number, timeoutMs: number): Promise<void> {
    try {
      await waitFor(`the worker HPA to desire ${n} replicas`, async () => (await hpa())?.status?.desiredReplicas === n, timeoutMs, 500);
    } catch (error) {
      const h = await hpa();
      throw new Error(
        `${(error as Error).message}\nHPA status: ${JSON.stringify(h?.status)}\npipeline status.scaling: ${JSON.stringify((await status())?.scaling)}\noperator log:\n${operator?.tail(15) ?? ''}`,
      );
    }
  }

  async function send(n: number): Promise<void> {
    const sender = sb.createSender('ocr-jobs');
    await sender.sendMessages(Array.from({ length: n }, (_, i) => ({ body: { job: i } })));
    await sender.close();
  }

  before(async () => {
    env = await scalingCluster('it-scaling', (line) => console.error(`  ${line}`));
    hpas = env.kc.makeApiClient(AutoscalingV2Api);
    custom = env.kc.makeApiClient(CustomObjectsApi);
    const core = env.kc.makeApiClient(CoreV1Api);
    await applyCrd(env.kc, 'config/crd/ocrplatform.io_ocrpipelines.yaml');
    await core.createNamespace({ body: { metadata: { name: NS } } });
    standin = await startServiceBusStandin({ queues: [{ name: 'ocr-jobs', lockDurationSeconds: 60 }] });
    sb = serviceBusClient(standin);
    // The operator only reads counters (ATOM): its Secret holds the management connection string.
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'servicebus' }, stringData: { 'connection-string': standin.managementConnectionString } },
    });
    operator = await startOperator({ kubeconfigPath: env.kubeconfigPath, namespace: NS, prometheusUrl: env.prometheusUrl });
    env.addScrapeTargets([`127.0.0.1:${operator.metricsPort}`]);
    await apply(env.kc, pipelineManifest());
  });

  after(async () => {
    await operator?.stop();
    await sb?.close();
    await standin?.close();
    if (env) {
      await env.kc
        .makeApiClient(CoreV1Api)
        .deleteNamespace({ name: NS })
        .catch(() => undefined);
      // the trimmed KEDA CRD is a test fixture: never leave it in a shared cluster
      await env.kc
        .makeApiClient(ApiextensionsV1Api)
        .deleteCustomResourceDefinition({ name: KEDA_CRD })
        .catch(() => undefined);
      await env.stop();
    }
  });

  void it('stage 1: a backlog of 23 messages makes the worker HPA desire ceil(23 / 5) = 5 workers', { timeout: 90_000 }, async () => {
    await send(23);
    await hpaWants(5, 80_000);
    // The HPA's status change requeues the pipeline; its status follows within moments.
    await waitFor('status.scaling to want 5 workers', async () => (await status())?.scaling?.desiredWorkers === 5, 20_000, 250);
    const s = await status();
    assert.equal(s?.scaling?.backlog, 23);
    assert.equal(s?.scaling?.activeMessages, 23);
    assert.equal(s?.scaling?.desiredWorkers, 5);
    assert.equal(s?.scaling?.limitedBy, 'none');
    assert.equal(condition(s, 'QueueReachable')?.status, 'True');
  });

  void it('stage 2: a backlog beyond the bounds is capped at maxReplicas and says so', { timeout: 60_000 }, async () => {
    await send(37); // 60 messages: ceil(60 / 5) = 12 > 8
    await hpaWants(MAX_WORKERS, 50_000);
    await waitFor('status.scaling to say maxReplicas', async () => (await status())?.scaling?.limitedBy === 'maxReplicas', 20_000, 500);
    assert.equal((await status())?.scaling?.desiredWorkers, MAX_WORKERS);
    assert.equal(condition(await status(), 'MetricsAvailable')?.status, 'True');
  });

  void it('stage 3: draining the queue scales the workers down to the minimum per the behavior', { timeout: 60_000 }, async () => {
    const receiver = sb.createReceiver('ocr-jobs', { receiveMode: 'peekLock' });
    let drained = 0;
    const deadline = Date.now() + 20_000;
    while (drained < 60 && Date.now() < deadline) {
      const batch = await receiver.receiveMessages(60 - drained, { maxWaitTimeInMs: 1_000 });
      for (const m of batch) await receiver.completeMessage(m);
      drained += batch.length;
    }
    await receiver.close();
    assert.equal(drained, 60, 'all 60 messages are received and completed');
    await hpaWants(1, 50_000);
    try {
      await waitFor(
        'status.scaling to show an empty queue held at minReplicas',
        async () => {
          const sc = (await status())?.scaling;
          return sc?.backlog === 0 && sc.limitedBy === 'minReplicas' && sc.desiredWorkers === 1;
        },
        20_000,
        500,
      );
    } catch (error) {
      const s = await status();
      throw new Error(
        `${(error as Error).message}\nstatus: ${JSON.stringify({ scaling: s?.scaling, conditions: s?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}`) })}\nHPA: ${JSON.stringify((await hpa())?.status)}`,
      );
    }
  });

  void it('stage 4: stopping the stand-in sets QueueReachable=False and holds the worker count', { timeout: 90_000 }, async () => {
    await send(12); // ceil(12 / 5) = 3
    await hpaWants(3, 50_000);
    await sb.close();
    await standin.close();
    await waitFor('QueueReachable=False', async () => condition(await status(), 'QueueReachable')?.status === 'False', 20_000, 500);
    const s = await status();
    assert.equal(condition(s, 'QueueReachable')?.reason, 'NamespaceUnreachable');
    // Hold: for three HPA sync periods (and past the point the stale gauge left /metrics)
    // the HPA keeps wanting 3 workers.
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      assert.equal((await hpa())?.status?.desiredReplicas, 3, 'the worker count must hold while the queue is unreachable');
      await new Promise((r) => setTimeout(r, 1_000));
    }
    assert.equal((await status())?.scaling?.limitedBy, 'metricUnavailable');
  });

  void it('stage 5: the KEDA ScaledObject is rendered and accepted by the API server (server-side dry run)', { timeout: 30_000 }, async () => {
    await applyCrd(env.kc, 'config/keda/keda.sh_scaledobjects.yaml');
    const manifest = pipelineManifest();
    const spec = parseSpec({
      ...manifest.spec,
      worker: { ...manifest.spec.worker, replicas: { min: 0, max: MAX_WORKERS }, scaling: { ...manifest.spec.worker.scaling, provider: 'keda' } },
    });
    const p: OcrPipeline = {
      apiVersion: 'ocrplatform.io/v1alpha1',
      kind: 'OcrPipeline',
      metadata: { name: PIPELINE, namespace: NS, uid: '00000000-0000-0000-0000-000000000001' },
      spec,
    };
    const so = kedaScaledObject({ pipeline: p, secretHashes: {} }, { prometheusUrl: env.prometheusUrl })!;
    const accepted = (await apply(env.kc, so, true)) as { spec?: { minReplicaCount?: number; triggers?: unknown[] } };
    assert.equal(accepted.spec?.minReplicaCount, 0);
    assert.equal(accepted.spec?.triggers?.length, 1);
    // The schema really validates: a wrong fallback behavior is refused.
    const bad = { ...so, spec: { ...so.spec, fallback: { failureThreshold: 3, replicas: 1, behavior: 'sometimes' } } };
    await assert.rejects(apply(env.kc, bad, true), /Unsupported value|behavior/);
  });
});
