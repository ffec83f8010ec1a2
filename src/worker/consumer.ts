// The consumer: Service Bus peek-lock receiving, `concurrency` messages at a time, each
// handed to the processor, whose settlement becomes complete / abandon / deadLetter.
//
// Close is idempotent and drains: stop taking messages (the subscription's credit is
// withdrawn, the link stays open so held messages can still be settled), wait up to the
// grace period for in-flight jobs, abandon whatever did not finish, close the receiver.
import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import type { Logger } from '../shared/logger.ts';
import { keepLocked } from './lock-renewal.ts';
import type { Processor, Settlement } from './processor.ts';

export interface ConsumerHooks {
  onStart?: () => void;
  onSettled?: (settlement: Settlement) => void;
  onLockRenewed?: () => void;
  onInFlight?: (count: number) => void;
}

export interface ConsumerOptions {
  concurrency: number;
  /** How long one job may hold its lock (WORKER_MAX_JOB_SECONDS), plus slack for settling. */
  maxJobMs: number;
  logger: Logger;
  hooks?: ConsumerHooks;
}

interface Held {
  message: ServiceBusReceivedMessage;
  settled: boolean;
  done: Promise<void>;
}

export class Consumer {
  private readonly receiver: ServiceBusReceiver;
  private readonly processor: Processor;
  private readonly options: ConsumerOptions;
  private readonly held = new Set<Held>();
  private subscription: { close(): Promise<void> } | undefined;
  private closing: Promise<void> | undefined;

  constructor(receiver: ServiceBusReceiver, processor: Processor, options: ConsumerOptions) {
    this.receiver = receiver;
    this.processor = processor;
    this.options = options;
  }

  get inFlight(): number {
    return this.held.size;
  }

  start(): void {
    if (this.subscription || this.closing) return;
    const { logger } = this.options;
    this.subscription = this.receiver.subscribe({
      processMessage: async (message) => {
        if (this.closing) {
          // Arrived while draining: give it back at once.
          await this.receiver.abandonMessage(message).catch(() => {});
          return;
        }
        await this.handle(message);
      },
      processError: async (args) => {
        logger.warn({ err: args.error, source: args.errorSource, entity: args.entityPath }, 'service bus receive error (the SDK retries)');
      },
    }, { maxConcurrentCalls: this.options.concurrency, autoCompleteMessages: false });
    this.options.hooks?.onStart?.();
  }

  private async handle(message: ServiceBusReceivedMessage): Promise<void> {
    const { logger, hooks } = this.options;
    let resolveDone!: () => void;
    const entry: Held = { message, settled: false, done: new Promise((r) => { resolveDone = r; }) };
    this.held.add(entry);
    hooks?.onInFlight?.(this.held.size);
    const renewal = keepLocked({
      lockedUntil: message.lockedUntilUtc,
      budgetMs: this.options.maxJobMs,
      renew: async () => await this.receiver.renewMessageLock(message),
      onRenewed: () => hooks?.onLockRenewed?.(),
      onError: (error) => logger.warn({ err: error, messageId: message.messageId }, 'lock renewal failed; the message will be redelivered'),
    });
    let settlement: Settlement | undefined;
    try {
      settlement = await this.processor({ body: message.body, deliveryCount: message.deliveryCount ?? 0 });
      renewal.stop();
      if (entry.settled) return; // abandoned by a drain that ran out of time
      entry.settled = true;
      await this.settle(message, settlement);
      hooks?.onSettled?.(settlement);
      const log = settlement.action === 'complete' ? logger.info.bind(logger) : logger.warn.bind(logger);
      log({ jobId: settlement.jobId, action: settlement.action, outcome: settlement.outcome, ...(settlement.action === 'complete' ? {} : { code: settlement.code, reason: settlement.reason }), deliveryCount: message.deliveryCount }, 'job settled');
    } catch (error) {
      // Settling failed (lock lost, connection gone): the broker redelivers after the lock
      // expires, and the next delivery finds the job finished (results are write-once).
      logger.error({ err: error, messageId: message.messageId, jobId: settlement?.jobId, action: settlement?.action, outcome: settlement?.outcome }, 'could not settle message');
    } finally {
      renewal.stop();
      this.held.delete(entry);
      hooks?.onInFlight?.(this.held.size);
      resolveDone();
    }
  }

  private async settle(message: ServiceBusReceivedMessage, settlement: Settlement): Promise<void> {
    switch (settlement.action) {
      case 'complete':
        await this.receiver.completeMessage(message);
        return;
      case 'abandon':
        await this.receiver.abandonMessage(message);
        return;
      case 'deadLetter':
        await this.receiver.deadLetterMessage(message, { deadLetterReason: settlement.code, deadLetterErrorDescription: settlement.reason.slice(0, 4096) });
        return;
    }
  }

  /** Stops receiving, waits up to `graceMs` for held jobs, abandons the rest, closes the receiver. Idempotent. */
  close(graceMs: number): Promise<void> {
    this.closing ??= this.drain(graceMs);
    return this.closing;
  }

  private async drain(graceMs: number): Promise<void> {
    const { logger } = this.options;
    await this.subscription?.close().catch((error: unknown) => logger.warn({ err: error }, 'closing the subscription failed'));
    const pending = [...this.held];
    if (pending.length > 0) {
      logger.info({ inFlight: pending.length, graceMs }, 'draining: waiting for in-flight jobs');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), graceMs); });
      const outcome = await Promise.race([Promise.all(pending.map((h) => h.done)).then(() => 'drained' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        for (const entry of this.held) {
          if (entry.settled) continue;
          entry.settled = true;
          await this.receiver.abandonMessage(entry.message).catch((error: unknown) => logger.warn({ err: error }, 'abandon during drain failed; the lock will expire'));
        }
        logger.warn({ abandoned: this.held.size }, 'drain grace period over: abandoned unfinished jobs');
      }
    }
    await this.receiver.close().catch((error: unknown) => logger.warn({ err: error }, 'closing the receiver failed'));
  }
}
