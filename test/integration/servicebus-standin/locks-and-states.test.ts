// Contract: locks, redelivery, deferral, scheduling and peeking, driven by the real SDK.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceBusClient, ServiceBusAdministrationClient } from '@azure/service-bus';
import { adminClient, serviceBusClient, startServiceBusStandin, type ServiceBusStandin } from '../../support/servicebus.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

void describe('locks, deferral, scheduling and peek with the real SDK', () => {
  let standin: ServiceBusStandin;
  let client: ServiceBusClient;
  let admin: ServiceBusAdministrationClient;

  before(async () => {
    standin = await startServiceBusStandin({
      queues: [
        { name: 'short-lock', lockDurationSeconds: 1.5 },
        { name: 'renew', lockDurationSeconds: 2 },
        { name: 'poison', maxDeliveryCount: 3 },
        { name: 'deferred' },
        { name: 'scheduled' },
        { name: 'peek' },
      ],
    });
    client = serviceBusClient(standin);
    admin = adminClient(standin);
  });
  after(async () => {
    await client?.close();
    await standin?.close();
  });

  void it('an expired lock makes the message come back with its delivery count raised', async () => {
    const sender = client.createSender('short-lock');
    const receiver = client.createReceiver('short-lock', { maxAutoLockRenewalDurationInMs: 0 });
    try {
      await sender.sendMessages({ body: 'slow job', messageId: 'slow' });
      const [first] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      assert.equal(first?.deliveryCount, 0);
      const lockedFor = first.lockedUntilUtc!.getTime() - Date.now();
      assert.ok(lockedFor > 1000 && lockedFor <= 1500, `lock of ~1.5 s, got ${lockedFor} ms`);
      const [second] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 4000 });
      assert.equal(second?.messageId, 'slow');
      assert.equal(second?.deliveryCount, 1);
      await assert.rejects(receiver.completeMessage(first), (error: Error & { code?: string }) => error.code === 'MessageLockLost');
      await receiver.completeMessage(second);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  void it('a lock held by a client that disappears expires and another client gets the message', async () => {
    const gone = serviceBusClient(standin);
    const sender = client.createSender('short-lock');
    const survivor = client.createReceiver('short-lock', { maxAutoLockRenewalDurationInMs: 0 });
    try {
      await sender.sendMessages({ body: 'orphan', messageId: 'orphan' });
      const [held] = await gone.createReceiver('short-lock', { maxAutoLockRenewalDurationInMs: 0 }).receiveMessages(1, { maxWaitTimeInMs: 2000 });
      assert.equal(held?.messageId, 'orphan');
      await gone.close(); // like a worker killed mid-job: nothing settled
      assert.equal(standin.counts('short-lock').activeMessageCount, 1, 'the lock outlives the connection');
      const [again] = await survivor.receiveMessages(1, { maxWaitTimeInMs: 4000 });
      assert.equal(again?.messageId, 'orphan');
      assert.equal(again?.deliveryCount, 1);
      await survivor.completeMessage(again);
    } finally {
      await gone.close();
      await sender.close();
      await survivor.close();
    }
  });

  void it('renewMessageLock extends lockedUntilUtc and keeps the message locked past its first expiry', async () => {
    const sender = client.createSender('renew');
    const receiver = client.createReceiver('renew', { maxAutoLockRenewalDurationInMs: 0 });
    try {
      await sender.sendMessages({ body: 'long job' });
      const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      const before = message!.lockedUntilUtc!.getTime();
      await sleep(1200);
      const renewed = await receiver.renewMessageLock(message!);
      assert.ok(renewed.getTime() >= before + 1000, 'renewal moves the expiry forward');
      assert.equal(message!.lockedUntilUtc!.getTime(), renewed.getTime());
      await sleep(1200); // past the original expiry, before the renewed one
      assert.equal((await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).length, 0, 'still locked');
      await receiver.completeMessage(message!);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  void it('a message abandoned maxDeliveryCount times moves to the DLQ as MaxDeliveryCountExceeded', async () => {
    const sender = client.createSender('poison');
    const receiver = client.createReceiver('poison', { maxAutoLockRenewalDurationInMs: 0 });
    const dlq = client.createReceiver('poison', { subQueueType: 'deadLetter' });
    try {
      await sender.sendMessages({ body: 'boom', messageId: 'boom' });
      const counts: number[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
        counts.push(message!.deliveryCount!);
        await receiver.abandonMessage(message!);
      }
      assert.deepEqual(counts, [0, 1, 2]);
      assert.equal((await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).length, 0);
      const [dead] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      assert.equal(dead?.messageId, 'boom');
      assert.equal(dead?.deadLetterReason, 'MaxDeliveryCountExceeded');
      assert.match(dead?.deadLetterErrorDescription ?? '', /3 delivery attempts/);
      await dlq.completeMessage(dead);
    } finally {
      await sender.close();
      await receiver.close();
      await dlq.close();
    }
  });

  void it('a deferred message is only reachable through receiveDeferredMessages and can then be completed', async () => {
    const sender = client.createSender('deferred');
    const receiver = client.createReceiver('deferred');
    try {
      await sender.sendMessages({ body: { step: 2 }, messageId: 'later' });
      const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      const sequenceNumber = message!.sequenceNumber!;
      await receiver.deferMessage(message!);
      assert.equal((await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).length, 0, 'deferred is not delivered');
      assert.equal((await admin.getQueueRuntimeProperties('deferred')).activeMessageCount, 1, 'deferred counts as active');
      const [deferred] = await receiver.receiveDeferredMessages(sequenceNumber);
      assert.equal(deferred?.messageId, 'later');
      assert.deepEqual(deferred?.body, { step: 2 });
      assert.equal(deferred?.state, 'deferred');
      await receiver.completeMessage(deferred);
      assert.equal((await admin.getQueueRuntimeProperties('deferred')).activeMessageCount, 0);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  void it('a scheduled message stays invisible until due, and a cancelled one never arrives', async () => {
    const sender = client.createSender('scheduled');
    const receiver = client.createReceiver('scheduled', { receiveMode: 'receiveAndDelete' });
    try {
      const due = new Date(Date.now() + 1500);
      const [keep] = await sender.scheduleMessages({ body: 'on time' }, due);
      const [drop] = await sender.scheduleMessages({ body: 'cancelled' }, due);
      assert.notEqual(keep!.toNumber(), drop!.toNumber());
      await sender.cancelScheduledMessages(drop!);
      assert.equal((await admin.getQueueRuntimeProperties('scheduled')).scheduledMessageCount, 1);
      assert.equal((await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 })).length, 0, 'not visible before it is due');
      const [arrived] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 3000 });
      assert.equal(arrived?.body, 'on time');
      assert.ok(Date.now() >= due.getTime());
      assert.equal((await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).length, 0, 'the cancelled one never arrives');
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  void it('peekMessages browses in sequence order without locking or removing', async () => {
    const sender = client.createSender('peek');
    const receiver = client.createReceiver('peek');
    try {
      await sender.sendMessages([{ body: 'a' }, { body: 'b' }, { body: 'c' }]);
      const firstTwo = await receiver.peekMessages(2);
      assert.deepEqual(
        firstTwo.map((m) => m.body),
        ['a', 'b'],
      );
      const rest = await receiver.peekMessages(5);
      assert.deepEqual(
        rest.map((m) => m.body),
        ['c'],
        'peek continues after the last peeked sequence number',
      );
      const fromStart = await receiver.peekMessages(5, { fromSequenceNumber: firstTwo[0]!.sequenceNumber! });
      assert.deepEqual(
        fromStart.map((m) => Number(m.sequenceNumber)),
        [1, 2, 3],
      );
      assert.equal((await receiver.peekMessages(5)).length, 0, 'nothing after the end');
      assert.equal((await admin.getQueueRuntimeProperties('peek')).activeMessageCount, 3, 'peek removes nothing');
      const received = await receiver.receiveMessages(3, { maxWaitTimeInMs: 1000 });
      assert.equal(received.length, 3, 'peek locks nothing');
      for (const m of received) await receiver.completeMessage(m);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });
});
