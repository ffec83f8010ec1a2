// The operator as a process against the local control plane, in named stages with explicit
// timeouts: both samples become children (accepted by the API server, owned by their
// pipeline), kwok's pods make them Ready, drift is put back, an HPA's replica count is
// left alone, and kube-controller-manager's garbage collector removes the children with
// the pipeline. Every assertion reads the cluster.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, AutoscalingV2Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
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
  expectedChildren,
  isReadyAtCurrentGeneration,
  listChildren,
  podsReady,
  readPipeline,
  sample,
  secret,
  skipWithoutCluster,
  sleep,
  uniqueNamespace,
  type TestCluster,
} from './harness.ts';

const NS = uniqueNamespace('lifecycle');
const MINIMAL = 'receipts';
const FULL = 'invoices';
const RESYNC_SECONDS = 2;

void describe('the operator reconciles the samples on a real control plane', { skip: skipWithoutCluster, timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let operator: OperatorProcess | undefined;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  const log = () => `operator log:\n${operator?.tail(20) ?? '(not started)'}`;
  const deployment = (name: string) => apps.readNamespacedDeployment({ name, namespace: NS });

  before(async () => {
    cluster = await clusterWithNamespace('it-operator-lifecycle', NS);
    apps = cluster.kc.makeApiClient(AppsV1Api);
    core = cluster.kc.makeApiClient(CoreV1Api);
    // What the full sample references: four Secrets and a ServiceAccount (pods need it).
    for (const [name, key] of [
      ['ocr-servicebus', 'connectionString'],
      ['ocr-storage', 'connectionString'],
      ['ocr-api-keys', 'keys'],
      ['ocr-webhook', 'signingKey'],
    ] as const) {
      await apply(cluster.kc, secret(NS, name, { [key]: name === 'ocr-servicebus' ? UNREACHABLE_CONNECTION_STRING : `test-${name}` }));
    }
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'ocr-invoices' } } });
    operator = await startOperatorProcess({ kubeconfigPath: cluster.kubeconfigPath, namespaces: [NS], resyncSeconds: RESYNC_SECONDS });
  });

  after(async () => {
    await operator?.stop();
    await closeNamespace(cluster, NS);
  });

  void it('applying the minimal and the full sample creates every child, each owned by its pipeline', { timeout: 60_000 }, async () => {
    await apply(cluster.kc, sample('ocrpipeline-minimal.yaml', NS));
    await apply(cluster.kc, sample('ocrpipeline-full.yaml', NS));
    for (const name of [MINIMAL, FULL]) {
      await eventually(
        `every child of ${name}`,
        async () => (await listChildren(cluster.kc, NS, name)).length === expectedChildren(name).length,
        45_000,
        async () => `children: ${(await listChildren(cluster.kc, NS, name)).map((c) => c.id).join(', ')}\n${log()}`,
      );
      const uid = (await readPipeline(cluster.kc, NS, name))?.uid;
      const children = await listChildren(cluster.kc, NS, name);
      assert.deepEqual(
        children.map((c) => c.id),
        expectedChildren(name),
      );
      for (const c of children) {
        assert.equal(c.owners.length, 1, `${c.id} has exactly one owner`);
        assert.deepEqual(
          { ...c.owners[0] },
          { apiVersion: `${GROUP}/${VERSION}`, kind: 'OcrPipeline', name, uid, controller: true, blockOwnerDeletion: true },
          `${c.id} is owned by ${name}`,
        );
      }
    }
  });

  void it('kwok makes the pods Ready and each pipeline reports Ready=True at its current generation', { timeout: 90_000 }, async () => {
    // Every Deployment has all the pods it asks for Ready (kwok's stages), and each pipeline says so.
    const rolledOut = async () =>
      (await apps.listNamespacedDeployment({ namespace: NS })).items.every((d) => (d.status?.readyReplicas ?? 0) === d.spec?.replicas);
    await eventually(
      'every Deployment to have all its pods Ready',
      rolledOut,
      80_000,
      async () => `pods: ${JSON.stringify(await podsReady(cluster.kc, NS))}\n${log()}`,
    );
    for (const name of [MINIMAL, FULL]) {
      await eventually(
        `${name} to be Ready=True at its generation`,
        async () => isReadyAtCurrentGeneration(await readPipeline(cluster.kc, NS, name)),
        30_000,
        async () => `status: ${JSON.stringify((await readPipeline(cluster.kc, NS, name))?.status)}\n${log()}`,
      );
    }
    const pods = await podsReady(cluster.kc, NS);
    // The operator leaves spec.replicas to the HPAs (one pod until an HPA raises it to replicas.min).
    assert.ok(pods.total >= 4 && pods.ready === pods.total, `every pod of the four Deployments is Ready: ${JSON.stringify(pods)}`);
    assert.equal(condition(await readPipeline(cluster.kc, NS, FULL), 'Degraded')?.status, 'False');
  });

  void it('a spec change reaches the children and is reported at the new generation', { timeout: 60_000 }, async () => {
    const custom = cluster.kc.makeApiClient(CustomObjectsApi);
    await custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: NS,
        plural: PLURAL,
        name: MINIMAL,
        body: { spec: { image: 'example.invalid/ocr-platform:v2', api: { replicas: { min: 2, max: 7 } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await eventually(
      'the new image and HPA maximum on the children',
      async () => {
        const d = await deployment(`${MINIMAL}-api`);
        const hpa = await cluster.kc.makeApiClient(AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ name: `${MINIMAL}-api`, namespace: NS });
        return d.spec?.template.spec?.containers[0]?.image === 'example.invalid/ocr-platform:v2' && hpa.spec?.maxReplicas === 7;
      },
      30_000,
      log,
    );
    await eventually('Ready=True at the new generation', async () => isReadyAtCurrentGeneration(await readPipeline(cluster.kc, NS, MINIMAL)), 45_000, log);
  });

  void it('a deleted child comes back', { timeout: 30_000 }, async () => {
    const before = await core.readNamespacedService({ name: `${MINIMAL}-api`, namespace: NS });
    await core.deleteNamespacedService({ name: `${MINIMAL}-api`, namespace: NS });
    await eventually(
      'the Service to be recreated',
      async () => {
        const now = await core.readNamespacedService({ name: `${MINIMAL}-api`, namespace: NS }).catch(() => undefined);
        return now !== undefined && now.metadata?.uid !== before.metadata?.uid;
      },
      20_000,
      log,
    );
  });

  void it('hand-edited managed fields (a Service targetPort, a container env value) are put back', { timeout: 40_000 }, async () => {
    const service = await core.readNamespacedService({ name: `${MINIMAL}-api`, namespace: NS });
    const port = service.spec?.ports?.[0]?.port;
    const targetPort = service.spec?.ports?.[0]?.targetPort;
    assert.ok(port !== undefined && targetPort !== 8089, 'the Service targets a port other than 8089');
    const d = await deployment(`${MINIMAL}-worker`);
    const envVar = d.spec?.template.spec?.containers[0]?.env?.find((e) => e.value !== undefined);
    assert.ok(envVar, 'the worker container has a plain env value to edit');

    // Like `kubectl edit`: another field manager changes fields the operator applied.
    await core.patchNamespacedService(
      { name: `${MINIMAL}-api`, namespace: NS, fieldManager: 'kubectl-edit', body: { spec: { ports: [{ port, targetPort: 8089 }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    await apps.patchNamespacedDeployment(
      {
        name: `${MINIMAL}-worker`,
        namespace: NS,
        fieldManager: 'kubectl-edit',
        body: {
          spec: {
            template: {
              spec: { containers: [{ name: d.spec?.template.spec?.containers[0]?.name ?? '', env: [{ name: envVar.name, value: 'hand-edited' }] }] },
            },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    await eventually(
      'the Service port and env value to be reverted',
      async () => {
        const s = await core.readNamespacedService({ name: `${MINIMAL}-api`, namespace: NS });
        const w = await deployment(`${MINIMAL}-worker`);
        const value = w.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === envVar.name)?.value;
        return s.spec?.ports?.length === 1 && s.spec.ports[0]?.targetPort === targetPort && value === envVar.value;
      },
      30_000,
      async () => `service ports: ${JSON.stringify((await core.readNamespacedService({ name: `${MINIMAL}-api`, namespace: NS })).spec?.ports)}\n${log()}`,
    );
  });

  void it('a replica count set by another field manager (an HPA) is never undone across reconciles', { timeout: 60_000 }, async () => {
    const name = `${MINIMAL}-worker`;
    // Within the HPA's 1..10, so kube-controller-manager's HPA (no metrics here) leaves it too.
    await apps.patchNamespacedDeploymentScale(
      { name, namespace: NS, fieldManager: 'horizontal-pod-autoscaler-test', body: { spec: { replicas: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const custom = cluster.kc.makeApiClient(CustomObjectsApi);
    const seen = new Set<number | undefined>();
    const sample = async () => seen.add((await deployment(name)).spec?.replicas);
    // Several resyncs (every 2 s) and two spec changes that re-apply every child.
    for (const rate of [600, 900]) {
      await custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, name: MINIMAL, body: { spec: { api: { rateLimitPerMinute: rate } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await eventually(
        `the operator to reconcile rateLimitPerMinute=${rate}`,
        async () => {
          await sample();
          const env = (await deployment(`${MINIMAL}-api`)).spec?.template.spec?.containers[0]?.env ?? [];
          return env.some((e) => e.value === String(rate)) && isReadyAtCurrentGeneration(await readPipeline(cluster.kc, NS, MINIMAL));
        },
        30_000,
        log,
      );
    }
    for (let i = 0; i < 10; i++) {
      await sample();
      await sleep(500); // 5 s: two more resyncs
    }
    assert.deepEqual([...seen], [3], 'spec.replicas stayed 3 throughout');
    const d: V1Deployment = await deployment(name);
    const operatorFields = d.metadata?.managedFields?.find((m) => m.manager === 'ocr-platform-operator' && m.operation === 'Apply')?.fieldsV1 as
      { 'f:spec'?: Record<string, unknown> } | undefined;
    assert.ok(operatorFields?.['f:spec'], 'the operator applied the worker Deployment spec');
    assert.equal(operatorFields['f:spec']['f:replicas'], undefined, 'the operator does not own spec.replicas');
  });

  void it('deleting the pipelines lets the garbage collector remove every child', { timeout: 60_000 }, async () => {
    const custom = cluster.kc.makeApiClient(CustomObjectsApi);
    for (const name of [MINIMAL, FULL]) await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, name });
    await eventually(
      'no children left in the namespace',
      async () => (await listChildren(cluster.kc, NS)).length === 0,
      50_000,
      async () => `left: ${(await listChildren(cluster.kc, NS)).map((c) => c.id).join(', ')}`,
    );
    assert.equal(await readPipeline(cluster.kc, NS, MINIMAL), undefined);
  });
});
