// The operator surfaces why pods fail (issue 13, item 1), on a real control plane. kwok's
// fake pods never crash, so the crash loop is written the way a kubelet would write it: the
// API pod's status subresource gets a container waiting in CrashLoopBackOff whose last exit
// carries a termination message. kwok leaves it alone (its pod-ready stage only takes pods
// without a podIP). The unschedulable pod is real: a worker requesting more CPU than any fake
// node has is left Pending by the scheduler with PodScheduled=False Unschedulable. Each
// pipeline must turn Degraded=True with the reason and the message, Progressing=False, and
// heal once its spec is fixed. Every assertion reads the API server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { startOperatorProcess, type OperatorProcess } from '../../support/operator-process.ts';
import {
  PIPELINE_LABEL,
  UNREACHABLE_CONNECTION_STRING,
  apply,
  condition,
  clusterWithNamespace,
  closeNamespace,
  eventually,
  isReadyAtCurrentGeneration,
  pipeline,
  readPipeline,
  secret,
  skipWithoutCluster,
  sleep,
  uniqueNamespace,
  type PipelineManifest,
  type TestCluster,
} from './harness.ts';

const NS = uniqueNamespace('pod-failures');
const CRASHING = 'crashing';
const UNSCHEDULABLE = 'unschedulable';
/** What the API logs before it exits 2 without keys (src/api/main.ts), as kubelet keeps it with FallbackToLogsOnError. */
const TERMINATION_MESSAGE =
  '{"level":60,"time":1700000000000,"service":"api","msg":"Configuration error: API_KEYS_FILE is not set; mount the keys file or set API_AUTH=disabled (see --help)"}\n';
const FIXED = { api: { replicas: { min: 1, max: 1 } }, worker: { replicas: { min: 1, max: 1 } } };

const crashing = (spec: Record<string, unknown> = {}): PipelineManifest => pipeline(NS, CRASHING, { ...FIXED, ...spec });
/** 1000 CPUs: more than any fake node (8) holds. */
const unschedulable = (cpu = '1000'): PipelineManifest =>
  pipeline(NS, UNSCHEDULABLE, { ...FIXED, worker: { replicas: { min: 1, max: 1 }, resources: { requests: { cpu, memory: '64Mi' } } } });

void describe('a pipeline whose pods crash-loop or cannot be scheduled says why', { skip: skipWithoutCluster, timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let operator: OperatorProcess | undefined;
  let core: CoreV1Api;
  const log = () => `operator log:\n${operator?.tail(20) ?? '(not started)'}`;
  const conditions = async (name: string) => {
    const p = await readPipeline(cluster.kc, NS, name);
    return `${JSON.stringify(p?.status?.conditions ?? [], null, 1)}\n${log()}`;
  };
  const pods = async (name: string, component: string): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace: NS, labelSelector: `${PIPELINE_LABEL}=${name},app.kubernetes.io/component=${component}` })).items;

  before(async () => {
    cluster = await clusterWithNamespace('it-operator-pod-failures', NS);
    core = cluster.kc.makeApiClient(CoreV1Api);
    await apply(cluster.kc, secret(NS, 'servicebus', { connectionString: UNREACHABLE_CONNECTION_STRING }));
    // The default resync (300 s) is longer than every wait below: only the pod watch can wake the pipeline.
    operator = await startOperatorProcess({ kubeconfigPath: cluster.kubeconfigPath, namespaces: [NS] });
  });

  after(async () => {
    await operator?.stop();
    await closeNamespace(cluster, NS);
  });

  void it('a crash-looping API pod makes Degraded=True PodCrashLooping with the termination message, and Progressing=False', { timeout: 90_000 }, async () => {
    await apply(cluster.kc, crashing());
    await eventually(
      'the pipeline to be Ready on kwok pods',
      async () => isReadyAtCurrentGeneration(await readPipeline(cluster.kc, NS, CRASHING)),
      45_000,
      () => conditions(CRASHING),
    );
    const [pod] = await pods(CRASHING, 'api');
    assert.ok(pod?.metadata?.name && pod.status?.podIP, 'a running API pod with an IP (kwok has finished with it)');
    const podName = pod.metadata.name;
    const container = pod.status.containerStatuses?.[0];
    assert.equal(container?.name, 'api');
    await core.patchNamespacedPodStatus(
      {
        name: podName,
        namespace: NS,
        body: {
          status: {
            conditions: [
              ...(pod.status.conditions ?? []).filter((c) => c.type !== 'Ready' && c.type !== 'ContainersReady'),
              { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: new Date() },
              { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: new Date() },
            ],
            containerStatuses: [
              {
                name: 'api',
                image: container.image,
                imageID: container.imageID,
                ready: false,
                started: false,
                restartCount: 5,
                state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2m40s restarting failed container=api' } },
                lastState: {
                  terminated: { exitCode: 2, reason: 'Error', message: TERMINATION_MESSAGE, startedAt: new Date(), finishedAt: new Date() },
                },
              },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );

    await eventually(
      'Degraded=True PodCrashLooping',
      async () => condition(await readPipeline(cluster.kc, NS, CRASHING), 'Degraded')?.reason === 'PodCrashLooping',
      30_000,
      () => conditions(CRASHING),
    );
    const p = await readPipeline(cluster.kc, NS, CRASHING);
    const degraded = condition(p, 'Degraded');
    assert.equal(degraded?.status, 'True');
    assert.match(degraded?.message ?? '', new RegExp(`The API pod ${podName} is crash-looping: container api keeps exiting, last exit code 2 \\(Error\\)`));
    assert.match(degraded?.message ?? '', /Configuration error: API_KEYS_FILE is not set; mount the keys file or set API_AUTH=disabled/);
    assert.deepEqual([condition(p, 'Progressing')?.status, condition(p, 'Progressing')?.reason], ['False', 'PodCrashLooping']);
    // Ready follows the Deployment's available count, which the Deployment controller updates on its own time.
    await eventually(
      'Ready=False APIUnavailable',
      async () => condition(await readPipeline(cluster.kc, NS, CRASHING), 'Ready')?.reason === 'APIUnavailable',
      30_000,
      () => conditions(CRASHING),
    );
    const ready = condition(await readPipeline(cluster.kc, NS, CRASHING), 'Ready');
    assert.equal(ready?.status, 'False');
    assert.match(ready?.message ?? '', /Degraded says why \(PodCrashLooping\)/);

    // kwok did not put the pod back to Running in the meantime.
    await sleep(2_000);
    const again = await core.readNamespacedPod({ name: podName, namespace: NS });
    assert.equal(again.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'CrashLoopBackOff');
  });

  void it('fixing the spec rolls the pods and heals the pipeline', { timeout: 60_000 }, async () => {
    // What the message asks for: run the API open (a new pod template, so new pods replace the crashing one).
    await apply(cluster.kc, crashing({ api: { replicas: { min: 1, max: 1 }, auth: 'disabled' } }));
    await eventually(
      'Degraded=False, Ready=True at the new generation and the rollout complete',
      async () => {
        const p = await readPipeline(cluster.kc, NS, CRASHING);
        return condition(p, 'Degraded')?.status === 'False' && isReadyAtCurrentGeneration(p) && condition(p, 'Progressing')?.reason === 'RolloutComplete';
      },
      45_000,
      () => conditions(CRASHING),
    );
    const p = await readPipeline(cluster.kc, NS, CRASHING);
    assert.deepEqual([condition(p, 'Degraded')?.status, condition(p, 'Degraded')?.reason], ['False', 'AsExpected']);
    assert.equal(condition(p, 'Progressing')?.status, 'False');
    // The crash-looping pod is gone: only pods of the new template are left.
    const left = await pods(CRASHING, 'api');
    assert.ok(
      left.every((pod) => pod.status?.containerStatuses?.[0]?.state?.running),
      left.map((pod) => pod.metadata?.name).join(','),
    );
  });

  void it('a worker no node can hold makes Degraded=True PodUnschedulable with the scheduler message', { timeout: 60_000 }, async () => {
    await apply(cluster.kc, unschedulable());
    await eventually(
      'Degraded=True PodUnschedulable',
      async () => condition(await readPipeline(cluster.kc, NS, UNSCHEDULABLE), 'Degraded')?.reason === 'PodUnschedulable',
      45_000,
      () => conditions(UNSCHEDULABLE),
    );
    const [pod] = await pods(UNSCHEDULABLE, 'worker');
    const scheduled = pod?.status?.conditions?.find((c) => c.type === 'PodScheduled');
    assert.deepEqual([scheduled?.status, scheduled?.reason], ['False', 'Unschedulable'], 'the scheduler, not the test, said so');
    const p = await readPipeline(cluster.kc, NS, UNSCHEDULABLE);
    const degraded = condition(p, 'Degraded');
    assert.equal(degraded?.status, 'True');
    assert.match(degraded?.message ?? '', new RegExp(`^The worker pod ${pod?.metadata?.name ?? ''} cannot be scheduled: .*Insufficient cpu`));
    assert.ok(degraded?.message.includes(scheduled?.message ?? '(none)'), 'the message carries the scheduler message');
    assert.deepEqual([condition(p, 'Progressing')?.status, condition(p, 'Progressing')?.reason], ['False', 'PodUnschedulable']);
    assert.deepEqual([condition(p, 'Ready')?.status, condition(p, 'Ready')?.reason], ['False', 'WorkersUnavailable']);
  });

  void it('a request that fits heals it', { timeout: 60_000 }, async () => {
    await apply(cluster.kc, unschedulable('100m'));
    await eventually(
      'Degraded=False and Ready=True at the new generation',
      async () => {
        const p = await readPipeline(cluster.kc, NS, UNSCHEDULABLE);
        return condition(p, 'Degraded')?.status === 'False' && isReadyAtCurrentGeneration(p);
      },
      45_000,
      () => conditions(UNSCHEDULABLE),
    );
    const degraded = condition(await readPipeline(cluster.kc, NS, UNSCHEDULABLE), 'Degraded');
    assert.deepEqual([degraded?.status, degraded?.reason], ['False', 'AsExpected']);
  });
});
