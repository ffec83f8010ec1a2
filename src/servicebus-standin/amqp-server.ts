// The AMQP 1.0 listener: a rhea container on plain TCP with the SASL layer (ANONYMOUS,
// which is what the SDK offers with a UseDevelopmentEmulator connection string). It
// routes every link attach to $cbs, $management or a queue, and tracks connections so
// close() can end them all. Before a peer has authenticated it can make the stand-in hold
// little: frames are capped at the max-frame-size we announce, an unfinished message is
// refused once it passes the message size limit, and a connection that puts no CBS token
// within the auth timeout is closed (see connection/limits.ts).
import type { AddressInfo, Socket } from 'node:net';
import rhea, { type Connection, type EventContext, type Receiver, type Sender } from 'rhea';
import type { StandinContext } from './context.ts';
import { CBS_ADDRESS, onCbsRequest } from './connection/cbs.ts';
import { forgetReplyLink, registerReplyLink } from './connection/reply-links.ts';
import { hasToken } from './connection/auth.ts';
import { FrameSizeGuard, limitDeliveries } from './connection/limits.ts';
import { MANAGEMENT_SUFFIX, onManagementRequest } from './links/management.ts';
import { openQueueSenderLink } from './links/sender.ts';
import { forgetConnectionConsumers, openQueueReceiverLink } from './links/receiver.ts';

export interface AmqpLimits {
  /** Announced as max-frame-size; a peer's larger frame closes its connection. In bytes. */
  maxFrameSize: number;
  /** A connection with no valid CBS token after this long is closed. In ms. */
  authTimeoutMs: number;
}

/** Unfinished messages one connection may hold, as a multiple of the message size limit. */
const PENDING_MESSAGES_PER_CONNECTION = 8;
/** Time a closed connection gets to read our close frame before its socket is cut, in ms. */
const CLOSE_GRACE_MS = 1000;

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

/**
 * Checks the frame sizes of everything the peer sends before rhea sees it: the first 'data'
 * listener added to the socket (rhea's, added when it accepts the socket) gets only chunks
 * the guard passed. On a refused frame the socket is destroyed and rhea never buffers it.
 */
function guardFrames(socket: Socket, maxFrameSize: number, onRefused: (reason: string) => void): void {
  const guard = new FrameSizeGuard(maxFrameSize);
  const on = socket.on.bind(socket);
  socket.on = ((event: string, listener: (...args: unknown[]) => void) => {
    if (event !== 'data') return on(event, listener);
    socket.on = on; // only rhea's listener is guarded; one guard reads each chunk once
    return on('data', (chunk: Buffer) => {
      if (socket.destroyed) return;
      const problem = guard.push(chunk);
      if (problem === undefined) listener(chunk);
      else onRefused(problem);
    });
  }) as Socket['on'];
}

function socketOf(connection: Connection): Socket | undefined {
  return (connection as unknown as { socket?: Socket }).socket;
}

export async function startAmqpServer(ctx: StandinContext, host: string, port: number, limits: AmqpLimits): Promise<AmqpServer> {
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
    limitDeliveries(event.connection, {
      maxMessageSize: ctx.maxMessageSize,
      maxPendingBytes: ctx.maxMessageSize * PENDING_MESSAGES_PER_CONNECTION,
      onRefused: (reason) => ctx.logger.info({ reason }, 'Refused a message while its frames arrived'),
    });
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

  /** Closes the connection on a socket unless it has put a CBS token by now. */
  const enforceAuthDeadline = (socket: Socket): void => {
    const connection = [...connections].find((c) => socketOf(c) === socket);
    if (connection !== undefined && hasToken(connection)) return;
    ctx.logger.info({ remote: socket.remoteAddress, timeoutMs: limits.authTimeoutMs }, 'Closed AMQP connection that put no CBS token in time');
    if (connection === undefined) {
      socket.destroy();
      return;
    }
    connection.close({ condition: 'amqp:unauthorized-access', description: `No valid token was put on $cbs within ${limits.authTimeoutMs} ms.` });
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  };

  // rhea puts max_frame_size from these options into the open performative it sends.
  const server = container.listen({ host, port, max_frame_size: limits.maxFrameSize });
  // Before rhea's own handler, so the frame guard sits in front of rhea's 'data' listener.
  server.prependListener('connection', (socket: Socket) => {
    sockets.add(socket);
    guardFrames(socket, limits.maxFrameSize, (reason) => {
      ctx.logger.warn({ remote: socket.remoteAddress, reason }, 'Closed AMQP connection that sent an oversized frame');
      socket.destroy(new Error(`Refused ${reason}.`));
    });
    const deadline = setTimeout(() => enforceAuthDeadline(socket), limits.authTimeoutMs);
    deadline.unref();
    socket.on('close', () => {
      sockets.delete(socket);
      clearTimeout(deadline);
    });
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
