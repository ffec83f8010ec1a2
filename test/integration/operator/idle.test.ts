// An idle operator writes nothing (DESIGN §9): with a 2 s resync, several full reconciles
// of every pipeline leave every child and every pipeline at the same resourceVersion; so
// does a restart of the operator (a fresh process re-reconciles everything on start).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AutoscalingV2Api, type KubeConfig } from '@kubernetes/client-node';
import { startOperatorProcess, type OperatorProcess } from '../../support/operator-process.ts';
import {
  UNREACHABLE_CONNECTION_STRING,
  apply,
  clusterWithNamespace,
  closeNamespace,
  eventually,
  expectedChildren,
  isReadyAtCurrentGeneration,
  listChildren,
  pipeline,
  readPipeline,
  resourceVersions,
  secret,
  skipWithoutCluster,
  sleep,
  uniqueNamespace,
  type TestCluster,
} from './harness.ts';

const NS = uniqueNamespace('idle');
const PIPELINES = ['idle-a', 'idle-b'];
const RESYNC_SECONDS = 2;
/** Longer than kube-controller-manager's HPA sync (5 s in TEST_TIMING) and a resync. */
const SETTLE_GAP_MS = 6_000;

/** Sum of ocr_operator_reconcile_total{result="success"} from the operator's /metrics. */
async function reconciles(op: OperatorProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${op.metricsPort}/metrics`, { signal: AbortSignal.timeout(3_000) })).text();
  return Number(/^ocr_operator_reconcile_total\{result="success"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

/** Which objects changed between two snapshots. */
const changed = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys({ ...a, ...b })
    .filter((k) => a[k] !== b[k])
    .map((k) => `${k}: ${a[k] ?? '-'} -> ${b[k] ?? '-'}`);

/**
 * Waits until the world is at rest: every HPA evaluated once by kube-controller-manager
 * (its status feeds MetricsAvailable), then two snapshots `gapMs` apart equal.
 */
async function settled(kc: KubeConfig, gapMs: number, timeoutMs: number): Promise<Record<string, string>> {
  const hpas = kc.makeApiClient(AutoscalingV2Api);
  await eventually(
    'every HPA to be evaluated',
    async () => (await hpas.listNamespacedHorizontalPodAutoscaler({ namespace: NS })).items.every((h) => (h.status?.conditions?.length ?? 0) > 0),
    timeoutMs,
  );
  let last = await resourceVersions(kc, NS, PIPELINES);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await sleep(gapMs);
    const now = await resourceVersions(kc, NS, PIPELINES);
    if (changed(last, now).length === 0) return now;
    last = now;
  }
  throw new Error(`the namespace did not settle within ${timeoutMs} ms`);
}

void describe('an idle operator writes nothing', { skip: skipWithoutCluster, timeout: 150_000 }, () => {
  let cluster: TestCluster;
  let operator: OperatorProcess | undefined;
  const log = () => `operator log:\n${operator?.tail(20) ?? '(not started)'}`;
  const statuses = async () =>
    (await Promise.all(PIPELINES.map(async (n) => `${n}: ${JSON.stringify((await readPipeline(cluster.kc, NS, n))?.status)}`))).join('\n');
  const start = async () => startOperatorProcess({ kubeconfigPath: cluster.kubeconfigPath, namespaces: [NS], resyncSeconds: RESYNC_SECONDS });

  before(async () => {
    cluster = await clusterWithNamespace('it-operator-idle', NS);
    await apply(cluster.kc, secret(NS, 'servicebus', { connectionString: UNREACHABLE_CONNECTION_STRING }));
    operator = await start();
    for (const name of PIPELINES) await apply(cluster.kc, pipeline(NS, name));
    for (const name of PIPELINES) {
      await eventually(
        `${name} Ready with every child`,
        async () =>
          isReadyAtCurrentGeneration(await readPipeline(cluster.kc, NS, name)) &&
          (await listChildren(cluster.kc, NS, name)).length === expectedChildren(name).length,
        60_000,
        log,
      );
    }
  });

  after(async () => {
    await operator?.stop();
    await closeNamespace(cluster, NS);
  });

  void it('several resyncs leave every child and pipeline at the same resourceVersion', { timeout: 60_000 }, async () => {
    const op = operator!;
    const before = await settled(cluster.kc, SETTLE_GAP_MS, 45_000);
    const reconcilesBefore = await reconciles(op);
    await sleep(3 * RESYNC_SECONDS * 1000 + 500);
    const after = await resourceVersions(cluster.kc, NS, PIPELINES);
    const ran = (await reconciles(op)) - reconcilesBefore;
    assert.ok(ran >= 2 * PIPELINES.length, `the operator re-reconciled every pipeline at least twice (${ran} reconciles)`);
    assert.deepEqual(changed(before, after), [], `no object was written\n${await statuses()}`);
    assert.equal(Object.keys(before).length, PIPELINES.length * (expectedChildren('x').length + 1));
  });

  void it('a restarted operator changes nothing either', { timeout: 60_000 }, async () => {
    const before = await settled(cluster.kc, SETTLE_GAP_MS, 30_000);
    await operator?.stop();
    operator = await start();
    const op = operator;
    await eventually('the new process to reconcile every pipeline', async () => (await reconciles(op)) >= PIPELINES.length, 30_000, log);
    // Beyond the first queue poll and a few resyncs: a status flip would show by now.
    await sleep(3 * RESYNC_SECONDS * 1000 + 500);
    const after = await resourceVersions(cluster.kc, NS, PIPELINES);
    assert.deepEqual(changed(before, after), [], `no object was written after the restart\n${await statuses()}\n${log()}`);
  });
});
