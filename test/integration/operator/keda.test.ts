// KEDA mode (spec.worker.scaling.provider: keda) on a real API server with KEDA's CRD installed
// (KEDA itself does not run: nothing else writes the ScaledObject). The operator watches
// ScaledObjects like its other children: a converged pipeline makes no write on resync, a
// hand-edited ScaledObject is put back, and one no longer desired is deleted. Every assertion
// reads the API server (resourceVersions, specs, apiserver_request_total), never the operator.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { defaultBinDir } from '../../support/cluster.ts';
import type { OperatorProcess } from '../../support/operator-process.ts';
import {
  ROOT,
  TEST_FIELD_MANAGER,
  UNREACHABLE_CONNECTION_STRING,
  apply,
  clusterWithNamespace,
  closeNamespace,
  eventually,
  pipeline,
  readPipeline,
  resourceVersions,
  secret,
  skipWithoutCluster,
  sleep,
  startOperatorIn,
  uniqueNamespace,
  type TestCluster,
} from './harness.ts';

const NS = uniqueNamespace('keda');
const PIPELINE = 'keda-a';
const SO = `${PIPELINE}-worker`;
const RESYNC_SECONDS = 2;
const KEDA_CRD_FILE = 'config/keda/keda.sh_scaledobjects.yaml';
const execFileAsync = promisify(execFile);

/** A pipeline whose workers KEDA scales (1-3); the operator needs --prometheus-url to build the ScaledObject (nothing queries it here). */
const kedaPipeline = (provider: 'keda' | 'prometheus-adapter' = 'keda') =>
  pipeline(NS, PIPELINE, { worker: { replicas: { min: 1, max: 3 }, scaling: { provider } } });

interface ScaledObject extends KubernetesObject {
  spec: { maxReplicaCount?: number; minReplicaCount?: number };
}

/** The API server's count of every ScaledObject write (any client, any verb but reads), from its /metrics. */
async function scaledObjectWrites(kubeconfigPath: string): Promise<number> {
  const { stdout } = await execFileAsync(join(defaultBinDir(), 'kubectl'), ['--kubeconfig', kubeconfigPath, 'get', '--raw', '/metrics'], {
    timeout: 30_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  let n = 0;
  for (const m of stdout.matchAll(/^apiserver_request_total\{([^}]*)\} (\d+)/gm)) {
    const labels = m[1] ?? '';
    if (labels.includes('group="keda.sh"') && labels.includes('resource="scaledobjects"') && !/verb="(GET|LIST|WATCH)"/.test(labels)) n += Number(m[2]);
  }
  return n;
}

void describe('KEDA ScaledObjects are watched like every child', { skip: skipWithoutCluster, timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let operator: OperatorProcess | undefined;
  const log = () => `operator log:\n${operator?.tail(30) ?? '(not started)'}`;
  const objects = () => KubernetesObjectApi.makeApiClient(cluster.kc);
  const readSo = async (): Promise<ScaledObject | undefined> =>
    (await objects()
      .read({ apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: SO, namespace: NS } })
      .catch(() => undefined)) as ScaledObject | undefined;
  /** Every child's and the pipeline's resourceVersion, with the ScaledObject's. */
  const versions = async () => ({
    ...(await resourceVersions(cluster.kc, NS, [PIPELINE])),
    [`ScaledObject/${SO}`]: (await readSo())?.metadata?.resourceVersion ?? '-',
  });

  before(async () => {
    cluster = await clusterWithNamespace('it-operator-keda', NS);
    // kubectl, server-side: the CRD as KEDA ships it (config/keda/), cluster-scoped and left installed (other files install it too).
    await execFileAsync(
      join(defaultBinDir(), 'kubectl'),
      [
        '--kubeconfig',
        cluster.kubeconfigPath,
        'apply',
        '--server-side',
        '--force-conflicts',
        `--field-manager=${TEST_FIELD_MANAGER}`,
        '-f',
        join(ROOT, KEDA_CRD_FILE),
      ],
      { timeout: 30_000 },
    );
    await execFileAsync(
      join(defaultBinDir(), 'kubectl'),
      ['--kubeconfig', cluster.kubeconfigPath, 'wait', '--for=condition=Established', '--timeout=30s', 'crd/scaledobjects.keda.sh'],
      { timeout: 40_000 },
    );
    await apply(cluster.kc, secret(NS, 'servicebus', { connectionString: UNREACHABLE_CONNECTION_STRING }));
    operator = await startOperatorIn(cluster, NS, { resyncSeconds: RESYNC_SECONDS, prometheusUrl: 'http://127.0.0.1:1' });
    await apply(cluster.kc, kedaPipeline());
    await eventually(
      'the ScaledObject and a status at the current generation',
      async () => {
        const p = await readPipeline(cluster.kc, NS, PIPELINE);
        return (await readSo()) !== undefined && p?.status?.observedGeneration === p?.generation;
      },
      60_000,
      log,
    );
  });

  after(async () => {
    await operator?.stop();
    await closeNamespace(cluster, NS);
  });

  void it('a converged pipeline in KEDA mode makes no write on resync, the ScaledObject included', { timeout: 90_000 }, async () => {
    // Settled: two snapshots a resync apart are equal (the first reconciles may still write status).
    let before = await versions();
    await eventually(
      'the namespace to settle',
      async () => {
        await sleep(2 * RESYNC_SECONDS * 1000);
        const now = await versions();
        const same = JSON.stringify(now) === JSON.stringify(before);
        before = now;
        return same;
      },
      60_000,
      log,
    );
    const writesBefore = await scaledObjectWrites(cluster.kubeconfigPath);
    await sleep(3 * RESYNC_SECONDS * 1000 + 500);
    assert.deepEqual(await versions(), before, `no object was written over three resyncs\n${log()}`);
    assert.equal(await scaledObjectWrites(cluster.kubeconfigPath), writesBefore, 'the API server saw no ScaledObject write');
  });

  void it('a hand-edited ScaledObject is put back', { timeout: 60_000 }, async () => {
    const desired = (await readSo())!.spec.maxReplicaCount;
    assert.equal(desired, 3);
    await objects().patch(
      { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: SO, namespace: NS }, spec: { maxReplicaCount: 9 } } as KubernetesObject,
      undefined,
      undefined,
      'kubectl-edit',
      undefined,
      PatchStrategy.MergePatch,
    );
    await eventually('the ScaledObject to be put back to maxReplicaCount 3', async () => (await readSo())?.spec.maxReplicaCount === 3, 30_000, log);
  });

  void it('a ScaledObject no longer desired (provider prometheus-adapter) is deleted', { timeout: 60_000 }, async () => {
    await apply(cluster.kc, kedaPipeline('prometheus-adapter'));
    await eventually('the ScaledObject to be deleted', async () => (await readSo()) === undefined, 30_000, log);
  });
});
