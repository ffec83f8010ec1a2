// What every protocol handler of the stand-in shares: the queue store, the keys, the
// logger and the two hooks that move messages (pump deliveries, wake at deadlines).
import type { Logger } from 'pino';
import type { QueueStore, SubQueue } from './queue-store.ts';
import type { MessageContent } from './amqp-message.ts';
import type { KeyRules } from './sas.ts';

export type StandinStore = QueueStore<MessageContent>;
export type StandinSubQueue = SubQueue<MessageContent>;

export interface StandinContext {
  store: StandinStore;
  keys: KeyRules;
  logger: Logger;
  /** Largest message (or batch) accepted, in bytes; announced as max-message-size. */
  maxMessageSize: number;
  /** Delivers available messages of a sub-queue to its receivers with credit. */
  pump(subQueue: StandinSubQueue): void;
  /** Delivers on every sub-queue (after deadlines passed or a queue changed). */
  pumpAll(): void;
}
