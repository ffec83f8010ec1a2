// A client sender link (our receiving end) on `<queue>`: single messages (format 0) and
// the SDK's batch envelope, each accepted or rejected with the condition the SDK maps
// to an error (QuotaExceeded, MessageSizeExceeded, MessagingEntityDisabled).
import rhea, { type EventContext, type Receiver } from 'rhea';
import type { StandinContext } from '../context.ts';
import { InvalidMessageError, parseTransfer } from '../amqp-message.ts';
import { StoreError } from '../queue-store.ts';
import { authorize } from '../connection/auth.ts';

export function openQueueSenderLink(ctx: StandinContext, link: Receiver): void {
  const address = (link.target as { address?: string } | undefined)?.address ?? '';
  link.set_target({ address });
  link.set_source(link.source ?? {});
  // The SDK sizes batches from this; 0 or absent breaks sendMessages([...]).
  (link as unknown as { local: { attach: { max_message_size?: number } } }).local.attach.max_message_size = ctx.maxMessageSize;
  const queue = ctx.store.getQueue(address);
  if (queue === undefined || address.toLowerCase().includes('/$deadletterqueue')) {
    link.close({ condition: 'amqp:not-found', description: `The messaging entity '${address}' could not be found (or cannot be sent to).` });
    return;
  }
  const auth = authorize(link.connection, queue.name, ['Send'], Date.now());
  if (!auth.allowed) {
    link.close({ condition: 'amqp:unauthorized-access', description: auth.reason });
    return;
  }
  link.on('message', (event: EventContext) => onTransfer(ctx, queue.name, event));
}

function onTransfer(ctx: StandinContext, queueName: string, event: EventContext): void {
  const delivery = event.delivery!;
  const payload = event.message as unknown;
  const format = (event as { format?: number }).format ?? 0;
  const queue = ctx.store.getQueue(queueName);
  try {
    if (queue === undefined) throw new StoreError('amqp:not-found', `The messaging entity '${queueName}' was deleted.`);
    // rhea decodes format-0 messages itself; re-encode to reach the raw sections.
    const raw = Buffer.isBuffer(payload) ? payload : Buffer.from(rheaEncode(payload));
    if (raw.length > ctx.maxMessageSize) {
      throw new StoreError('amqp:link:message-size-exceeded', `The message of ${raw.length} bytes exceeds the maximum of ${ctx.maxMessageSize} bytes.`);
    }
    queue.enqueue(parseTransfer(raw, format));
    delivery.accept();
    ctx.pump(queue.main);
  } catch (error) {
    if (error instanceof StoreError || error instanceof InvalidMessageError) {
      const condition = error instanceof StoreError ? error.condition : 'amqp:decode-error';
      ctx.logger.debug({ queue: queueName, condition }, 'Rejected a sent message');
      delivery.reject({ condition, description: error.message });
      return;
    }
    throw error;
  }
}

function rheaEncode(message: unknown): Buffer {
  return rhea.message.encode(message);
}
