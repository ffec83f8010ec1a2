// Contract: handler-based receiving (subscribe) with concurrency and automatic lock renewal.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceBusClient, ServiceBusReceivedMessage } from '@azure/service-bus';
import { waitFor } from '../../support/ports.ts';
import { serviceBusClient, startServiceBusStandin, type ServiceBusStandin } from '../../support/servicebus.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

void describe('subscribe() with the real SDK', () => {
  let standin: ServiceBusStandin;
  let client: ServiceBusClient;

  before(async () => {
    standin = await startServiceBusStandin({ queues: [{ name: 'work' }, { name: 'slow', lockDurationSeconds: 2 }] });
    client = serviceBusClient(standin);
  });
  after(async () => {
    await client?.close();
    await standin?.close();
  });

  void it('handles messages with up to maxConcurrentCalls at once and completes them all', async () => {
    const sender = client.createSender('work');
    const receiver = client.createReceiver('work');
    const seen: number[] = [];
    const errors: Error[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    try {
      await sender.sendMessages(Array.from({ length: 12 }, (_, i) => ({ body: { i } })));
      const subscription = receiver.subscribe(
        {
          processMessage: async (message: ServiceBusReceivedMessage) => {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            await sleep(60);
            seen.push((message.body as { i: number }).i);
            inFlight--;
          },
          processError: async ({ error }) => {
            errors.push(error);
          },
        },
        { maxConcurrentCalls: 3 },
      );
      await waitFor('12 handled messages', () => seen.length === 12, 10_000, 25);
      await waitFor('auto-complete of every message', () => standin.counts('work').activeMessageCount === 0, 5_000, 25);
      await subscription.close();
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        Array.from({ length: 12 }, (_, i) => i),
      );
      assert.equal(maxInFlight, 3, 'exactly maxConcurrentCalls handlers ran in parallel');
      assert.deepEqual(errors, []);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  void it('auto lock renewal keeps a message locked through a handler longer than the lock duration', async () => {
    const sender = client.createSender('slow');
    const receiver = client.createReceiver('slow', { maxAutoLockRenewalDurationInMs: 30_000 });
    const deliveries: number[] = [];
    const errors: Error[] = [];
    try {
      await sender.sendMessages({ body: 'long' });
      const subscription = receiver.subscribe({
        processMessage: async (message: ServiceBusReceivedMessage) => {
          deliveries.push(message.deliveryCount ?? -1);
          await sleep(3500); // longer than the 2 s lock
        },
        processError: async ({ error }) => {
          errors.push(error);
        },
      });
      await waitFor('the message to be completed', () => standin.counts('slow').totalMessageCount === 0, 8_000, 25);
      await subscription.close();
      assert.deepEqual(deliveries, [0], 'delivered once: the lock never expired');
      assert.deepEqual(errors, []);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });
});
