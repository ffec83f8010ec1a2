// Contract: the ATOM admin API, SAS verification and key rights, entity status and
// quota, as the real SDK surfaces them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceBusClient, type ServiceBusAdministrationClient } from '@azure/service-bus';
import { adminClient, fastClientOptions, serviceBusClient, startServiceBusStandin, type ServiceBusStandin } from '../../support/servicebus.ts';

type CodedError = Error & { code?: string; statusCode?: number };

const hasCode =
  (code: string) =>
  (error: CodedError): boolean => {
    assert.equal(error.code, code, `expected code ${code}, got ${error.code}: ${error.message}`);
    return true;
  };

void describe('admin API, keys and entity limits with the real SDK', () => {
  let standin: ServiceBusStandin;
  let client: ServiceBusClient;
  let admin: ServiceBusAdministrationClient;
  const rootKey = 'root-key-for-tests-only';

  before(async () => {
    standin = await startServiceBusStandin({
      keys: {
        RootManageSharedAccessKey: { key: rootKey },
        SendOnly: { key: 'send-only-key', rights: ['Send'] },
        ListenOnly: { key: 'listen-only-key', rights: ['Listen'] },
      },
      queues: [
        { name: 'ocr-jobs', lockDurationSeconds: 30, maxDeliveryCount: 7 },
        { name: 'closed', status: 'ReceiveDisabled' },
        { name: 'tiny', maxMessages: 2 },
      ],
    });
    client = serviceBusClient(standin);
    admin = adminClient(standin);
  });
  after(async () => {
    await client?.close();
    await standin?.close();
  });

  void it('getQueue reports the configured lock duration, delivery limit and status', async () => {
    const queue = await admin.getQueue('ocr-jobs');
    assert.equal(queue.name, 'ocr-jobs');
    assert.equal(queue.lockDuration, 'PT30S');
    assert.equal(queue.maxDeliveryCount, 7);
    assert.equal(queue.status, 'Active');
    assert.equal(queue.requiresSession, false);
  });

  void it('createQueue makes a queue that can be used at once and is listed', async () => {
    assert.equal(await admin.queueExists('created'), false);
    const created = await admin.createQueue('created', { lockDuration: 'PT5S', maxDeliveryCount: 2 });
    assert.equal(created.name, 'created');
    assert.equal(created.lockDuration, 'PT5S');
    assert.equal(await admin.queueExists('created'), true);
    await assert.rejects(admin.createQueue('created'), hasCode('MessageEntityAlreadyExistsError'));
    const names: string[] = [];
    for await (const queue of admin.listQueues()) names.push(queue.name);
    assert.deepEqual(names.sort(), ['closed', 'created', 'ocr-jobs', 'tiny']);
    const runtime: string[] = [];
    for await (const props of admin.listQueuesRuntimeProperties()) runtime.push(props.name);
    assert.equal(runtime.length, 4);

    const sender = client.createSender('created');
    const receiver = client.createReceiver('created', { receiveMode: 'receiveAndDelete' });
    try {
      await sender.sendMessages({ body: 'hello' });
      const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      assert.equal(message?.body, 'hello');
    } finally {
      await sender.close();
      await receiver.close();
    }
    await admin.deleteQueue('created');
    assert.equal(await admin.queueExists('created'), false);
  });

  void it('an unknown queue is MessagingEntityNotFound for senders and MessageEntityNotFoundError for the admin API', async () => {
    const sender = client.createSender('no-such-queue');
    try {
      await assert.rejects(sender.sendMessages({ body: 'x' }), hasCode('MessagingEntityNotFound'));
    } finally {
      await sender.close();
    }
    await assert.rejects(admin.getQueueRuntimeProperties('no-such-queue'), hasCode('MessageEntityNotFoundError'));
  });

  void it('a wrong SAS key is refused with UnauthorizedAccess, and 401 on the admin API', async () => {
    const wrong = standin.connectionString.replace(rootKey, 'not-the-key');
    const badClient = new ServiceBusClient(wrong, fastClientOptions);
    const sender = badClient.createSender('ocr-jobs');
    try {
      await assert.rejects(sender.sendMessages({ body: 'x' }), (error: CodedError) => {
        assert.equal(error.name, 'ServiceBusError');
        return hasCode('UnauthorizedAccess')(error);
      });
    } finally {
      await badClient.close();
    }
    const badAdmin = adminClient({ ...standin, managementConnectionString: standin.managementConnectionString.replace(rootKey, 'not-the-key') });
    await assert.rejects(
      badAdmin.getQueueRuntimeProperties('ocr-jobs'),
      (error: CodedError) => error.statusCode === 401 && error.code === 'UnauthorizedRequestError',
    );
  });

  void it('a Send-only key may send but neither receive nor read queue counts', async () => {
    const sendOnly = new ServiceBusClient(standin.connectionStringsFor('SendOnly').connectionString, fastClientOptions);
    const sender = sendOnly.createSender('ocr-jobs');
    const receiver = sendOnly.createReceiver('ocr-jobs');
    try {
      await sender.sendMessages({ body: 'allowed' });
      await assert.rejects(receiver.receiveMessages(1, { maxWaitTimeInMs: 1000 }), hasCode('UnauthorizedAccess'));
    } finally {
      await sendOnly.close();
    }
    await assert.rejects(adminClient(standin, 'SendOnly').getQueueRuntimeProperties('ocr-jobs'), (error: CodedError) => {
      assert.equal(error.statusCode, 401);
      assert.match(error.message, /Manage/);
      return true;
    });
    const listenOnly = new ServiceBusClient(standin.connectionStringsFor('ListenOnly').connectionString, fastClientOptions);
    try {
      await assert.rejects(listenOnly.createSender('ocr-jobs').sendMessages({ body: 'no' }), hasCode('UnauthorizedAccess'));
      const [message] = await listenOnly.createReceiver('ocr-jobs', { receiveMode: 'receiveAndDelete' }).receiveMessages(1, { maxWaitTimeInMs: 2000 });
      assert.equal(message?.body, 'allowed');
    } finally {
      await listenOnly.close();
    }
  });

  void it('a ReceiveDisabled queue accepts sends and refuses receivers with MessagingEntityDisabled', async () => {
    const sender = client.createSender('closed');
    const receiver = client.createReceiver('closed');
    try {
      await sender.sendMessages({ body: 'parked' });
      await assert.rejects(receiver.receiveMessages(1, { maxWaitTimeInMs: 1000 }), hasCode('MessagingEntityDisabled'));
      assert.equal((await admin.getQueue('closed')).status, 'ReceiveDisabled');
      const queue = await admin.getQueue('closed');
      await admin.updateQueue({ ...queue, status: 'Active' });
      const reopened = client.createReceiver('closed', { receiveMode: 'receiveAndDelete' });
      const [message] = await reopened.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      assert.equal(message?.body, 'parked');
      await reopened.close();
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  void it('a full queue refuses further sends with QuotaExceeded', async () => {
    const sender = client.createSender('tiny');
    try {
      await sender.sendMessages([{ body: 1 }, { body: 2 }]);
      await assert.rejects(sender.sendMessages({ body: 3 }), hasCode('QuotaExceeded'));
      assert.equal((await admin.getQueueRuntimeProperties('tiny')).activeMessageCount, 2);
    } finally {
      await sender.close();
    }
  });
});
