// The Service Bus stand-in: an AMQP 1.0 server and an HTTP ATOM management endpoint that
// the unchanged @azure/service-bus SDK talks to with a UseDevelopmentEmulator=true
// connection string. See README.md beside this file for what it emulates.
import { randomBytes } from 'node:crypto';
import { silentLogger, type Logger } from '../shared/logger.ts';
import { startAmqpServer, type AmqpLimits } from './amqp-server.ts';
import { DEFAULT_AUTH_TIMEOUT_MS, DEFAULT_MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE } from './connection/limits.ts';
import { startAtomServer } from './atom.ts';
import type { StandinContext, StandinSubQueue } from './context.ts';
import { consumersOf, pumpSubQueue } from './links/receiver.ts';
import { QueueStore, type Queue, type QueueCounts, type QueueStatus } from './queue-store.ts';
import type { MessageContent } from './amqp-message.ts';
import { RIGHTS, type KeyRules, type Right } from './sas.ts';

export { emulatorHttpPolicy } from './http-policy.ts';
export type { QueueStatus, QueueCounts, Right };

export const DEFAULT_KEY_NAME = 'RootManageSharedAccessKey';
export const DEFAULT_MAX_MESSAGES_PER_QUEUE = 100_000;
/** Azure Standard tier's limit; announced to senders as max-message-size. */
export const DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024;

export interface StandinQueueOptions {
  name: string;
  /** Peek-lock duration in seconds (fractions allowed). Default 60. */
  lockDurationSeconds?: number;
  /** Default 10. */
  maxDeliveryCount?: number;
  /** Default 'Active'. 'ReceiveDisabled' refuses receivers, 'SendDisabled' senders. */
  status?: QueueStatus;
  /** Default time to live in seconds; default: never expires. */
  defaultTimeToLiveSeconds?: number;
  deadLetterOnExpiration?: boolean;
  /** Overrides maxMessagesPerQueue for this queue. */
  maxMessages?: number;
}

export interface StandinKeyOptions {
  key: string;
  /** Default ['Manage', 'Send', 'Listen']. */
  rights?: readonly Right[];
}

export interface StandinOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** AMQP port; 0 (default) picks a free one. */
  port?: number;
  /** ATOM management HTTP port; 0 (default) picks a free one. */
  httpPort?: number;
  /** SAS keys by key name. Default: RootManageSharedAccessKey with a random key and all rights. */
  keys?: Record<string, StandinKeyOptions>;
  queues?: readonly (StandinQueueOptions | string)[];
  /** Cap on messages per queue (queue + DLQ); sends beyond it fail with QuotaExceeded. */
  maxMessagesPerQueue?: number;
  maxMessageSizeBytes?: number;
  /** Announced as max-frame-size; a larger frame from a peer closes its connection. Default 262 144 (256 KiB), at least 512. */
  maxFrameSizeBytes?: number;
  /** A connection that has put no valid CBS token after this many seconds is closed. Default 60 (fractions allowed). */
  authTimeoutSeconds?: number;
  /** Default: a silent logger (the stand-in is test infrastructure; its main passes a real one). */
  logger?: Logger;
}

export interface ServiceBusStandin {
  /** For ServiceBusClient: Endpoint=sb://host:amqpPort;...;UseDevelopmentEmulator=true */
  connectionString: string;
  /** For ServiceBusAdministrationClient (plus emulatorHttpPolicy()): Endpoint=sb://host:httpPort;... */
  managementConnectionString: string;
  /** Both connection strings for another configured key name. */
  connectionStringsFor(keyName: string): { connectionString: string; managementConnectionString: string };
  host: string;
  amqpPort: number;
  httpPort: number;
  createQueue(queue: StandinQueueOptions | string): void;
  setQueueStatus(name: string, status: QueueStatus): void;
  counts(name: string): QueueCounts;
  /** Receiver links attached to a queue or `<queue>/$DeadLetterQueue` right now. */
  receiverCount(path: string): number;
  close(): Promise<void>;
}

function queueSettings(options: StandinQueueOptions, maxMessages: number): Partial<Queue<MessageContent>['settings']> {
  return {
    lockDurationMs: options.lockDurationSeconds === undefined ? undefined : Math.round(options.lockDurationSeconds * 1000),
    maxDeliveryCount: options.maxDeliveryCount,
    status: options.status,
    maxMessages: options.maxMessages ?? maxMessages,
    defaultTtlMs: options.defaultTimeToLiveSeconds === undefined ? undefined : Math.round(options.defaultTimeToLiveSeconds * 1000),
    deadLetterOnExpiration: options.deadLetterOnExpiration,
  };
}

function normaliseKeys(keys: StandinOptions['keys']): KeyRules {
  const source = keys ?? { [DEFAULT_KEY_NAME]: { key: randomBytes(32).toString('base64') } };
  const rules: Record<string, { key: string; rights: readonly Right[] }> = {};
  for (const [name, { key, rights }] of Object.entries(source)) {
    if (!key) throw new Error(`Stand-in key '${name}' has an empty key.`);
    for (const right of rights ?? []) {
      if (!RIGHTS.includes(right)) throw new Error(`Stand-in key '${name}': unknown right '${String(right)}'; use ${RIGHTS.join(', ')}.`);
    }
    rules[name] = { key, rights: rights ?? RIGHTS };
  }
  if (Object.keys(rules).length === 0) throw new Error('The stand-in needs at least one SAS key.');
  return rules;
}

function amqpLimits(options: StandinOptions): AmqpLimits {
  const maxFrameSize = options.maxFrameSizeBytes ?? DEFAULT_MAX_FRAME_SIZE;
  if (!Number.isInteger(maxFrameSize) || maxFrameSize < MIN_MAX_FRAME_SIZE) {
    throw new Error(`maxFrameSizeBytes must be an integer of at least ${MIN_MAX_FRAME_SIZE}, got ${maxFrameSize}.`);
  }
  const authTimeoutMs = options.authTimeoutSeconds === undefined ? DEFAULT_AUTH_TIMEOUT_MS : Math.round(options.authTimeoutSeconds * 1000);
  if (!(authTimeoutMs > 0)) throw new Error(`authTimeoutSeconds must be positive, got ${options.authTimeoutSeconds}.`);
  return { maxFrameSize, authTimeoutMs };
}

export async function startServiceBusStandin(options: StandinOptions = {}): Promise<ServiceBusStandin> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger();
  const keys = normaliseKeys(options.keys);
  const maxMessages = options.maxMessagesPerQueue ?? DEFAULT_MAX_MESSAGES_PER_QUEUE;
  if (!Number.isInteger(maxMessages) || maxMessages < 1) throw new Error(`maxMessagesPerQueue must be a positive integer, got ${maxMessages}.`);

  let wakeTimer: NodeJS.Timeout | undefined;
  let wakeAt = Number.POSITIVE_INFINITY;
  let closed = false;
  // One timer for every lock expiry and scheduled message, re-armed to the earliest.
  const scheduleWake = (at: number): void => {
    if (closed || at >= wakeAt) return;
    if (wakeTimer !== undefined) clearTimeout(wakeTimer);
    wakeAt = at;
    wakeTimer = setTimeout(onWake, Math.max(0, at - store.clock()) + 1); // deadlines are on the store's clock
    wakeTimer.unref();
  };
  const onWake = (): void => {
    wakeTimer = undefined;
    wakeAt = Number.POSITIVE_INFINITY;
    const next = store.tick();
    ctx.pumpAll();
    if (next !== undefined) scheduleWake(next);
  };

  const store = new QueueStore<MessageContent>({ defaults: { maxMessages }, onDeadline: scheduleWake });
  const ctx: StandinContext = {
    store,
    keys,
    logger,
    maxMessageSize: options.maxMessageSizeBytes ?? DEFAULT_MAX_MESSAGE_SIZE,
    pump: (subQueue: StandinSubQueue) => pumpSubQueue(ctx, subQueue),
    pumpAll: () => {
      for (const queue of store.listQueues()) {
        pumpSubQueue(ctx, queue.main);
        pumpSubQueue(ctx, queue.deadLetterQueue);
      }
    },
  };
  const createQueue = (queue: StandinQueueOptions | string): void => {
    const spec = typeof queue === 'string' ? { name: queue } : queue;
    store.createQueue(spec.name, queueSettings(spec, maxMessages));
  };
  for (const queue of options.queues ?? []) createQueue(queue);

  const amqp = await startAmqpServer(ctx, host, options.port ?? 0, amqpLimits(options));
  let atom;
  try {
    atom = await startAtomServer(ctx, host, options.httpPort ?? 0);
  } catch (error) {
    await amqp.close();
    throw error;
  }
  const http = atom;
  const endpointHost = host.includes(':') ? `[${host}]` : host;
  const connectionStringsFor = (keyName: string): { connectionString: string; managementConnectionString: string } => {
    const rule = keys[keyName];
    if (rule === undefined) throw new Error(`Unknown key name '${keyName}'; configured: ${Object.keys(keys).join(', ')}.`);
    const tail = `SharedAccessKeyName=${keyName};SharedAccessKey=${rule.key};UseDevelopmentEmulator=true`;
    return {
      connectionString: `Endpoint=sb://${endpointHost}:${amqp.port};${tail}`,
      managementConnectionString: `Endpoint=sb://${endpointHost}:${http.port};${tail}`,
    };
  };
  const primary = connectionStringsFor(Object.keys(keys)[0]!);
  logger.info({ amqpPort: amqp.port, httpPort: http.port, queues: store.listQueues().map((q) => q.name) }, 'Started Service Bus stand-in');

  const getQueue = (name: string): Queue<MessageContent> => {
    const queue = store.getQueue(name);
    if (queue === undefined) throw new Error(`Unknown queue '${name}'.`);
    return queue;
  };

  return {
    ...primary,
    connectionStringsFor,
    host,
    amqpPort: amqp.port,
    httpPort: http.port,
    createQueue,
    setQueueStatus: (name, status) => {
      store.updateQueue(name, { status });
      ctx.pumpAll();
    },
    counts: (name) => getQueue(name).runtimeCounts(),
    receiverCount: (path) => {
      const subQueue = store.resolve(path);
      if (subQueue === undefined) throw new Error(`Unknown queue '${path}'.`);
      return consumersOf(subQueue);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      if (wakeTimer !== undefined) clearTimeout(wakeTimer);
      await Promise.all([amqp.close(), http.close()]);
      logger.info('Closed Service Bus stand-in');
    },
  };
}
