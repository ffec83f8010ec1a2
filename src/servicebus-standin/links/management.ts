// `<entity>/$management` request/response operations the SDK uses for plain queues:
// renew-lock, peek-message, schedule-message, cancel-scheduled-message,
// receive-by-sequence-number and update-disposition. Replies carry camelCase
// `statusCode` (peek tests it for 204) and typed arrays as Azure sends them.
import rhea, { type Connection, type EventContext, type Message } from 'rhea';
import type { StandinContext, StandinSubQueue } from '../context.ts';
import { encodeDelivery, InvalidMessageError, longToNumber, lockTokenToUuid, parseMessage, uuidToLockToken } from '../amqp-message.ts';
import { CONDITIONS, StoreError, type Queue, type ReceiveMode } from '../queue-store.ts';
import type { MessageContent } from '../amqp-message.ts';
import type { Right } from '../sas.ts';
import { authorize } from '../connection/auth.ts';
import { sendReply, type Reply } from '../connection/reply-links.ts';

const { types } = rhea;

export const MANAGEMENT_SUFFIX = '/$management';

const TYPE = { long: 0x81, timestamp: 0x83, uuid: 0x98 } as const;

interface Target {
  queue: Queue<MessageContent>;
  subQueue: StandinSubQueue;
}

type Operation = (ctx: StandinContext, target: Target, body: Record<string, unknown>) => Reply;

const ok = (body?: unknown): Reply => ({ status: 200, description: 'OK', body });

const operations: Record<string, { right: Right; run: Operation }> = {
  'com.microsoft:renew-lock': {
    right: 'Listen',
    run: (_ctx, { subQueue }, body) => {
      const expirations = lockTokensOf(body).map((token) => subQueue.renewLock(token));
      return ok({ expirations: types.wrap_array(expirations, TYPE.timestamp, undefined) });
    },
  },
  'com.microsoft:peek-message': {
    right: 'Listen',
    run: (_ctx, { subQueue }, body) => {
      const from = longToNumber(body['from-sequence-number'] ?? 1);
      const count = Number(body['message-count'] ?? 1);
      const found = subQueue.peek(from, count);
      if (found.length === 0) return { status: 204, description: 'No Content' };
      return ok({ messages: found.map((m) => ({ message: encodeDelivery(m) })) });
    },
  },
  'com.microsoft:schedule-message': {
    right: 'Send',
    run: (ctx, { queue }, body) => {
      const entries = (body.messages ?? []) as { message?: Buffer; 'message-id'?: string }[];
      const inputs = entries.map((entry) => {
        if (!Buffer.isBuffer(entry.message)) throw new InvalidMessageError('schedule-message entries need an encoded "message".');
        const input = parseMessage(entry.message);
        if (input.content.bodySections.length > ctx.maxMessageSize)
          throw new StoreError('amqp:link:message-size-exceeded', 'A scheduled message is too large.');
        return { ...input, messageId: input.messageId ?? entry['message-id'] };
      });
      const stored = queue.enqueue(inputs);
      ctx.pump(queue.main);
      return ok({
        'sequence-numbers': types.wrap_array(
          stored.map((m) => m.sequenceNumber),
          TYPE.long,
          undefined,
        ),
      });
    },
  },
  'com.microsoft:cancel-scheduled-message': {
    right: 'Send',
    run: (_ctx, { queue }, body) => {
      queue.cancelScheduled(sequenceNumbersOf(body));
      return ok();
    },
  },
  'com.microsoft:receive-by-sequence-number': {
    right: 'Listen',
    run: (_ctx, { queue, subQueue }, body) => {
      queue.assertReceivable();
      const mode: ReceiveMode = Number(body['receiver-settle-mode'] ?? 1) === 0 ? 'receiveAndDelete' : 'peekLock';
      const taken = subQueue.receiveDeferred(sequenceNumbersOf(body), mode);
      return ok({
        messages: taken.map((m) => {
          const entry: Record<string, unknown> = { message: encodeDelivery(m) };
          // Plain RFC 4122 order here: the SDK does not reorder management lock tokens.
          if (m.lockToken !== undefined) entry['lock-token'] = types.wrap_uuid(lockTokenToUuid(m.lockToken));
          return entry;
        }),
      });
    },
  },
  'com.microsoft:update-disposition': {
    right: 'Listen',
    run: (ctx, { subQueue }, body) => {
      const status = body['disposition-status'];
      const props = (body['properties-to-modify'] ?? undefined) as Record<string, unknown> | undefined;
      for (const token of lockTokensOf(body)) {
        switch (status) {
          case 'completed':
            subQueue.complete(token);
            break;
          case 'abandoned':
            subQueue.abandon(token, { propertiesToModify: props });
            break;
          case 'defered': // sic: the SDK's spelling
          case 'deferred':
            subQueue.defer(token, { propertiesToModify: props });
            break;
          case 'suspended':
            subQueue.deadLetter(token, {
              reason: stringOrUndefined(body['deadletter-reason']),
              description: stringOrUndefined(body['deadletter-description']),
              propertiesToModify: props,
            });
            break;
          default:
            throw new StoreError('amqp:invalid-field', `Unknown disposition-status '${String(status)}'; expected completed, abandoned, defered or suspended.`);
        }
      }
      ctx.pumpAll();
      return ok();
    },
  },
};

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function lockTokensOf(body: Record<string, unknown>): string[] {
  const tokens = body['lock-tokens'];
  if (!Array.isArray(tokens)) throw new InvalidMessageError('The request needs "lock-tokens" (array of uuid).');
  return tokens.map(uuidToLockToken);
}

function sequenceNumbersOf(body: Record<string, unknown>): number[] {
  const numbers = body['sequence-numbers'];
  if (!Array.isArray(numbers)) throw new InvalidMessageError('The request needs "sequence-numbers" (array of long).');
  return numbers.map(longToNumber);
}

/** HTTP-like status codes Azure uses for each condition. */
function statusFor(condition: string): number {
  switch (condition) {
    case CONDITIONS.lockLost:
      return 410;
    case CONDITIONS.messageNotFound:
    case CONDITIONS.notFound:
      return 404;
    case CONDITIONS.quotaExceeded:
      return 403;
    case 'amqp:unauthorized-access':
      return 401;
    default:
      return 400;
  }
}

export function handleManagementRequest(ctx: StandinContext, connection: Connection, entityPath: string, request: Message): Reply {
  const props = (request.application_properties ?? {}) as Record<string, unknown>;
  const name = String(props.operation);
  const operation = operations[name];
  if (operation === undefined) {
    return { status: 501, description: `The stand-in does not implement $management operation '${name}'.`, errorCondition: 'amqp:not-implemented' };
  }
  const subQueue = ctx.store.resolve(entityPath);
  const queue = subQueue === undefined ? undefined : ctx.store.listQueues().find((q) => q.main === subQueue || q.deadLetterQueue === subQueue);
  if (subQueue === undefined || queue === undefined) {
    return { status: 404, description: `The messaging entity '${entityPath}' could not be found.`, errorCondition: CONDITIONS.notFound };
  }
  // Covered by a token for the $management audience or for the entity itself.
  const auth = authorize(connection, `${subQueue.path}/$management`, [operation.right], Date.now());
  if (!auth.allowed) return { status: 401, description: auth.reason, errorCondition: 'amqp:unauthorized-access' };
  try {
    const body = (request.body ?? {}) as Record<string, unknown>;
    return operation.run(ctx, { queue, subQueue }, body);
  } catch (error) {
    if (error instanceof StoreError) return { status: statusFor(error.condition), description: error.message, errorCondition: error.condition };
    if (error instanceof InvalidMessageError) return { status: 400, description: error.message, errorCondition: 'amqp:invalid-field' };
    throw error;
  }
}

export function onManagementRequest(ctx: StandinContext, entityPath: string, event: EventContext): void {
  const { message, delivery, connection } = event;
  delivery?.accept();
  if (message === undefined) return;
  const reply = handleManagementRequest(ctx, connection, entityPath, message);
  if (reply.status >= 300) {
    ctx.logger.debug(
      { entityPath, operation: message.application_properties?.operation, status: reply.status },
      'Answered management request with an error status',
    );
  }
  sendReply(connection, message, reply, 'management');
}
