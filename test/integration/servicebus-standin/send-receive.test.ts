// Contract: the real @azure/service-bus SDK sends, receives and settles through the stand-in.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceBusClient, ServiceBusAdministrationClient } from '@azure/service-bus';
import { adminClient, serviceBusClient, startServiceBusStandin, type ServiceBusStandin } from '../../support/servicebus.ts';

void describe('send, receive and settle with the real SDK', () => {
  let standin: ServiceBusStandin;
  let client: ServiceBusClient;
  let admin: ServiceBusAdministrationClient;

  void before(async () => {
    standin = await startServiceBusStandin({
      queues: [{ name: 'basic' }, { name: 'batch' }, { name: 'abandon', maxDeliveryCount: 5 }, { name: 'dead', maxDeliveryCount: 5 }, { name: 'counts' }],
    });
    client = serviceBusClient(standin);
    admin = adminClient(standin);
  });
  void after(async () => {
    await client?.close();
    await standin?.close();
  });

  void it('a sent JSON message is received with its properties and completed', async () => {
    const sender = client.createSender('basic');
    const receiver = client.createReceiver('basic');
    try {
      await sender.sendMessages({
        body: { jobId: 'j-1', pages: 2 },
        messageId: 'm-1',
        contentType: 'application/json',
        correlationId: 'c-1',
        subject: 'ocr',
        applicationProperties: { version: 1, tenant: 'acme' },
        timeToLive: 60_000,
      });
      const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      assert.ok(message, 'expected one message');
      assert.deepEqual(message.body, { jobId: 'j-1', pages: 2 });
      assert.equal(message.messageId, 'm-1');
      assert.equal(message.contentType, 'application/json');
      assert.equal(message.correlationId, 'c-1');
      assert.equal(message.subject, 'ocr');
      assert.deepEqual(message.applicationProperties, { version: 1, tenant: 'acme' });
      assert.equal(message.timeToLive, 60_000);
      assert.equal(message.deliveryCount, 0);
      assert.equal(Number(message.sequenceNumber), 1);
      assert.ok(message.enqueuedTimeUtc instanceof Date);
      assert.ok(message.lockedUntilUtc instanceof Date && message.lockedUntilUtc.getTime() > Date.now());
      assert.match(message.lockToken ?? '', /^[0-9a-f-]{36}$/);
      await receiver.completeMessage(message);
      const props = await admin.getQueueRuntimeProperties('basic');
      assert.equal(props.activeMessageCount, 0);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  void it('Buffer and string bodies round-trip byte for byte', async () => {
    const sender = client.createSender('basic');
    const receiver = client.createReceiver('basic', { receiveMode: 'receiveAndDelete' });
    try {
      const bytes = Buffer.from([0, 1, 2, 250, 255]);
      await sender.sendMessages([{ body: bytes }, { body: 'plain text' }]);
      const messages = await receiver.receiveMessages(2, { maxWaitTimeInMs: 2000 });
      assert.equal(messages.length, 2);
      assert.deepEqual(Buffer.from(messages[0]!.body as Uint8Array), bytes);
      assert.equal(messages[1]!.body, 'plain text');
      assert.match(messages[0]!.messageId as string, /^[0-9a-f]{32}$/, 'the broker assigns a message id');
      assert.equal((await admin.getQueueRuntimeProperties('basic')).activeMessageCount, 0, 'receiveAndDelete removes at once');
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  void it('a batch built with createMessageBatch arrives complete and in order', async () => {
    const sender = client.createSender('batch');
    const receiver = client.createReceiver('batch');
    try {
      const batch = await sender.createMessageBatch();
      for (let i = 0; i < 5; i++) assert.ok(batch.tryAddMessage({ body: { i } }));
      await sender.sendMessages(batch);
      const got = [];
      while (got.length < 5) {
        const messages = await receiver.receiveMessages(5, { maxWaitTimeInMs: 1000 });
        if (messages.length === 0) break;
        for (const m of messages) {
          got.push((m.body as { i: number }).i);
          await receiver.completeMessage(m);
        }
      }
      assert.deepEqual(got, [0, 1, 2, 3, 4]);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  void it('a receive asking for more than is there returns soon after the first message, because the drain is answered', async () => {
    const sender = client.createSender('batch');
    const receiver = client.createReceiver('batch');
    try {
      await sender.sendMessages([{ body: 'x' }, { body: 'y' }]);
      const started = Date.now();
      // The SDK returns 1 s after the first message, then drains; an unanswered drain
      // would hold it for the rest of the 8 s wait and close the link.
      const got = await receiver.receiveMessages(10, { maxWaitTimeInMs: 8000 });
      const elapsed = Date.now() - started;
      assert.deepEqual(
        got.map((m) => m.body),
        ['x', 'y'],
      );
      assert.ok(elapsed < 4000, `returned after ${elapsed} ms`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(standin.receiverCount('batch'), 1, 'the SDK kept its link open: it got the drain reply');
      for (const m of got) await receiver.completeMessage(m);
      await sender.sendMessages({ body: 'z' });
      const [next] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      assert.equal(next?.body, 'z', 'the same receiver keeps working after the drain');
      await receiver.completeMessage(next);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  void it('an abandoned message is redelivered with its delivery count raised by one', async () => {
    const sender = client.createSender('abandon');
    const receiver = client.createReceiver('abandon', { maxAutoLockRenewalDurationInMs: 0 });
    try {
      await sender.sendMessages({ body: 'again' });
      const [first] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      assert.equal(first?.deliveryCount, 0);
      await receiver.abandonMessage(first);
      const [second] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      assert.equal(second?.body, 'again');
      assert.equal(second?.deliveryCount, 1);
      assert.equal(second?.sequenceNumber?.toNumber(), first?.sequenceNumber?.toNumber());
      await receiver.completeMessage(second);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  void it('a dead-lettered message shows up on the DLQ with reason and description', async () => {
    const sender = client.createSender('dead');
    const receiver = client.createReceiver('dead');
    const dlq = client.createReceiver('dead', { subQueueType: 'deadLetter' });
    try {
      await sender.sendMessages({ body: { bad: true }, messageId: 'poison' });
      const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      await receiver.deadLetterMessage(message!, { deadLetterReason: 'CorruptImage', deadLetterErrorDescription: 'not a PNG' });
      const counts = await admin.getQueueRuntimeProperties('dead');
      assert.equal(counts.deadLetterMessageCount, 1);
      assert.equal(counts.activeMessageCount, 0);
      const [dead] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      assert.equal(dead?.messageId, 'poison');
      assert.equal(dead?.deadLetterReason, 'CorruptImage');
      assert.equal(dead?.deadLetterErrorDescription, 'not a PNG');
      assert.equal(dead?.deadLetterSource, 'dead');
      await dlq.completeMessage(dead);
    } finally {
      await sender.close();
      await receiver.close();
      await dlq.close();
    }
  });

  void it('runtime properties count active, scheduled and dead-lettered messages', async () => {
    const sender = client.createSender('counts');
    const receiver = client.createReceiver('counts');
    try {
      await sender.sendMessages([{ body: 1 }, { body: 2 }, { body: 3 }]);
      await sender.scheduleMessages({ body: 'later' }, new Date(Date.now() + 60_000));
      const [first] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      await receiver.deadLetterMessage(first!, { deadLetterReason: 'test', deadLetterErrorDescription: 'counted' });
      const props = await admin.getQueueRuntimeProperties('counts');
      assert.equal(props.name, 'counts');
      assert.equal(props.activeMessageCount, 2);
      assert.equal(props.scheduledMessageCount, 1);
      assert.equal(props.deadLetterMessageCount, 1);
      assert.equal(props.transferMessageCount, 0);
      assert.equal(props.transferDeadLetterMessageCount, 0);
      assert.equal(props.totalMessageCount, 4);
      assert.ok(props.sizeInBytes && props.sizeInBytes > 0);
      assert.deepEqual(standin.counts('counts'), {
        activeMessageCount: 2,
        scheduledMessageCount: 1,
        deadLetterMessageCount: 1,
        totalMessageCount: 4,
        sizeInBytes: props.sizeInBytes,
      });
    } finally {
      await sender.close();
      await receiver.close();
    }
  });
});
