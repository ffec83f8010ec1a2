// Two operator processes on one Lease: one leads, the other stands by. SIGKILL the leader
// (no Lease release, like a node failure); the standby takes the Lease once it expires and
// reconciles a spec change made while nobody led.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoordinationV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startOperatorProcess, type OperatorProcess } from '../../support/operator-process.ts';
import {
  GROUP,
  PLURAL,
  UNREACHABLE_CONNECTION_STRING,
  VERSION,
  apply,
  clusterWithNamespace,
  closeNamespace,
  eventually,
  expectedChildren,
  isReadyAtCurrentGeneration,
  listChildren,
  pipeline,
  readPipeline,
  secret,
  skipWithoutCluster,
  sleep,
  uniqueNamespace,
  type TestCluster,
} from './harness.ts';

const NS = uniqueNamespace('failover');
const LEASE = 'ocr-operator-failover-test';
const NAME = 'failover';
// Short Lease timing so the test is quick (the operator's defaults are 15/10/2 s).
const LEASE_SECONDS = 6;
const RENEW_SECONDS = 4;
const RETRY_SECONDS = 1;

void describe('a standby operator takes over when the leader dies', { skip: skipWithoutCluster, timeout: 150_000 }, () => {
  let cluster: TestCluster;
  const operators: OperatorProcess[] = [];
  const log = () => operators.map((o, i) => `operator ${i} (pid ${o.pid}${o.exited ? ', exited' : ''}):\n${o.tail(10)}`).join('\n');
  const holder = async () =>
    (
      await cluster.kc
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: LEASE, namespace: NS })
        .catch(() => undefined)
    )?.spec?.holderIdentity;
  const leaders = async () =>
    (await Promise.all(operators.map(async (o) => (o.exited ? 0 : await o.leaderGauge())))).map((g, i) => (g === 1 ? i : -1)).filter((i) => i >= 0);

  before(async () => {
    cluster = await clusterWithNamespace('it-operator-failover', NS);
    await apply(cluster.kc, secret(NS, 'servicebus', { connectionString: UNREACHABLE_CONNECTION_STRING }));
    for (let i = 0; i < 2; i++) {
      operators.push(
        await startOperatorProcess({
          kubeconfigPath: cluster.kubeconfigPath,
          namespaces: [NS],
          leaderElection: {
            namespace: NS,
            name: LEASE,
            leaseDurationSeconds: LEASE_SECONDS,
            renewDeadlineSeconds: RENEW_SECONDS,
            retryPeriodSeconds: RETRY_SECONDS,
          },
        }),
      );
    }
  });

  after(async () => {
    await Promise.all(operators.map((o) => o.stop()));
    await closeNamespace(cluster, NS);
  });

  void it('exactly one process leads, holds the Lease and reconciles', { timeout: 60_000 }, async () => {
    await eventually('one leader', async () => (await leaders()).length === 1 && (await holder()) !== undefined, 30_000, log);
    await apply(cluster.kc, pipeline(NS, NAME));
    await eventually(
      'every child and Ready=True',
      async () =>
        (await listChildren(cluster.kc, NS, NAME)).length === expectedChildren(NAME).length &&
        isReadyAtCurrentGeneration(await readPipeline(cluster.kc, NS, NAME)),
      45_000,
      log,
    );
    await sleep(2 * RETRY_SECONDS * 1000);
    assert.equal((await leaders()).length, 1, 'still exactly one leader after a few renewals');
  });

  void it(
    'after SIGKILL of the leader the standby takes the Lease within its duration and reconciles a change made meanwhile',
    { timeout: 60_000 },
    async () => {
      const [leaderIndex] = await leaders();
      assert.ok(leaderIndex !== undefined);
      const leader = operators[leaderIndex]!;
      const standby = operators[1 - leaderIndex]!;
      const before = await holder();
      await leader.kill('SIGKILL');
      const killedAt = Date.now();
      // Nobody leads now: change the spec.
      await cluster.kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: NS,
          plural: PLURAL,
          name: NAME,
          body: { spec: { image: 'example.invalid/ocr-platform:after-failover' } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await eventually('the standby to lead', async () => (await standby.leaderGauge()) === 1, (LEASE_SECONDS + 10) * 1000, log);
      const takeoverMs = Date.now() - killedAt;
      const after = await holder();
      assert.ok(after !== undefined && after !== before, `the Lease changed hands (${String(before)} -> ${String(after)})`);
      // The Lease expires LEASE_SECONDS after the last renewal; the standby tries every RETRY_SECONDS; 3 s for a busy machine.
      assert.ok(takeoverMs <= (LEASE_SECONDS + RETRY_SECONDS + 3) * 1000, `took over in ${takeoverMs} ms`);
      const apps = cluster.kc.makeApiClient(AppsV1Api);
      await eventually(
        'the new image on both Deployments and Ready=True at the new generation',
        async () => {
          const images = await Promise.all(
            ['api', 'worker'].map(
              async (c) => (await apps.readNamespacedDeployment({ name: `${NAME}-${c}`, namespace: NS })).spec?.template.spec?.containers[0]?.image,
            ),
          );
          return (
            images.every((i) => i === 'example.invalid/ocr-platform:after-failover') && isReadyAtCurrentGeneration(await readPipeline(cluster.kc, NS, NAME))
          );
        },
        40_000,
        log,
      );
      console.error(`  takeover after SIGKILL: ${takeoverMs} ms (lease ${LEASE_SECONDS} s)`);
    },
  );
});
