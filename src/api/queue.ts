// The Service Bus side of the API: one sender for the pipeline's queue, and a
// readiness check that makes a real round trip (a one-message peek on the
// `$management` link: no lock, no side effect) instead of trusting an open link.
import type { ServiceBusClient, ServiceBusReceiver, ServiceBusSender } from '@azure/service-bus';
import { enqueueJob, type EnqueueOptions, type JobMessage } from '../jobs/index.ts';
import type { JobQueue } from './deps.ts';

export class ServiceBusJobQueue implements JobQueue {
  private readonly client: ServiceBusClient;
  private readonly sender: ServiceBusSender;
  private readonly probe: ServiceBusReceiver;
  private readonly pingTimeoutMs: number;

  constructor(client: ServiceBusClient, queueName: string, pingTimeoutMs = 3_000) {
    this.client = client;
    this.sender = client.createSender(queueName);
    this.probe = client.createReceiver(queueName, { receiveMode: 'peekLock' });
    this.pingTimeoutMs = pingTimeoutMs;
  }

  async send(message: JobMessage, options?: EnqueueOptions): Promise<void> {
    await enqueueJob(this.sender, message, options);
  }

  async ping(): Promise<void> {
    await this.probe.peekMessages(1, { abortSignal: AbortSignal.timeout(this.pingTimeoutMs) });
  }

  async close(): Promise<void> {
    await this.probe.close().catch(() => undefined);
    await this.sender.close().catch(() => undefined);
    await this.client.close();
  }
}
