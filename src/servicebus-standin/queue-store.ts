// The in-memory queue model of the stand-in: messages, sequence numbers, peek-lock
// locks with expiry, deferral, scheduling, delivery counts and the dead-letter queue.
// It knows nothing about AMQP or sockets and never starts a timer: time comes from an
// injected clock (the shared `Clock`, epoch ms; default systemClock), and the server
// calls `tick()` at `nextDeadline()`. That keeps every rule here unit-testable in microseconds.
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../shared/clock.ts';

export type QueueStatus = 'Active' | 'Disabled' | 'ReceiveDisabled' | 'SendDisabled';
export const QUEUE_STATUSES: readonly QueueStatus[] = ['Active', 'Disabled', 'ReceiveDisabled', 'SendDisabled'];

export type ReceiveMode = 'peekLock' | 'receiveAndDelete';

/** Azure's names for why a message was dead-lettered by the broker itself. */
export const MAX_DELIVERY_COUNT_EXCEEDED = 'MaxDeliveryCountExceeded';
export const TTL_EXPIRED = 'TTLExpiredException';

export interface QueueSettings {
  /** Peek-lock duration in ms. Azure's default is 60 s, its maximum 5 min. */
  lockDurationMs: number;
  /** Deliveries before the broker dead-letters a message. Azure's default is 10. */
  maxDeliveryCount: number;
  status: QueueStatus;
  /** Cap on messages held by the queue and its DLQ together (bounded memory). */
  maxMessages: number;
  /** Default time to live in ms; undefined means "never expires". */
  defaultTtlMs?: number | undefined;
  /** Move expired messages to the DLQ instead of dropping them. */
  deadLetterOnExpiration: boolean;
}

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  lockDurationMs: 60_000,
  maxDeliveryCount: 10,
  status: 'Active',
  maxMessages: 100_000,
  defaultTtlMs: undefined,
  deadLetterOnExpiration: false,
};

/**
 * What the network layer stores per message. `content` is opaque to the store (the
 * encoded properties and body); application properties and annotations are kept
 * decoded because the broker itself changes them (dead-letter reason, abandon props).
 */
export interface MessageInput<C> {
  messageId?: string | undefined;
  timeToLiveMs?: number | undefined;
  scheduledEnqueueTime?: number | undefined;
  applicationProperties: Record<string, unknown>;
  annotations: Record<string, unknown>;
  sizeInBytes: number;
  content: C;
}

export type MessageState = 'active' | 'deferred' | 'scheduled';

export interface StoredMessage<C> {
  sequenceNumber: number;
  messageId: string;
  enqueuedAt: number;
  /** For scheduled messages: when they become visible. */
  visibleAt: number;
  expiresAt: number | undefined;
  state: MessageState;
  /** Unsuccessful earlier deliveries: 0 on the first delivery (AMQP header semantics). */
  deliveryCount: number;
  lockToken: string | undefined;
  lockedUntil: number | undefined;
  deadLetterSource: string | undefined;
  applicationProperties: Record<string, unknown>;
  annotations: Record<string, unknown>;
  sizeInBytes: number;
  content: C;
}

/** Errors carry the AMQP condition the network layer answers with. */
export class StoreError extends Error {
  readonly condition: string;
  constructor(condition: string, message: string) {
    super(message);
    this.name = 'StoreError';
    this.condition = condition;
  }
}

export const CONDITIONS = {
  lockLost: 'com.microsoft:message-lock-lost',
  messageNotFound: 'com.microsoft:message-not-found',
  quotaExceeded: 'amqp:resource-limit-exceeded',
  entityDisabled: 'com.microsoft:entity-disabled',
  notFound: 'amqp:not-found',
  alreadyExists: 'com.microsoft:entity-already-exists',
} as const;

/** A min-heap of sequence numbers, so the next available message is found in O(log n). */
class SequenceHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }
  peek(): number | undefined {
    return this.items[0];
  }
  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && items[right]! < items[left]! ? right : left;
        if (items[child]! >= last) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}

export interface SettleOptions {
  propertiesToModify?: Record<string, unknown> | undefined;
}

export interface DeadLetterOptions extends SettleOptions {
  reason?: string | undefined;
  description?: string | undefined;
}

/**
 * One receivable entity: the queue itself or its dead-letter queue. Messages live in
 * `messages` (keyed by sequence number); `ready` holds the ones that may be delivered.
 */
export class SubQueue<C> {
  readonly path: string;
  readonly isDeadLetter: boolean;
  readonly messages = new Map<number, StoredMessage<C>>();
  private readonly ready = new SequenceHeap();
  private readonly byLockToken = new Map<string, number>();
  /** Messages with a deadline (lock, schedule or expiry): only these are scanned on a tick. */
  private readonly timed = new Set<number>();
  private readonly owner: Queue<C>;

  constructor(owner: Queue<C>, path: string, isDeadLetter: boolean) {
    this.owner = owner;
    this.path = path;
    this.isDeadLetter = isDeadLetter;
  }

  get size(): number {
    return this.messages.size;
  }

  /** Adds a message that is already fully formed (sequence number assigned). */
  insert(message: StoredMessage<C>): void {
    this.messages.set(message.sequenceNumber, message);
    if (message.state === 'active') this.ready.push(message.sequenceNumber);
    if (message.state === 'scheduled' || message.expiresAt !== undefined)
      this.watch(message, message.state === 'scheduled' ? message.visibleAt : message.expiresAt!);
  }

  private watch(message: StoredMessage<C>, at: number): void {
    this.timed.add(message.sequenceNumber);
    this.owner.noteDeadline(at);
  }

  private isDeliverable(message: StoredMessage<C> | undefined): message is StoredMessage<C> {
    return message !== undefined && message.state === 'active' && message.lockToken === undefined;
  }

  /** True when a receive would return a message right now. */
  hasDeliverable(): boolean {
    this.owner.tick();
    for (;;) {
      const seq = this.ready.peek();
      if (seq === undefined) return false;
      if (this.isDeliverable(this.messages.get(seq))) return true;
      this.ready.pop(); // stale entry: settled, locked, deferred or expired meanwhile
    }
  }

  /** Takes the next available message: locks it (peekLock) or removes it (receiveAndDelete). */
  receive(mode: ReceiveMode): StoredMessage<C> | undefined {
    if (!this.hasDeliverable()) return undefined;
    const message = this.messages.get(this.ready.pop()!)!;
    return this.take(message, mode);
  }

  private take(message: StoredMessage<C>, mode: ReceiveMode): StoredMessage<C> {
    if (mode === 'receiveAndDelete') {
      this.messages.delete(message.sequenceNumber);
      return { ...message };
    }
    const token = randomUUID();
    message.lockToken = token;
    message.lockedUntil = this.owner.clock() + this.owner.settings.lockDurationMs;
    this.byLockToken.set(token, message.sequenceNumber);
    this.watch(message, message.lockedUntil);
    return message;
  }

  /** The locked message for a token, or a MessageLockLost error (expired, settled or unknown). */
  private locked(lockToken: string): StoredMessage<C> {
    this.owner.tick();
    const seq = this.byLockToken.get(lockToken.toLowerCase());
    const message = seq === undefined ? undefined : this.messages.get(seq);
    if (message === undefined || message.lockToken !== lockToken.toLowerCase()) {
      throw new StoreError(
        CONDITIONS.lockLost,
        `The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue (lock token ${lockToken}).`,
      );
    }
    return message;
  }

  private unlock(message: StoredMessage<C>): void {
    if (message.lockToken !== undefined) this.byLockToken.delete(message.lockToken);
    message.lockToken = undefined;
    message.lockedUntil = undefined;
  }

  isLocked(lockToken: string): boolean {
    try {
      this.locked(lockToken);
      return true;
    } catch {
      return false;
    }
  }

  complete(lockToken: string): void {
    const message = this.locked(lockToken);
    this.unlock(message);
    this.messages.delete(message.sequenceNumber);
  }

  /** Returns a message without counting a failed delivery (AMQP `released`). */
  releaseLock(lockToken: string): void {
    const message = this.locked(lockToken);
    this.unlock(message);
    if (message.state === 'active') this.ready.push(message.sequenceNumber);
  }

  /** Abandon counts as a failed delivery (Azure increments the count on abandon). */
  abandon(lockToken: string, options: SettleOptions = {}): void {
    const message = this.locked(lockToken);
    mergeInto(message.annotations, options.propertiesToModify);
    this.unlock(message);
    this.failDelivery(message);
  }

  defer(lockToken: string, options: SettleOptions = {}): void {
    const message = this.locked(lockToken);
    mergeInto(message.annotations, options.propertiesToModify);
    this.unlock(message);
    message.state = 'deferred';
  }

  deadLetter(lockToken: string, options: DeadLetterOptions = {}): void {
    const message = this.locked(lockToken);
    mergeInto(message.applicationProperties, options.propertiesToModify);
    this.unlock(message);
    this.moveToDeadLetter(message, options.reason, options.description);
  }

  /** Extends the lock by the queue's lock duration from now; returns the new expiry. */
  renewLock(lockToken: string): number {
    const message = this.locked(lockToken);
    message.lockedUntil = this.owner.clock() + this.owner.settings.lockDurationMs;
    this.watch(message, message.lockedUntil);
    return message.lockedUntil;
  }

  /** Deferred messages are only reachable by sequence number. Unknown numbers fail the whole call, as Azure does. */
  receiveDeferred(sequenceNumbers: readonly number[], mode: ReceiveMode): StoredMessage<C>[] {
    this.owner.tick();
    const found = sequenceNumbers.map((seq) => {
      const message = this.messages.get(seq);
      if (message === undefined || message.state !== 'deferred' || message.lockToken !== undefined) {
        throw new StoreError(
          CONDITIONS.messageNotFound,
          `Failed to lock one or more specified messages. Deferred message with sequence number ${seq} was not found or is locked.`,
        );
      }
      return message;
    });
    return found.map((message) => this.take(message, mode));
  }

  /** Browses without locking: every state (active, locked, deferred, scheduled), ordered by sequence number. */
  peek(fromSequenceNumber: number, count: number): StoredMessage<C>[] {
    this.owner.tick();
    const result: StoredMessage<C>[] = [];
    // Map iteration order is insertion order, which is not sequence order after a DLQ move.
    const sorted = [...this.messages.keys()].filter((seq) => seq >= fromSequenceNumber).sort((a, b) => a - b);
    for (const seq of sorted.slice(0, Math.max(0, count))) result.push(this.messages.get(seq)!);
    return result;
  }

  /** A failed attempt (abandon or lock expiry): count it, then redeliver or dead-letter. */
  failDelivery(message: StoredMessage<C>): void {
    message.deliveryCount += 1;
    if (!this.isDeadLetter && message.deliveryCount >= this.owner.settings.maxDeliveryCount) {
      this.moveToDeadLetter(
        message,
        MAX_DELIVERY_COUNT_EXCEEDED,
        `Message could not be consumed after ${this.owner.settings.maxDeliveryCount} delivery attempts.`,
      );
      return;
    }
    if (message.state === 'active') this.ready.push(message.sequenceNumber);
  }

  moveToDeadLetter(message: StoredMessage<C>, reason: string | undefined, description: string | undefined): void {
    this.messages.delete(message.sequenceNumber);
    if (this.isDeadLetter) {
      // Azure never dead-letters out of a DLQ; the message stays where it is.
      this.insert({ ...message, state: 'active' });
      return;
    }
    const props = message.applicationProperties;
    if (reason !== undefined) props.DeadLetterReason = reason;
    if (description !== undefined) props.DeadLetterErrorDescription = description;
    this.owner.deadLetterQueue.insert({
      ...message,
      state: 'active',
      lockToken: undefined,
      lockedUntil: undefined,
      expiresAt: undefined, // the DLQ ignores time to live
      deadLetterSource: this.owner.name,
    });
  }

  /** Expired locks return the message (count+1); due scheduled messages become active; expired TTLs leave. */
  processDeadlines(now: number): number | undefined {
    let next: number | undefined;
    const earliest = (t: number): void => {
      next = next === undefined ? t : Math.min(next, t);
    };
    for (const seq of [...this.timed]) {
      const message = this.messages.get(seq);
      if (message === undefined || (message.lockedUntil === undefined && message.state !== 'scheduled' && message.expiresAt === undefined)) {
        this.timed.delete(seq);
        continue;
      }
      if (message.lockedUntil !== undefined) {
        if (message.lockedUntil <= now) {
          this.unlock(message);
          this.failDelivery(message);
        } else {
          earliest(message.lockedUntil);
          continue;
        }
      }
      if (!this.messages.has(message.sequenceNumber)) continue;
      if (message.state === 'scheduled') {
        if (message.visibleAt <= now) {
          message.state = 'active';
          message.enqueuedAt = message.visibleAt;
          this.ready.push(message.sequenceNumber);
        } else {
          earliest(message.visibleAt);
          continue;
        }
      }
      if (message.expiresAt !== undefined && message.lockToken === undefined) {
        if (message.expiresAt <= now) {
          this.timed.delete(seq);
          if (this.owner.settings.deadLetterOnExpiration && !this.isDeadLetter)
            this.moveToDeadLetter(message, TTL_EXPIRED, 'The message expired and was dead lettered.');
          else this.messages.delete(seq);
        } else {
          earliest(message.expiresAt);
        }
      } else if (message.lockToken === undefined) {
        this.timed.delete(seq);
      }
    }
    return next;
  }

  counts(): { active: number; scheduled: number; sizeInBytes: number } {
    let active = 0;
    let scheduled = 0;
    let sizeInBytes = 0;
    for (const message of this.messages.values()) {
      if (message.state === 'scheduled') scheduled += 1;
      else active += 1; // Azure counts locked and deferred messages as active
      sizeInBytes += message.sizeInBytes;
    }
    return { active, scheduled, sizeInBytes };
  }
}

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown> | undefined): void {
  if (source === undefined) return;
  for (const [key, value] of Object.entries(source)) target[key] = value;
}

export const DEAD_LETTER_SUFFIX = '/$deadletterqueue';

export class Queue<C> {
  readonly name: string;
  readonly settings: QueueSettings;
  readonly clock: Clock;
  readonly createdAt: number;
  updatedAt: number;
  accessedAt: number;
  readonly main: SubQueue<C>;
  readonly deadLetterQueue: SubQueue<C>;
  private nextSequenceNumber = 1;
  private readonly onDeadline: (at: number) => void;

  constructor(name: string, settings: QueueSettings, clock: Clock, onDeadline: (at: number) => void) {
    this.name = name;
    this.settings = settings;
    this.clock = clock;
    this.onDeadline = onDeadline;
    this.createdAt = clock();
    this.updatedAt = this.createdAt;
    this.accessedAt = this.createdAt;
    this.main = new SubQueue(this, name, false);
    this.deadLetterQueue = new SubQueue(this, `${name}/$DeadLetterQueue`, true);
  }

  /** Earliest pending deadline, so a tick before it costs nothing. */
  private nextDeadline: number | undefined;

  noteDeadline(at: number): void {
    if (this.nextDeadline === undefined || at < this.nextDeadline) this.nextDeadline = at;
    this.onDeadline(at);
  }

  get messageCount(): number {
    return this.main.size + this.deadLetterQueue.size;
  }

  /**
   * Accepts a message, or a batch atomically (all or none), assigning sequence numbers.
   * A `scheduledEnqueueTime` in the future makes the message scheduled.
   */
  enqueue(inputs: readonly MessageInput<C>[]): StoredMessage<C>[] {
    this.tick();
    if (this.settings.status === 'Disabled' || this.settings.status === 'SendDisabled') {
      throw new StoreError(CONDITIONS.entityDisabled, `Messaging entity '${this.name}' is currently disabled for sending (status ${this.settings.status}).`);
    }
    if (this.messageCount + inputs.length > this.settings.maxMessages) {
      throw new StoreError(
        CONDITIONS.quotaExceeded,
        `The maximum number of messages (${this.settings.maxMessages}) of queue '${this.name}' has been reached. Receive or purge messages, or raise the stand-in's maxMessagesPerQueue.`,
      );
    }
    const now = this.clock();
    this.accessedAt = now;
    return inputs.map((input) => {
      const scheduled = input.scheduledEnqueueTime !== undefined && input.scheduledEnqueueTime > now;
      const visibleAt = scheduled ? input.scheduledEnqueueTime! : now;
      const ttl = input.timeToLiveMs ?? this.settings.defaultTtlMs;
      const message: StoredMessage<C> = {
        sequenceNumber: this.nextSequenceNumber++,
        messageId: input.messageId ?? randomUUID().replaceAll('-', ''),
        enqueuedAt: visibleAt,
        visibleAt,
        expiresAt: ttl === undefined ? undefined : visibleAt + ttl,
        state: scheduled ? 'scheduled' : 'active',
        deliveryCount: 0,
        lockToken: undefined,
        lockedUntil: undefined,
        deadLetterSource: undefined,
        applicationProperties: { ...input.applicationProperties },
        annotations: { ...input.annotations },
        sizeInBytes: input.sizeInBytes,
        content: input.content,
      };
      this.main.insert(message);
      return message;
    });
  }

  /** Removes scheduled messages; unknown or already visible sequence numbers are ignored, as Azure does. */
  cancelScheduled(sequenceNumbers: readonly number[]): void {
    this.tick();
    for (const seq of sequenceNumbers) {
      const message = this.main.messages.get(seq);
      if (message?.state === 'scheduled') this.main.messages.delete(seq);
    }
  }

  /** The receivable entity for a path relative to this queue ('' or '$DeadLetterQueue'). */
  assertReceivable(): void {
    if (this.settings.status === 'Disabled' || this.settings.status === 'ReceiveDisabled') {
      throw new StoreError(CONDITIONS.entityDisabled, `Messaging entity '${this.name}' is currently disabled for receiving (status ${this.settings.status}).`);
    }
  }

  /** Applies every deadline that has passed; returns the next one still pending. */
  tick(): number | undefined {
    const now = this.clock();
    if (this.nextDeadline === undefined || now < this.nextDeadline) return this.nextDeadline;
    const a = this.main.processDeadlines(now);
    const b = this.deadLetterQueue.processDeadlines(now);
    this.nextDeadline = a === undefined ? b : b === undefined ? a : Math.min(a, b);
    return this.nextDeadline;
  }

  runtimeCounts(): QueueCounts {
    const main = this.main.counts();
    const dlq = this.deadLetterQueue.counts();
    return {
      activeMessageCount: main.active,
      scheduledMessageCount: main.scheduled,
      deadLetterMessageCount: dlq.active + dlq.scheduled,
      totalMessageCount: main.active + main.scheduled + dlq.active + dlq.scheduled,
      sizeInBytes: main.sizeInBytes + dlq.sizeInBytes,
    };
  }
}

export interface QueueCounts {
  activeMessageCount: number;
  scheduledMessageCount: number;
  deadLetterMessageCount: number;
  totalMessageCount: number;
  sizeInBytes: number;
}

/** Queue names: Azure allows letters, digits, '.', '-', '_' and '/' segments, up to 260 chars. */
const QUEUE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._\-/]{0,258}[A-Za-z0-9_])?$/;

export function validateQueueName(name: string): string | undefined {
  if (!QUEUE_NAME.test(name) || name.includes('//') || name.toLowerCase().includes('$')) {
    return `Invalid queue name '${name}': use 1-260 letters, digits, '.', '-', '_' or '/', starting with a letter or digit.`;
  }
  return undefined;
}

/** All queues of the stand-in, keyed case-insensitively as Azure does. */
export class QueueStore<C> {
  readonly clock: Clock;
  private readonly queues = new Map<string, Queue<C>>();
  private readonly onDeadline: (at: number) => void;
  private readonly defaults: QueueSettings;

  constructor(options: { clock?: Clock; defaults?: Partial<QueueSettings>; onDeadline?: (at: number) => void } = {}) {
    this.clock = options.clock ?? systemClock;
    this.onDeadline = options.onDeadline ?? (() => undefined);
    this.defaults = { ...DEFAULT_QUEUE_SETTINGS, ...stripUndefined(options.defaults ?? {}) };
  }

  createQueue(name: string, settings: Partial<QueueSettings> = {}): Queue<C> {
    const invalid = validateQueueName(name);
    if (invalid !== undefined) throw new StoreError('amqp:invalid-field', invalid);
    const key = name.toLowerCase();
    if (this.queues.has(key)) throw new StoreError(CONDITIONS.alreadyExists, `The messaging entity '${name}' already exists.`);
    const merged: QueueSettings = { ...this.defaults, ...stripUndefined(settings) };
    validateSettings(name, merged);
    const queue = new Queue<C>(name, merged, this.clock, this.onDeadline);
    this.queues.set(key, queue);
    return queue;
  }

  /** Changes settings of an existing queue (admin updateQueue), validated like createQueue. */
  updateQueue(name: string, settings: Partial<QueueSettings>): Queue<C> {
    const queue = this.getQueue(name);
    if (queue === undefined) throw new StoreError(CONDITIONS.notFound, `The messaging entity '${name}' could not be found.`);
    const merged: QueueSettings = { ...queue.settings, ...stripUndefined(settings) };
    validateSettings(name, merged);
    Object.assign(queue.settings, merged);
    queue.updatedAt = this.clock();
    return queue;
  }

  getQueue(name: string): Queue<C> | undefined {
    return this.queues.get(name.toLowerCase());
  }

  deleteQueue(name: string): boolean {
    return this.queues.delete(name.toLowerCase());
  }

  listQueues(): Queue<C>[] {
    return [...this.queues.values()];
  }

  /**
   * Resolves an entity path such as `q`, `q/$DeadLetterQueue` (any case) to its sub-queue.
   */
  resolve(path: string): SubQueue<C> | undefined {
    const lower = path.toLowerCase();
    if (lower.endsWith(DEAD_LETTER_SUFFIX)) {
      return this.getQueue(path.slice(0, -DEAD_LETTER_SUFFIX.length))?.deadLetterQueue;
    }
    return this.getQueue(path)?.main;
  }

  /** Applies passed deadlines on every queue; returns the earliest pending deadline. */
  tick(): number | undefined {
    let next: number | undefined;
    for (const queue of this.queues.values()) {
      const at = queue.tick();
      if (at !== undefined) next = next === undefined ? at : Math.min(next, at);
    }
    return next;
  }
}

function validateSettings(name: string, settings: QueueSettings): void {
  if (!Number.isInteger(settings.maxDeliveryCount) || settings.maxDeliveryCount < 1) {
    throw new StoreError('amqp:invalid-field', `Queue '${name}': maxDeliveryCount must be an integer >= 1, got ${settings.maxDeliveryCount}.`);
  }
  if (!(settings.lockDurationMs > 0) || settings.lockDurationMs > 300_000) {
    throw new StoreError('amqp:invalid-field', `Queue '${name}': lock duration must be > 0 and at most 5 minutes, got ${settings.lockDurationMs} ms.`);
  }
  if (!QUEUE_STATUSES.includes(settings.status)) {
    throw new StoreError('amqp:invalid-field', `Queue '${name}': status must be one of ${QUEUE_STATUSES.join(', ')}, got '${String(settings.status)}'.`);
  }
  if (!Number.isInteger(settings.maxMessages) || settings.maxMessages < 1) {
    throw new StoreError('amqp:invalid-field', `Queue '${name}': maxMessages must be a positive integer, got ${settings.maxMessages}.`);
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
