// The AMQP 1.0 listener: a rhea container on plain TCP with the SASL layer (ANONYMOUS,
// which is what the SDK offers with a UseDevelopmentEmulator connection string). It
// routes every link attach to $cbs, $management or a queue, and tracks connections so
// close() can end them all.
import type { AddressInfo, Socket } from 'node:net';
import rhea, { type Connection, type EventContext, type Receiver, type Sender } from 'rhea';
import type { StandinContext } from './context.ts';
import { CBS_ADDRESS, onCbsRequest } from './connection/cbs.ts';
import { forgetReplyLink, registerReplyLink } from './connection/reply-links.ts';
import { MANAGEMENT_SUFFIX, onManagementRequest } from './links/management.ts';
import { openQueueSenderLink } from './links/sender.ts';
import { forgetConnectionConsumers, openQueueReceiverLink } from './links/receiver.ts';

export interface AmqpServer {
  port: number;
  close(): Promise<void>;
}

function addressOf(terminus: unknown): string {
  return (terminus as { address?: string } | undefined)?.address ?? '';
}

function isManagement(address: string): boolean {
  return address.toLowerCase().endsWith(MANAGEMENT_SUFFIX);
}

/** $cbs and `<entity>/$management` are request/response nodes, not queues. */
function isRequestResponseNode(address: string): boolean {
  return address === CBS_ADDRESS || isManagement(address);
}

/** A client sender attached: requests to $cbs or $management, or messages for a queue. */
function onClientSender(ctx: StandinContext, event: EventContext): void {
  const link = event.receiver as Receiver;
  const address = addressOf(link.target);
  if (isRequestResponseNode(address)) {
    link.set_target({ address });
    link.set_source(link.source ?? {});
    if (address === CBS_ADDRESS) link.on('message', (e: EventContext) => onCbsRequest(ctx, e));
    else link.on('message', (e: EventContext) => onManagementRequest(ctx, address.slice(0, -MANAGEMENT_SUFFIX.length), e));
    return;
  }
  openQueueSenderLink(ctx, link);
}

/** A client receiver attached: a reply link for $cbs / $management, or a queue receiver. */
function onClientReceiver(ctx: StandinContext, event: EventContext): void {
  const link = event.sender as Sender;
  const address = addressOf(link.source);
  if (isRequestResponseNode(address)) {
    link.set_source({ address });
    link.set_target(link.target ?? {});
    registerReplyLink(link);
    link.on('sender_close', () => forgetReplyLink(link));
    return;
  }
  openQueueReceiverLink(ctx, link);
}

export async function startAmqpServer(ctx: StandinContext, host: string, port: number): Promise<AmqpServer> {
  const container = rhea.create_container({
    id: 'servicebus-standin',
    // Abandon and defer arrive as `modified`; rhea would report them as `released`.
    treat_modified_as_released: false,
    // Every transfer is accepted or rejected explicitly (quota, size, auth).
    autoaccept: false,
  });
  const connections = new Set<Connection>();
  const sockets = new Set<Socket>();

  container.on('connection_open', (event: EventContext) => {
    connections.add(event.connection);
  });
  container.on('disconnected', (event: EventContext) => {
    connections.delete(event.connection);
    forgetConnectionConsumers((link) => link.connection === event.connection);
  });
  container.on('connection_close', (event: EventContext) => {
    forgetConnectionConsumers((link) => link.connection === event.connection);
  });
  container.on('receiver_open', (event: EventContext) => onClientSender(ctx, event));
  container.on('sender_open', (event: EventContext) => onClientReceiver(ctx, event));
  // Without these listeners an 'error' event would throw and take the process down.
  container.on('error', (err: unknown) => ctx.logger.debug({ err }, 'Observed AMQP error'));
  container.on('connection_error', (event: EventContext) => ctx.logger.debug({ err: event.connection.error }, 'Observed AMQP connection error'));
  container.on('protocol_error', (err: unknown) => ctx.logger.warn({ err }, 'Observed AMQP protocol error'));
  for (const name of ['sender_error', 'receiver_error', 'session_error']) container.on(name, () => undefined);

  const server = container.listen({ host, port });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });

  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections) {
        try {
          connection.close();
        } catch {
          // already closing
        }
      }
      // Give the close frames a moment, then cut whatever is left.
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
