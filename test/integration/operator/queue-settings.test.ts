// spec.queue.serviceBus.maxDeliveryCount and lockDurationSeconds on the local control plane: the operator (a real
// process) reads the Service Bus stand-in's queue through its admin API with the pipeline's Manage connection string,
// updates the queue to the spec's values, and reports QueueConfigured=True saying from what it changed them; a later
// spec change is applied too. The assertions read the stand-in's queue and the pipeline's status, never calls.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OperatorProcess } from '../../support/operator-process.ts';
import { durationSeconds } from '../../../src/operator/scaling/queue-settings.ts';
import { adminClient, startServiceBusStandin, type ServiceBusStandin } from '../../support/servicebus.ts';
import {
  FAST_QUEUE_POLL,
  apply,
  condition,
  clusterWithNamespace,
  closeNamespace,
  eventually,
  pipeline,
  readPipeline,
  secret,
  skipWithoutCluster,
  startOperatorIn,
  uniqueNamespace,
  type TestCluster,
} from './harness.ts';

const NS = uniqueNamespace('queue-settings');

/** The pipeline `receipts` on the stand-in's queue `ocr-jobs`, asking for these queue settings (lock in seconds). */
const receipts = (maxDeliveryCount: number, lockDurationSeconds: number) =>
  pipeline(NS, 'receipts', {
    queue: {
      serviceBus: { connectionStringSecretRef: { name: 'servicebus', key: 'connectionString' }, queueName: 'ocr-jobs', maxDeliveryCount, lockDurationSeconds },
    },
  });

void describe('the operator applies the queue settings of the spec to the queue', { skip: skipWithoutCluster, timeout: 150_000 }, () => {
  let cluster: TestCluster;
  let operator: OperatorProcess | undefined;
  let standin: ServiceBusStandin;

  before(async () => {
    standin = await startServiceBusStandin({ queues: [{ name: 'ocr-jobs', maxDeliveryCount: 3, lockDurationSeconds: 30 }] });
    cluster = await clusterWithNamespace('it-operator-queue-settings', NS);
    // The operator reads and manages the queue over ATOM: the Secret holds the management connection string (Manage).
    await apply(cluster.kc, secret(NS, 'servicebus', { connectionString: standin.managementConnectionString }));
    operator = await startOperatorIn(cluster, NS, { queuePoll: FAST_QUEUE_POLL, allowDevelopmentEmulator: true });
  });

  after(async () => {
    await operator?.stop();
    await closeNamespace(cluster, NS);
    await standin?.close();
  });

  /** [maxDeliveryCount, lock seconds] of the stand-in's queue, read with its admin API. */
  const queueSettings = async (): Promise<[number, number]> => {
    const q = await adminClient(standin).getQueue('ocr-jobs');
    return [q.maxDeliveryCount, durationSeconds(q.lockDuration) ?? Number.NaN];
  };
  const context = async (): Promise<string> =>
    `queue: ${JSON.stringify(await queueSettings())}; conditions: ${JSON.stringify((await readPipeline(cluster.kc, NS, 'receipts'))?.status?.conditions)}\n${operator?.tail(20) ?? ''}`;

  void it('updates a queue with other values and says so in QueueConfigured', async () => {
    await apply(cluster.kc, receipts(7, 45));
    await eventually('the queue to have the spec values', async () => (await queueSettings()).join() === '7,45', 60_000, context);
    await eventually(
      'QueueConfigured=True',
      async () => condition(await readPipeline(cluster.kc, NS, 'receipts'), 'QueueConfigured')?.status === 'True',
      30_000,
      context,
    );
    const c = condition(await readPipeline(cluster.kc, NS, 'receipts'), 'QueueConfigured');
    assert.equal(c?.reason, 'QueueSettingsMatch');
    assert.match(c?.message ?? '', /maxDeliveryCount 7, lockDuration 45 s \(updated from maxDeliveryCount 3, lockDuration 30 s\)/);
  });

  void it('applies a later change of the spec', async () => {
    await apply(cluster.kc, receipts(4, 45));
    await eventually('the queue to have maxDeliveryCount 4', async () => (await queueSettings())[0] === 4, 60_000, context);
    await eventually(
      'QueueConfigured to describe the update from 7',
      async () => /updated from maxDeliveryCount 7/.test(condition(await readPipeline(cluster.kc, NS, 'receipts'), 'QueueConfigured')?.message ?? ''),
      30_000,
      context,
    );
  });
});
