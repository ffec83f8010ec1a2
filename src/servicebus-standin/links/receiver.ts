// A client receiver link (our sending end) on `<queue>` or `<queue>/$DeadLetterQueue`:
// deliveries on credit, drain, and the dispositions of peek-lock settlement.
//
// peekLock (rcv-settle-mode second): deliveries go unsettled with the lock token as
// delivery tag; the client's unsettled disposition is answered with a SETTLED one
// without an error (an error there makes the SDK call throw). receiveAndDelete
// (snd-settle-mode settled): deliveries go pre-settled and leave the store at once.
import rhea, { type Delivery, type EventContext, type Sender } from 'rhea';
import type { StandinContext, StandinSubQueue } from '../context.ts';
import { encodeDelivery, lockTokenToDeliveryTag } from '../amqp-message.ts';
import { CONDITIONS, StoreError, type ReceiveMode } from '../queue-store.ts';
import { authorize } from '../connection/auth.ts';

const outcomes = rhea.message as unknown as {
  accepted(): { described(): unknown };
  rejected(fields?: unknown): { described(): unknown };
  modified(fields?: unknown): { described(): unknown };
  released(): { described(): unknown };
};

/** rhea link fields its typings leave out. */
interface LinkInternals {
  remote: { attach: unknown };
  local: { attach: unknown };
  credit: number;
}

interface Consumer {
  link: Sender;
  mode: ReceiveMode;
}

/** Receivers per sub-queue; the pump serves them round-robin. */
const consumers = new Map<StandinSubQueue, Consumer[]>();
const lockTokens = new WeakMap<Delivery, string>();

export function openQueueReceiverLink(ctx: StandinContext, link: Sender): void {
  const internals = link as unknown as LinkInternals;
  const remote = internals.remote.attach as { snd_settle_mode?: number; rcv_settle_mode?: number };
  const address = (link.source as { address?: string } | undefined)?.address ?? '';
  link.set_source({ address });
  link.set_target(link.target ?? {});
  const mode: ReceiveMode = remote.snd_settle_mode === 1 ? 'receiveAndDelete' : 'peekLock';
  const attach = internals.local.attach as { snd_settle_mode?: number; rcv_settle_mode?: number };
  attach.snd_settle_mode = remote.snd_settle_mode ?? 0;
  attach.rcv_settle_mode = remote.rcv_settle_mode ?? 0;
  const subQueue = ctx.store.resolve(address);
  const queue = subQueue === undefined ? undefined : ctx.store.getQueue(subQueue.isDeadLetter ? address.slice(0, address.lastIndexOf('/')) : address);
  if (subQueue === undefined || queue === undefined) {
    link.close({ condition: CONDITIONS.notFound, description: `The messaging entity '${address}' could not be found.` });
    return;
  }
  const auth = authorize(link.connection, subQueue.path, ['Listen'], Date.now());
  if (!auth.allowed) {
    link.close({ condition: 'amqp:unauthorized-access', description: auth.reason });
    return;
  }
  try {
    queue.assertReceivable();
  } catch (error) {
    const e = error as StoreError;
    link.close({ condition: e.condition, description: e.message });
    return;
  }
  allowDrainWithoutCredit(link);
  const consumer: Consumer = { link, mode };
  consumers.set(subQueue, [...(consumers.get(subQueue) ?? []), consumer]);
  const pump = (): void => ctx.pump(subQueue);
  link.on('sendable', pump);
  link.on('sender_flow', pump);
  link.on('sender_draining', () => {
    // Deliver what is there, then answer the drain: the SDK closes the link if no
    // flow with drain=true arrives within max(200 ms, remaining wait).
    ctx.pump(subQueue);
    link.set_drained(true);
  });
  const settle = (event: EventContext): void => onDisposition(ctx, subQueue, event);
  link.on('accepted', settle);
  link.on('rejected', settle);
  link.on('modified', settle);
  link.on('released', settle);
  const forget = (): void => removeConsumer(subQueue, link);
  link.on('sender_close', forget);
  link.on('sender_error', forget);
}

/**
 * rhea only puts drain=true in a flow while credit is left; when transfers used the
 * credit up first, the reply would lack it and the SDK would time out. Always answer.
 */
function allowDrainWithoutCredit(link: Sender): void {
  const l = link as unknown as { _draining: boolean; _drained: boolean; credit: number; delivery_count: number; _get_drain: () => boolean };
  l._get_drain = function getDrain(): boolean {
    if (this._draining && this._drained) {
      this.delivery_count += this.credit;
      this.credit = 0;
      this._draining = false;
      return true;
    }
    return false;
  };
}

function removeConsumer(subQueue: StandinSubQueue, link: Sender): void {
  const list = consumers.get(subQueue)?.filter((c) => c.link !== link) ?? [];
  if (list.length === 0) consumers.delete(subQueue);
  else consumers.set(subQueue, list);
}

export function forgetConnectionConsumers(isGone: (link: Sender) => boolean): void {
  for (const [subQueue, list] of consumers) {
    const kept = list.filter((c) => !isGone(c.link));
    if (kept.length === 0) consumers.delete(subQueue);
    else consumers.set(subQueue, kept);
  }
}

export function consumersOf(subQueue: StandinSubQueue): number {
  return consumers.get(subQueue)?.length ?? 0;
}

/** Deliveries queued on the session but not yet written, which rhea has not charged to credit. */
function unsentDeliveries(link: Sender): number {
  const outgoing = (
    link.session as unknown as {
      outgoing: { next_pending_delivery: number; next_delivery_id: number; deliveries: { by_id(id: number): { link: unknown } | undefined } };
    }
  ).outgoing;
  let count = 0;
  for (let id = outgoing.next_pending_delivery; id < outgoing.next_delivery_id; id++) {
    if (outgoing.deliveries.by_id(id)?.link === link) count++;
  }
  return count;
}

function creditLeft(link: Sender): number {
  if (!link.is_open()) return 0;
  const session = link.session as unknown as { outgoing: { available(): number } };
  return Math.min((link as unknown as LinkInternals).credit - unsentDeliveries(link), session.outgoing.available());
}

/** Hands available messages to receivers with credit, round-robin. */
export function pumpSubQueue(ctx: StandinContext, subQueue: StandinSubQueue): void {
  const list = consumers.get(subQueue);
  if (list === undefined) return;
  const queue = ctx.store.listQueues().find((q) => q.main === subQueue || q.deadLetterQueue === subQueue);
  if (queue === undefined) return;
  let progressed = true;
  while (progressed) {
    progressed = false;
    for (const consumer of list) {
      if (creditLeft(consumer.link) <= 0) continue;
      try {
        queue.assertReceivable();
      } catch {
        return;
      }
      const message = subQueue.receive(consumer.mode);
      if (message === undefined) return;
      const payload = encodeDelivery(message);
      if (consumer.mode === 'peekLock') {
        const delivery = consumer.link.send(payload, lockTokenToDeliveryTag(message.lockToken!), 0);
        lockTokens.set(delivery, message.lockToken!);
      } else {
        consumer.link.send(payload, Buffer.from(rhea.generate_uuid().replaceAll('-', ''), 'hex'), 0);
      }
      progressed = true;
    }
  }
}

/** Maps the client's outcome to complete / abandon / defer / dead-letter and settles. */
function onDisposition(ctx: StandinContext, subQueue: StandinSubQueue, event: EventContext): void {
  const delivery = event.delivery!;
  const lockToken = lockTokens.get(delivery);
  const state = delivery.remote_state as {
    constructor?: { composite_type?: string };
    undeliverable_here?: boolean;
    delivery_failed?: boolean;
    message_annotations?: Record<string, unknown>;
    error?: { info?: Record<string, unknown> };
  };
  const kind = state?.constructor?.composite_type;
  let reply: unknown;
  try {
    if (lockToken === undefined) throw new StoreError(CONDITIONS.lockLost, 'The delivery carries no lock.');
    switch (kind) {
      case 'accepted':
        subQueue.complete(lockToken);
        reply = outcomes.accepted().described();
        break;
      case 'modified': {
        const options = { propertiesToModify: state.message_annotations };
        if (state.undeliverable_here === true) subQueue.defer(lockToken, options);
        else subQueue.abandon(lockToken, options);
        reply = outcomes.modified({ undeliverable_here: state.undeliverable_here, delivery_failed: state.delivery_failed }).described();
        break;
      }
      case 'rejected': {
        const info = state.error?.info ?? {};
        const { DeadLetterReason, DeadLetterErrorDescription, ...rest } = info;
        subQueue.deadLetter(lockToken, {
          reason: typeof DeadLetterReason === 'string' ? DeadLetterReason : undefined,
          description: typeof DeadLetterErrorDescription === 'string' ? DeadLetterErrorDescription : undefined,
          propertiesToModify: withoutNulls(rest),
        });
        reply = outcomes.rejected().described();
        break;
      }
      default:
        // released: give the message back without counting a failed delivery.
        subQueue.releaseLock(lockToken);
        reply = outcomes.released().described();
    }
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    reply = outcomes.rejected({ error: { condition: error.condition, description: error.message } }).described();
  }
  delivery.update(true, reply);
  // The client never settles again under rcv-settle-mode second; without this the
  // session's 2048-slot outgoing buffer would never free.
  (delivery as { remote_settled: boolean }).remote_settled = true;
  ctx.pumpAll();
}

function withoutNulls(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null && v !== undefined));
}
