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
  log: Logger;
  hooks?: ConsumerHooks;
}

/** Log message per settlement that is not a completion (those log at warn level, with code and reason). */
const SETTLED = { abandon: 'Abandoned message', deadLetter: 'Dead-lettered message' } as const;

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
    const { log } = this.options;
    this.subscription = this.receiver.subscribe(
      {
        processMessage: async (message) => {
          if (this.closing) {
            // Arrived while draining: give it back at once.
            await this.receiver.abandonMessage(message).catch(() => {});
            return;
          }
          await this.handle(message);
        },
        processError: async (args) => {
          log.warn({ err: args.error, source: args.errorSource, entity: args.entityPath }, 'Failed to receive from Service Bus; the SDK retries');
        },
      },
      { maxConcurrentCalls: this.options.concurrency, autoCompleteMessages: false },
    );
    this.options.hooks?.onStart?.();
  }

  private async handle(message: ServiceBusReceivedMessage): Promise<void> {
    const { log, hooks } = this.options;
    let resolveDone!: () => void;
    const entry: Held = {
      message,
      settled: false,
      done: new Promise((r) => {
        resolveDone = r;
      }),
    };
    this.held.add(entry);
    hooks?.onInFlight?.(this.held.size);
    const renewal = keepLocked({
      lockedUntil: message.lockedUntilUtc,
      budgetMs: this.options.maxJobMs,
      renew: async () => await this.receiver.renewMessageLock(message),
      onRenewed: () => hooks?.onLockRenewed?.(),
      onError: (err) => log.warn({ err, messageId: message.messageId }, 'Failed to renew lock; the message will be redelivered'),
    });
    let settlement: Settlement | undefined;
    try {
      settlement = await this.processor({ body: message.body, deliveryCount: message.deliveryCount ?? 0, properties: message.applicationProperties });
      renewal.stop();
      if (entry.settled) return; // abandoned by a drain that ran out of time
      entry.settled = true;
      await this.settle(message, settlement);
      hooks?.onSettled?.(settlement);
      const fields = { jobId: settlement.jobId, action: settlement.action, outcome: settlement.outcome, deliveryCount: message.deliveryCount };
      if (settlement.outcome === 'retried')
        log.warn({ ...fields, code: settlement.code, reason: settlement.reason, attempt: settlement.attempt, retryAt: settlement.retryAt }, 'Scheduled retry');
      else if (settlement.action === 'complete') log.info(fields, 'Completed job');
      else log.warn({ ...fields, code: settlement.code, reason: settlement.reason }, SETTLED[settlement.action]);
    } catch (err) {
      // Settling failed (lock lost, connection gone): the broker redelivers after the lock
      // expires, and the next delivery finds the job finished (results are write-once).
      const { jobId, action, outcome } = settlement ?? {};
      log.error({ err, messageId: message.messageId, jobId, action, outcome }, 'Failed to settle message');
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
    const { log } = this.options;
    await this.subscription?.close().catch((err: unknown) => log.warn({ err }, 'Failed to close the subscription'));
    const pending = [...this.held];
    if (pending.length > 0) {
      log.info({ inFlight: pending.length, graceMs }, 'Started draining in-flight jobs');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), graceMs);
      });
      const outcome = await Promise.race([Promise.all(pending.map((h) => h.done)).then(() => 'drained' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        for (const entry of this.held) {
          if (entry.settled) continue;
          entry.settled = true;
          await this.receiver.abandonMessage(entry.message).catch((err: unknown) => log.warn({ err }, 'Failed to abandon message; its lock will expire'));
        }
        log.warn({ abandoned: this.held.size }, 'Abandoned unfinished jobs: the drain grace period ran out');
      }
    }
    await this.receiver.close().catch((err: unknown) => log.warn({ err }, 'Failed to close the receiver'));
  }
}
