// The operator SIGKILLed while it applies 12 pipelines, then restarted: every pipeline ends
// with exactly its children, once each (no duplicates, nothing orphaned), every child owned
// by exactly one pipeline that exists, and one ReplicaSet per Deployment (the restarted
// process renders the same pod templates, so nothing rolls).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api } from '@kubernetes/client-node';
import type { OperatorProcess } from '../../support/operator-process.ts';
import {
  UNREACHABLE_CONNECTION_STRING,
  apply,
  clusterWithNamespace,
  closeNamespace,
  eventually,
  expectedChildren,
  listChildren,
  pipeline,
  readPipeline,
  secret,
  skipWithoutCluster,
  startOperatorIn,
  uniqueNamespace,
  type TestCluster,
} from './harness.ts';

const NS = uniqueNamespace('crash');
const PIPELINES = Array.from({ length: 12 }, (_, i) => `crash-${String(i).padStart(2, '0')}`);
const PER_PIPELINE = expectedChildren('x').length;

void describe('an operator killed mid-reconcile and restarted leaves no duplicate or orphaned objects', { skip: skipWithoutCluster, timeout: 150_000 }, () => {
  let cluster: TestCluster;
  let operator: OperatorProcess | undefined;
  const log = () => `operator log:\n${operator?.tail(15) ?? '(not started)'}`;
  const start = () => startOperatorIn(cluster, NS, { concurrency: 4 });

  before(async () => {
    cluster = await clusterWithNamespace('it-operator-crash', NS);
    await apply(cluster.kc, secret(NS, 'servicebus', { connectionString: UNREACHABLE_CONNECTION_STRING }));
  });

  after(async () => {
    await operator?.stop();
    await closeNamespace(cluster, NS);
  });

  void it('SIGKILL while children are being applied leaves a partial set', { timeout: 60_000 }, async () => {
    operator = await start();
    await Promise.all(PIPELINES.map((name) => apply(cluster.kc, pipeline(NS, name))));
    let atKill = 0;
    await eventually(
      'the first children',
      async () => {
        atKill = (await listChildren(cluster.kc, NS)).length;
        return atKill >= 5;
      },
      45_000,
      log,
    );
    await operator.kill('SIGKILL');
    const left = (await listChildren(cluster.kc, NS)).length;
    console.error(`  killed with ${atKill} children seen, ${left} present after the kill (of ${PIPELINES.length * PER_PIPELINE})`);
    assert.ok(left < PIPELINES.length * PER_PIPELINE, `the kill came mid-way: ${left} of ${PIPELINES.length * PER_PIPELINE} children existed`);
  });

  void it('a restarted operator completes every pipeline with exactly its children, each owned once by an existing pipeline', { timeout: 80_000 }, async () => {
    operator = await start();
    await eventually(
      `all ${PIPELINES.length * PER_PIPELINE} children`,
      async () => (await listChildren(cluster.kc, NS)).length >= PIPELINES.length * PER_PIPELINE,
      70_000,
      log,
    );
    const children = await listChildren(cluster.kc, NS);
    const uids = new Map<string, string>();
    for (const name of PIPELINES) uids.set(name, (await readPipeline(cluster.kc, NS, name))?.uid ?? 'missing');
    for (const name of PIPELINES) {
      const mine = children.filter((c) => c.labels['ocrplatform.io/pipeline'] === name).map((c) => c.id);
      assert.deepEqual(mine, expectedChildren(name), `${name} has exactly its children`);
    }
    assert.equal(children.length, PIPELINES.length * PER_PIPELINE, 'no other children in the namespace');
    for (const c of children) {
      assert.equal(c.owners.length, 1, `${c.id} has one owner`);
      const owner = c.owners[0]!;
      assert.equal(owner.uid, uids.get(owner.name), `${c.id} is owned by the existing pipeline ${owner.name}`);
      assert.equal(owner.name, c.labels['ocrplatform.io/pipeline'], `${c.id}'s owner matches its pipeline label`);
    }
    // Deterministic pod templates: the restarted operator did not roll any Deployment.
    const apps = cluster.kc.makeApiClient(AppsV1Api);
    await eventually(
      'one ReplicaSet per Deployment',
      async () => (await apps.listNamespacedReplicaSet({ namespace: NS })).items.length === PIPELINES.length * 2,
      20_000,
    );
    const replicaSets = await apps.listNamespacedReplicaSet({ namespace: NS });
    const perDeployment = new Map<string, number>();
    for (const rs of replicaSets.items) {
      const owner = rs.metadata?.ownerReferences?.[0]?.name ?? '';
      perDeployment.set(owner, (perDeployment.get(owner) ?? 0) + 1);
    }
    assert.deepEqual(
      [...perDeployment.values()].filter((n) => n !== 1),
      [],
      'every Deployment has exactly one ReplicaSet',
    );
  });
});
