// A pipeline whose Secret does not exist yet: Degraded with a message naming the Secret,
// nothing rolled out; creating the Secret heals it through the operator's Secret watch,
// without a restart (the resync is 5 minutes, far beyond this test).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OperatorProcess } from '../../support/operator-process.ts';
import {
  UNREACHABLE_CONNECTION_STRING,
  apply,
  condition,
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
  startOperatorIn,
  uniqueNamespace,
  type TestCluster,
} from './harness.ts';

const NS = uniqueNamespace('secrets');
const NAME = 'needs-secret';

void describe('a missing Secret degrades the pipeline until it is created', { skip: skipWithoutCluster, timeout: 120_000 }, () => {
  let cluster: TestCluster;
  let operator: OperatorProcess | undefined;
  const log = () => `operator log:\n${operator?.tail(20) ?? '(not started)'}`;
  const status = async () => JSON.stringify((await readPipeline(cluster.kc, NS, NAME))?.status);

  before(async () => {
    cluster = await clusterWithNamespace('it-operator-secrets', NS);
    operator = await startOperatorIn(cluster, NS, { resyncSeconds: 300 });
  });

  after(async () => {
    await operator?.stop();
    await closeNamespace(cluster, NS);
  });

  void it('reports Degraded=True SecretNotFound with a message naming the Secret, and creates no children', { timeout: 40_000 }, async () => {
    await apply(cluster.kc, pipeline(NS, NAME));
    await eventually(
      'Degraded=True',
      async () => condition(await readPipeline(cluster.kc, NS, NAME), 'Degraded')?.status === 'True',
      30_000,
      async () => `${await status()}\n${log()}`,
    );
    const p = await readPipeline(cluster.kc, NS, NAME);
    const degraded = condition(p, 'Degraded');
    assert.equal(degraded?.reason, 'SecretNotFound');
    assert.match(degraded?.message ?? '', new RegExp(`Secret ${NS}/servicebus \\(key "connectionString"`));
    assert.equal(condition(p, 'Ready')?.status, 'False');
    assert.deepEqual(await listChildren(cluster.kc, NS, NAME), []);
  });

  void it('creating the Secret heals the pipeline without a restart', { timeout: 60_000 }, async () => {
    await apply(cluster.kc, secret(NS, 'servicebus', { connectionString: UNREACHABLE_CONNECTION_STRING }));
    await eventually('every child', async () => (await listChildren(cluster.kc, NS, NAME)).length === expectedChildren(NAME).length, 30_000, log);
    await eventually(
      'Degraded=False and Ready=True',
      async () => {
        const p = await readPipeline(cluster.kc, NS, NAME);
        return condition(p, 'Degraded')?.status === 'False' && isReadyAtCurrentGeneration(p);
      },
      45_000,
      async () => `${await status()}\n${log()}`,
    );
    assert.equal(operator?.exited, false, 'the same operator process healed it');
  });

  void it('watched the namespace without a watch error, though it started with no Secret at all', () => {
    // An empty metadata-only list comes back with items: null; the watch must take that as empty.
    const failures = (operator?.logLines() ?? []).filter((line) => line.includes('Failed to watch') && line.includes('"kind":"Secret"'));
    assert.deepEqual(failures, []);
  });
});
