// The operator's queue settings (src/operator/scaling/queue-settings.ts) against the Service Bus
// stand-in with the real ServiceBusAdministrationClient, built the way the operator builds it
// (client.ts adminClient from the pipeline's connection string): a queue whose MaxDeliveryCount and
// LockDuration differ is updated and keeps its other properties, a matching queue is left alone, and
// a credential without Manage leaves the queue as it is and says why. No cluster needed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient } from '../../../src/operator/scaling/client.ts';
import { applyQueueSettings, QueueSettingsApplier } from '../../../src/operator/scaling/queue-settings.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { waitFor } from '../../support/ports.ts';
import { startServiceBusStandin, type ServiceBusStandin } from '../../support/servicebus.ts';

const desired = { maxDeliveryCount: 10, lockDurationSeconds: 60 };

void describe('queue settings applied by the operator to the stand-in', () => {
  let standin: ServiceBusStandin;
  const manage = () => ({
    kind: 'connectionString' as const,
    connectionString: standin.connectionStringsFor('RootManageSharedAccessKey').managementConnectionString,
  });

  before(async () => {
    standin = await startServiceBusStandin({
      keys: { RootManageSharedAccessKey: { key: 'root-key-for-tests-only' }, worker: { key: 'worker-key-for-tests-only', rights: ['Send', 'Listen'] } },
      queues: [
        { name: 'differs', maxDeliveryCount: 3, lockDurationSeconds: 30, defaultTimeToLiveSeconds: 3600, deadLetterOnExpiration: true, status: 'SendDisabled' },
        { name: 'matches', maxDeliveryCount: 10, lockDurationSeconds: 60 },
        { name: 'unmanaged', maxDeliveryCount: 3, lockDurationSeconds: 30 },
        { name: 'by-applier', maxDeliveryCount: 5, lockDurationSeconds: 45 },
      ],
    });
  });
  after(async () => {
    await standin?.close();
  });

  void it('updates a queue whose settings differ, keeping its other properties, and reports the values before and after', async () => {
    const admin = adminClient(manage());
    const outcome = await applyQueueSettings(admin, 'differs', desired);
    assert.deepEqual(outcome, { desired, actual: desired, applied: { before: { maxDeliveryCount: 3, lockDurationSeconds: 30 } } });
    const q = await admin.getQueue('differs');
    assert.deepEqual([q.maxDeliveryCount, q.lockDuration], [10, 'PT1M']);
    assert.deepEqual([q.defaultMessageTimeToLive, q.deadLetteringOnMessageExpiration, q.status], ['PT1H', true, 'SendDisabled'], 'other properties kept');
  });

  void it('leaves a queue whose settings match alone', async () => {
    const before = (await adminClient(manage()).getQueueRuntimeProperties('matches')).modifiedAt;
    const outcome = await applyQueueSettings(adminClient(manage()), 'matches', desired);
    assert.deepEqual(outcome, { desired, actual: desired });
    assert.deepEqual((await adminClient(manage()).getQueueRuntimeProperties('matches')).modifiedAt, before, 'no update was sent');
  });

  void it('changes nothing with a credential that lacks Manage, and says why', async () => {
    const outcome = await applyQueueSettings(
      adminClient({ kind: 'connectionString', connectionString: standin.connectionStringsFor('worker').managementConnectionString }),
      'unmanaged',
      desired,
    );
    assert.equal(outcome.actual, undefined);
    assert.match(outcome.readError ?? '', /401|Manage|[Uu]nauthori/);
    const q = await adminClient(manage()).getQueue('unmanaged');
    assert.deepEqual([q.maxDeliveryCount, q.lockDuration], [3, 'PT30S']);
  });

  void it('applies once per change in the background, wakes the pipeline, and checks again only after recheckMs', async () => {
    const woken: string[] = [];
    let now = 0;
    const applier = new QueueSettingsApplier({ log: silentLogger(), onChange: (key) => woken.push(key), clock: () => now, recheckMs: 60_000 });
    applier.ensure('default/receipts', manage(), 'by-applier', desired);
    await waitFor('the applier to finish', () => applier.outcome('default/receipts') !== undefined, 10_000, 20);
    assert.deepEqual(applier.outcome('default/receipts')?.applied, { before: { maxDeliveryCount: 5, lockDurationSeconds: 45 } });
    assert.deepEqual(woken, ['default/receipts']);

    // Someone changes the queue back; within recheckMs the applier does not look.
    const admin = adminClient(manage());
    await admin.updateQueue({ ...(await admin.getQueue('by-applier')), maxDeliveryCount: 4 });
    now = 30_000;
    applier.ensure('default/receipts', manage(), 'by-applier', desired);
    assert.equal((await admin.getQueue('by-applier')).maxDeliveryCount, 4);
    now = 61_000;
    applier.ensure('default/receipts', manage(), 'by-applier', desired);
    await waitFor('the drift to be corrected', async () => (await admin.getQueue('by-applier')).maxDeliveryCount === 10, 10_000, 20);
  });
  void it('reports a queue that does not exist as a read error', async () => {
    const outcome = await applyQueueSettings(adminClient(manage()), 'no-such-queue', desired);
    assert.match(outcome.readError ?? '', /404|not be found|MessageEntityNotFound/);
    assert.equal(outcome.actual, undefined);
  });
});
