// The consumer: Service Bus peek-lock receiving, `concurrency` messages at a time, each
// handed to the processor, whose settlement becomes complete / abandon / deadLetter.
//
// Close is idempotent and drains: stop taking messages (the subscription's credit is
// withdrawn, the link stays open so held messages can still be settled), wait up to the
// grace period for in-flight jobs, abandon whatever did not finish, close the receiver.
//
// Receiving survives the broker going away: the SDK's subscription retries a lost link a few
// times and then stops for good, still "open" (Azure/azure-sdk-for-js#11719; seen when the
// Service Bus stand-in restarted during the chaos run: both workers stayed ready and idle while
// the queue grew). So every receive-side error closes the subscription and subscribes again
// after a growing delay (1 s doubling to 30 s, reset by the next message); meanwhile the
// consumer reports that it is not receiving, which makes the worker unready. A subscription can
// also stop without any error (the stand-in closing its connections cleanly did that): while the
// consumer has room and has received nothing for stallMs, it peeks the queue head (one Listen
// call, no lock); a message waiting longer than that, or a failed peek, means it subscribes again.
import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import type { Logger } from '../shared/logger.ts';
import { keepLocked } from './lock-renewal.ts';
import type { Processor, Settlement } from './processor.ts';

export interface ConsumerHooks {
  onStart?: () => void;
  /** Receiving stopped (false: a receive error; the consumer subscribes again) or started again (true). */
  onReceiving?: (receiving: boolean) => void;
  onSettled?: (settlement: Settlement) => void;
  onLockRenewed?: () => void;
  onInFlight?: (count: number) => void;
}

/** A receiver on a connection of its own, and how to close both. */
export interface FreshReceiver {
  receiver: ServiceBusReceiver;
  close(): Promise<void>;
}

export interface ConsumerOptions {
  concurrency: number;
  /** Idle time after which a waiting message means the subscription stopped (default 30 s). */
  stallMs?: number;
  /** How long one job may hold its lock (WORKER_MAX_JOB_SECONDS), plus slack for settling. */
  maxJobMs: number;
  log: Logger;
  hooks?: ConsumerHooks;
}

/** Log message per settlement that is not a completion (those log at warn level, with code and reason). */
const SETTLED = { abandon: 'Abandoned message', deadLetter: 'Dead-lettered message' } as const;

interface Held {
  /** The receiver that delivered the message: only it can settle it. */
  receiver: ServiceBusReceiver;
  message: ServiceBusReceivedMessage;
  settled: boolean;
  done: Promise<void>;
}

export class Consumer {
  private receiver: ServiceBusReceiver;
  /** Closes the current receiver and, for one made by freshReceiver, its connection. */
  private closeReceiver: () => Promise<void>;
  /** Makes a receiver on a new connection, for when the current one stopped delivering (absent: no such check). */
  private readonly freshReceiver: (() => FreshReceiver) | undefined;
  private readonly processor: Processor;
  private readonly options: ConsumerOptions;
  private readonly held = new Set<Held>();
  private subscription: { close(): Promise<void> } | undefined;
  private closing: Promise<void> | undefined;
  /** Subscriptions made again since the last message arrived; sets the next delay. */
  private resubscribes = 0;
  private resubscribeTimer: NodeJS.Timeout | undefined;
  private lastReceived = Date.now();
  /** Earliest time (ms) of the next stall peek: each peek opens a connection, so an idle worker peeks once per stallMs at most. */
  private nextPeekAt = 0;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(receiver: ServiceBusReceiver, processor: Processor, options: ConsumerOptions, freshReceiver?: () => FreshReceiver) {
    this.receiver = receiver;
    this.closeReceiver = async () => await receiver.close();
    this.freshReceiver = freshReceiver;
    this.processor = processor;
    this.options = options;
  }

  get inFlight(): number {
    return this.held.size;
  }

  start(): void {
    if (this.subscription || this.closing) return;
    this.subscribe();
    const stallMs = this.options.stallMs ?? 30_000;
    this.watchdog = setInterval(() => void this.checkStalled(stallMs), Math.max(100, stallMs / 3));
    this.watchdog.unref();
    this.options.hooks?.onStart?.();
  }

  /** Subscribes again when the queue's head has waited stallMs while this consumer had room and received nothing. */
  private checking = false;

  private async checkStalled(stallMs: number): Promise<void> {
    const now = Date.now();
    if (this.checking || this.closing || this.resubscribeTimer || this.held.size >= this.options.concurrency || now - this.lastReceived < stallMs) return;
    if (now < this.nextPeekAt) return;
    this.checking = true;
    try {
      await this.peekForStall(stallMs, now);
    } finally {
      this.checking = false;
    }
  }

  /**
   * Peeks the queue head on a receiver of a new connection: the SDK's request-response link on a connection that died
   * quietly can throw from a timer and take the process down (seen with @azure/service-bus 7.9), so the current one is
   * never asked. A message that waited stallMs means the current subscription stopped: the new receiver takes over.
   */
  private async peekForStall(stallMs: number, now: number): Promise<void> {
    if (!this.freshReceiver) return;
    const probe = this.freshReceiver();
    const waitedMs = await this.headWait(probe.receiver, now);
    this.nextPeekAt = nextStallPeekAt(now, stallMs, waitedMs);
    if (waitedMs === undefined || waitedMs < stallMs || this.closing || this.resubscribeTimer) {
      await probe.close().catch(() => undefined);
      return;
    }
    this.options.log.warn({ waitedMs }, 'Received nothing while a message waited; receiving on a new connection');
    this.lastReceived = now;
    await this.subscription?.close().catch(() => undefined);
    this.replaceReceiver(probe);
    this.subscribe();
    this.options.hooks?.onReceiving?.(true);
  }

  /** How long the queue's head message has waited (ms; 0 for none or a scheduled one), or undefined when the peek failed. */
  private async headWait(receiver: ServiceBusReceiver, now: number): Promise<number | undefined> {
    try {
      const [head] = await Promise.race([
        receiver.peekMessages(1, { abortSignal: AbortSignal.timeout(10_000) }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('peek took longer than 10 s')), 10_000).unref()),
      ]);
      return head?.enqueuedTimeUtc && head.state !== 'scheduled' ? now - head.enqueuedTimeUtc.getTime() : 0;
    } catch (err) {
      this.options.log.warn({ err }, 'Failed to peek the queue on a new connection');
      return undefined;
    }
  }

  private subscribe(): void {
    const { log } = this.options;
    // Messages are settled on the receiver that delivered them, even after a fresh one replaced it.
    const receiver = this.receiver;
    this.subscription = receiver.subscribe(
      {
        processMessage: async (message) => {
          if (this.closing) {
            // Arrived while draining: give it back at once.
            await receiver.abandonMessage(message).catch(() => {});
            return;
          }
          this.resubscribes = 0;
          this.lastReceived = Date.now();
          await this.handle(receiver, message);
        },
        processError: async (args) => {
          log.warn({ err: args.error, source: args.errorSource, entity: args.entityPath }, 'Failed to receive from Service Bus');
          // Settling and lock renewal errors concern one message; a receive error may have ended the subscription.
          if (args.errorSource === 'receive') this.resubscribeLater();
        },
      },
      { maxConcurrentCalls: this.options.concurrency, autoCompleteMessages: false },
    );
  }

  /** Closes the subscription and subscribes again after a delay: 1 s, doubling to 30 s while nothing arrives. */
  private resubscribeLater(): void {
    if (this.closing || this.resubscribeTimer) return;
    const { log, hooks } = this.options;
    hooks?.onReceiving?.(false);
    const delayMs = Math.min(30_000, 1_000 * 2 ** this.resubscribes);
    this.resubscribes++;
    this.resubscribeTimer = setTimeout(() => {
      void (async () => {
        await this.subscription?.close().catch(() => undefined);
        this.resubscribeTimer = undefined;
        if (this.closing) return;
        this.subscribe();
        log.info({ delayMs, resubscribes: this.resubscribes }, 'Subscribed to the queue again after a receive error');
        hooks?.onReceiving?.(true);
      })();
    }, delayMs);
    this.resubscribeTimer.unref();
  }

  /** Makes `next` the current receiver; the old one is closed once the jobs it delivered are settled. */
  private replaceReceiver(next: FreshReceiver): void {
    const closeOld = this.closeReceiver;
    this.receiver = next.receiver;
    this.closeReceiver = async () => await next.close();
    const pending = [...this.held].map((h) => h.done);
    void Promise.allSettled(pending).then(async () => await closeOld().catch(() => undefined));
  }

  private async handle(receiver: ServiceBusReceiver, message: ServiceBusReceivedMessage): Promise<void> {
    const { log, hooks } = this.options;
    let resolveDone!: () => void;
    const entry: Held = {
      receiver,
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
      renew: async () => await receiver.renewMessageLock(message),
      onRenewed: () => hooks?.onLockRenewed?.(),
      onError: (err) => log.warn({ err, messageId: message.messageId }, 'Failed to renew lock; the message will be redelivered'),
    });
    let settlement: Settlement | undefined;
    try {
      settlement = await this.processor({ body: message.body, deliveryCount: message.deliveryCount ?? 0, properties: message.applicationProperties });
      renewal.stop();
      if (entry.settled) return; // abandoned by a drain that ran out of time
      entry.settled = true;
      await this.settle(receiver, message, settlement);
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

  private async settle(receiver: ServiceBusReceiver, message: ServiceBusReceivedMessage, settlement: Settlement): Promise<void> {
    switch (settlement.action) {
      case 'complete':
        await receiver.completeMessage(message);
        return;
      case 'abandon':
        await receiver.abandonMessage(message);
        return;
      case 'deadLetter':
        await receiver.deadLetterMessage(message, { deadLetterReason: settlement.code, deadLetterErrorDescription: settlement.reason.slice(0, 4096) });
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
    clearTimeout(this.resubscribeTimer);
    clearInterval(this.watchdog);
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
          await entry.receiver.abandonMessage(entry.message).catch((err: unknown) => log.warn({ err }, 'Failed to abandon message; its lock will expire'));
        }
        log.warn({ abandoned: this.held.size }, 'Abandoned unfinished jobs: the drain grace period ran out');
      }
    }
    await this.closeReceiver().catch((err: unknown) => log.warn({ err }, 'Failed to close the receiver'));
  }
}

/**
 * When the stall watchdog may peek again after a peek at `now` that found the head waiting `waitedMs` (0: empty queue or
 * a scheduled head; undefined: the peek failed). A message that waited less than stallMs cannot prove a stall before it
 * has waited stallMs, and an empty queue cannot before a message arrives and waits stallMs: so the next peek is due
 * when the seen head would reach stallMs, and never sooner than stallMs / 3 (the watchdog's tick) after this one.
 * Before this, an idle worker peeked on a new connection at every tick (every 10 s at the 30 s default).
 */
export function nextStallPeekAt(now: number, stallMs: number, waitedMs: number | undefined): number {
  const untilStall = waitedMs === undefined || waitedMs <= 0 ? stallMs : stallMs - waitedMs;
  return now + Math.max(stallMs / 3, untilStall);
}
