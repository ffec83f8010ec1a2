// One loopback port for the Service Bus stand-in's two listeners, as a real namespace has
// one host for both: AMQP (the SDK's senders and receivers) and HTTP (the ATOM management
// API the operator polls for queue depth, and the worker for queue properties). A pipeline
// names one connection string Secret for everything, so the local platform needs one
// endpoint that speaks both. The first bytes decide: an AMQP connection opens with the
// protocol header "AMQP" (0x41 0x4d 0x51 0x50); anything else is HTTP.
import { connect, createServer, type Server, type Socket } from 'node:net';

export const AMQP_HEADER = Buffer.from('AMQP', 'latin1');

/** Which listener a connection's first bytes belong to; undefined until 4 bytes (or a mismatch) are seen. */
export function sniffProtocol(first: Buffer): 'amqp' | 'http' | undefined {
  const n = Math.min(first.length, AMQP_HEADER.length);
  if (!first.subarray(0, n).equals(AMQP_HEADER.subarray(0, n))) return 'http';
  return first.length >= AMQP_HEADER.length ? 'amqp' : undefined;
}

/** The same connection string with the Endpoint's port replaced (the rest, keys included, untouched). */
export function withEndpointPort(connectionString: string, port: number): string {
  return connectionString.replace(/(Endpoint=sb:\/\/[^:;/]+):\d+/i, `$1:${port}`);
}

export interface ServiceBusMux {
  port: number;
  close(): Promise<void>;
}

export async function startServiceBusMux(amqpPort: number, httpPort: number, port = 0): Promise<ServiceBusMux> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const protocol = sniffProtocol(head);
      if (!protocol) return;
      client.off('data', onData);
      client.pause();
      const upstream = connect({ host: '127.0.0.1', port: protocol === 'amqp' ? amqpPort : httpPort });
      sockets.add(upstream);
      upstream.once('close', () => {
        sockets.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => upstream.destroy());
      client.once('close', () => upstream.destroy());
      upstream.once('connect', () => {
        upstream.write(head);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
