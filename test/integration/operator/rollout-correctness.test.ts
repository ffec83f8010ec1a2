// Three operator correctness cases (issue 14, item 6), on a real control plane with kwok pods:
// a switch from fixed to autoscaled replicas never lets the Deployment fall below the old
// count (the handover, src/operator/reconcile/apply.ts); the first status written for a new
// spec says the rollout is under way, never RolloutComplete from a Deployment that has not
// observed it; a Deployment past its progress deadline makes the pipeline Degraded with the
// Deployment's message. Deployments and pipelines are observed through watches, so a value
// that lasts only a moment is seen too. Every assertion reads the API server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AppsV1Api,
  AutoscalingV2Api,
  CustomObjectsApi,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubeConfig,
  type V1Deployment,
} from '@kubernetes/client-node';
import { startOperatorProcess, type OperatorProcess } from '../../support/operator-process.ts';
import {
  GROUP,
  PLURAL,
  UNREACHABLE_CONNECTION_STRING,
  VERSION,
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
  type Condition,
  type TestCluster,
} from './harness.ts';

const NS = uniqueNamespace('rollout');
const FIXED = { api: { replicas: { min: 1, max: 1 } }, worker: { replicas: { min: 1, max: 1 } } };

interface Watched {
  /** Every object the watch delivered, in order. */
  seen: unknown[];
  stop(): void;
}

/** Watches one object by name and records every version of it (ADDED and MODIFIED). */
async function watchOne(kc: KubeConfig, path: string, name: string): Promise<Watched> {
  const seen: unknown[] = [];
  const req = await new Watch(kc).watch(
    path,
    { fieldSelector: `metadata.name=${name}` },
    (phase, obj) => {
      if (phase === 'ADDED' || phase === 'MODIFIED') seen.push(obj);
    },
    () => {},
  );
  return { seen, stop: () => req.abort() };
}

void describe(
  'the operator hands replicas over, reports rollouts from fresh Deployments and reports missed deadlines',
  { skip: skipWithoutCluster, timeout: 240_000 },
  () => {
    let cluster: TestCluster;
    let operator: OperatorProcess | undefined;
    let apps: AppsV1Api;
    let custom: CustomObjectsApi;
    const log = () => `operator log:\n${operator?.tail(20) ?? '(not started)'}`;
    const conditions = async (name: string) => `${JSON.stringify((await readPipeline(cluster.kc, NS, name))?.status?.conditions ?? [], null, 1)}\n${log()}`;
    const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const patchSpec = (name: string, spec: Record<string, unknown>) =>
      custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, name, body: { spec } }, mergePatch);
    const readyAtCurrentGeneration = (name: string, timeoutMs = 60_000) =>
      eventually(
        `${name} to be Ready at its current generation`,
        async () => isReadyAtCurrentGeneration(await readPipeline(cluster.kc, NS, name)),
        timeoutMs,
        () => conditions(name),
      );

    before(async () => {
      cluster = await clusterWithNamespace('it-operator-rollout', NS);
      apps = cluster.kc.makeApiClient(AppsV1Api);
      custom = cluster.kc.makeApiClient(CustomObjectsApi);
      await apply(cluster.kc, secret(NS, 'servicebus', { connectionString: UNREACHABLE_CONNECTION_STRING }));
      operator = await startOperatorProcess({ kubeconfigPath: cluster.kubeconfigPath, namespaces: [NS] });
    });

    after(async () => {
      await operator?.stop();
      await closeNamespace(cluster, NS);
    });

    void it('switching from 3 fixed API replicas to autoscaled 1..5 never lets the Deployment drop below 3', { timeout: 90_000 }, async () => {
      const name = 'handover';
      await apply(cluster.kc, pipeline(NS, name, { ...FIXED, api: { replicas: { min: 3, max: 3 } } }));
      await readyAtCurrentGeneration(name);
      const watch = await watchOne(cluster.kc, `/apis/apps/v1/namespaces/${NS}/deployments`, `${name}-api`);
      try {
        await patchSpec(name, { api: { replicas: { min: 1, max: 5 } } });
        await eventually(
          'the operator to apply the autoscaled spec (HPA created, status at the new generation)',
          async () => {
            const p = await readPipeline(cluster.kc, NS, name);
            const hpas = await cluster.kc.makeApiClient(AutoscalingV2Api).listNamespacedHorizontalPodAutoscaler({ namespace: NS });
            return p?.status?.observedGeneration === p?.generation && hpas.items.some((h) => h.metadata?.name === `${name}-api`);
          },
          30_000,
          log,
        );
        await sleep(3000); // a few more reconciles (child events) and HPA syncs
      } finally {
        watch.stop();
      }
      const counts = watch.seen.map((d) => (d as V1Deployment).spec?.replicas);
      assert.ok(counts.length > 0, 'the watch saw the Deployment');
      assert.ok(
        counts.every((n) => n !== undefined && n >= 3),
        `spec.replicas stayed at 3 or more: ${JSON.stringify(counts)}`,
      );
      const d = await apps.readNamespacedDeployment({ name: `${name}-api`, namespace: NS });
      const ours = d.metadata?.managedFields?.find((m) => m.manager === 'ocr-platform-operator' && m.operation === 'Apply')?.fieldsV1 as
        { 'f:spec'?: Record<string, unknown> } | undefined;
      assert.equal(ours?.['f:spec']?.['f:replicas'], undefined, 'the operator no longer owns spec.replicas');
    });

    void it('the first status written for a new spec says the rollout is under way, never RolloutComplete', { timeout: 90_000 }, async () => {
      const name = 'fresh';
      await apply(cluster.kc, pipeline(NS, name, FIXED));
      await readyAtCurrentGeneration(name);
      const watch = await watchOne(cluster.kc, `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${PLURAL}`, name);
      let generation = 0;
      try {
        await patchSpec(name, { image: 'example.invalid/ocr-platform:it-2' });
        generation = (await readPipeline(cluster.kc, NS, name))?.generation ?? 0;
        await readyAtCurrentGeneration(name);
      } finally {
        watch.stop();
      }
      type Seen = { metadata?: { generation?: number }; status?: { observedGeneration?: number; conditions?: Condition[] } };
      const atNewGeneration = (watch.seen as Seen[]).filter((p) => p.status?.observedGeneration === generation);
      const first = atNewGeneration[0]?.status?.conditions?.find((c) => c.type === 'Progressing');
      assert.deepEqual(
        [first?.status, first?.reason],
        ['True', 'RollingOut'],
        `the first status at generation ${generation}: ${JSON.stringify(atNewGeneration[0]?.status?.conditions)}`,
      );
    });

    void it(
      "a Deployment past its progress deadline makes the pipeline Degraded with the Deployment's message, and it heals",
      { timeout: 90_000 },
      async () => {
        const name = 'deadline';
        const worker = `${name}-worker`;
        await apply(cluster.kc, pipeline(NS, name, FIXED));
        await readyAtCurrentGeneration(name);
        // kube-controller-manager rewrites the Progressing condition of a running Deployment at
        // once; a paused one keeps a reported ProgressDeadlineExceeded (checkPausedConditions).
        // Pausing is this test's field (its own manager): the operator does not apply spec.paused.
        await apply(cluster.kc, {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: worker, namespace: NS },
          spec: { paused: true },
        } as V1Deployment);
        await eventually(
          'the Deployment controller to observe the pause',
          async () => {
            const d = await apps.readNamespacedDeployment({ name: worker, namespace: NS });
            return d.status?.observedGeneration === d.metadata?.generation;
          },
          30_000,
        );
        const message = `ReplicaSet "${worker}-it" has timed out progressing.`;
        const d = await apps.readNamespacedDeployment({ name: worker, namespace: NS });
        const others = (d.status?.conditions ?? []).filter((c) => c.type !== 'Progressing');
        await apps.patchNamespacedDeploymentStatus(
          {
            name: worker,
            namespace: NS,
            body: { status: { conditions: [...others, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message }] } },
          },
          mergePatch,
        );
        await eventually(
          'Degraded=True ProgressDeadlineExceeded',
          async () => condition(await readPipeline(cluster.kc, NS, name), 'Degraded')?.reason === 'ProgressDeadlineExceeded',
          30_000,
          () => conditions(name),
        );
        const p = await readPipeline(cluster.kc, NS, name);
        assert.equal(condition(p, 'Degraded')?.status, 'True');
        assert.equal(condition(p, 'Degraded')?.message, `The worker Deployment's rollout stopped progressing: ${message}`);
        assert.deepEqual([condition(p, 'Progressing')?.status, condition(p, 'Progressing')?.reason], ['False', 'ProgressDeadlineExceeded']);
        assert.equal(condition(p, 'Ready')?.status, 'True', 'the old pods still serve');

        // Resumed, the Deployment controller reports the rollout complete and the pipeline heals.
        await apply(cluster.kc, {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: worker, namespace: NS },
          spec: { paused: false },
        } as V1Deployment);
        await eventually(
          'Degraded=False once the Deployment progresses again',
          async () => condition(await readPipeline(cluster.kc, NS, name), 'Degraded')?.status === 'False',
          30_000,
          () => conditions(name),
        );
      },
    );
  },
);
