// The Service Bus stand-in (npm start's broker) with the real SDK, a raw rhea peer and raw
// sockets. Expected answers: src/servicebus-standin/README.md ("Connection and auth",
// "Limits before authentication and before assembly").
import { once } from 'node:events';
import { connect as tcpConnect } from 'node:net';
import rhea, { type EventContext } from 'rhea';
import { ServiceBusClient } from '@azure/service-bus';
import { signSas } from '../../src/servicebus-standin/sas.ts';
import { fastClientOptions, serviceBusClient, startServiceBusStandin, type ServiceBusStandin } from '../support/servicebus.ts';
import type { Case } from './runner.ts';

export const ROOT_KEY = 'root-key-for-the-security-suite';

export async function startStandin(): Promise<ServiceBusStandin> {
  return await startServiceBusStandin({
    keys: { RootManageSharedAccessKey: { key: ROOT_KEY }, ListenOnly: { key: 'listen-only-key', rights: ['Listen'] } },
    queues: ['queue-a', 'queue-b', 'health'],
    authTimeoutSeconds: 1,
  });
}

type CodedError = Error & { code?: string };

async function sdkError(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
    return 'accepted';
  } catch (error) {
    const e = error as CodedError;
    return `${e.name} ${e.code ?? e.message}`;
  }
}

/** Writes bytes to the AMQP port; `connection cut` when the stand-in closes the socket within 5 s. */
async function rawAmqp(standin: ServiceBusStandin, bytes: Buffer): Promise<string> {
  const socket = tcpConnect(standin.amqpPort, standin.host);
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  await once(socket, 'connect');
  const closed = once(socket, 'close').then(() => 'connection cut');
  socket.write(bytes);
  const open = new Promise<string>((resolve) => setTimeout(() => resolve('connection still open after 5 s'), 5_000));
  const result = await Promise.race([closed, open]);
  socket.destroy();
  return result;
}

/** Sends and receives one message on the health queue: undefined when the stand-in still serves. */
export async function standinHealth(standin: ServiceBusStandin): Promise<string | undefined> {
  const client = serviceBusClient(standin);
  try {
    const sender = client.createSender('health');
    const receiver = client.createReceiver('health', { receiveMode: 'receiveAndDelete' });
    await sender.sendMessages({ body: 'ping' });
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 3_000 });
    return m?.body === 'ping' ? undefined : 'a message sent to the health queue did not come back';
  } catch (error) {
    return `stand-in no longer serves: ${(error as Error).message}`;
  } finally {
    await client.close();
  }
}

export function standinCases(get: () => ServiceBusStandin): Case[] {
  const atom = async (path: string, authorization?: string): Promise<string> => {
    const s = get();
    const response = await fetch(`http://${s.host}:${s.httpPort}${path}?api-version=2021-05`, {
      headers: authorization ? { authorization } : {},
      signal: AbortSignal.timeout(5_000),
    });
    await response.body?.cancel();
    return String(response.status);
  };
  const scopedToA = (): string =>
    signSas(`sb://${get().host}:${get().httpPort}/queue-a`, 'RootManageSharedAccessKey', ROOT_KEY, Math.floor(Date.now() / 1000) + 600);
  return [
    {
      id: 'sb-oversize',
      attack: 'the SDK sends a 1 MiB message (limit 256 KiB)',
      expected: 'ServiceBusError MessageSizeExceeded',
      run: async () => {
        const client = serviceBusClient(get());
        try {
          return await sdkError(() => client.createSender('queue-a').sendMessages({ body: Buffer.alloc(1024 * 1024, 7) }));
        } finally {
          await client.close();
        }
      },
    },
    {
      id: 'sb-huge-frame',
      attack: 'raw AMQP header, then a frame declaring 512 MiB',
      expected: 'connection cut',
      run: async () => {
        const frame = Buffer.alloc(8);
        frame.writeUInt32BE(512 * 1024 * 1024, 0);
        frame.writeUInt8(2, 4);
        frame.writeUInt8(1, 5);
        return await rawAmqp(get(), Buffer.concat([Buffer.from([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0]), frame]));
      },
    },
    {
      id: 'sb-garbage',
      attack: 'an HTTP request to the AMQP port',
      expected: 'connection cut',
      run: () => rawAmqp(get(), Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n')),
    },
    {
      id: 'sb-no-token',
      attack: 'an AMQP peer that never puts a CBS token',
      expected: 'closed amqp:unauthorized-access',
      run: async () => {
        const s = get();
        const connection = rhea.create_container({ id: 'no-token' }).connect({ host: s.host, port: s.amqpPort, reconnect: false });
        connection.on('disconnected', () => undefined);
        connection.on('connection_error', () => undefined);
        try {
          const [event] = (await once(connection, 'connection_close')) as [EventContext];
          return `closed ${(event.connection.error as { condition?: string } | undefined)?.condition}`;
        } finally {
          connection.close();
        }
      },
    },
    {
      id: 'sb-wrong-key',
      attack: 'the SDK with a wrong SAS key',
      expected: 'ServiceBusError UnauthorizedAccess',
      run: async () => {
        const s = get();
        const client = new ServiceBusClient(s.connectionString.replace(/SharedAccessKey=[^;]+/, 'SharedAccessKey=wrong'), fastClientOptions);
        try {
          return await sdkError(() => client.createSender('queue-a').sendMessages({ body: 'x' }));
        } finally {
          await client.close();
        }
      },
    },
    {
      id: 'sb-listen-sends',
      attack: 'a Listen-only key sends',
      expected: 'ServiceBusError UnauthorizedAccess',
      run: async () => {
        const client = new ServiceBusClient(get().connectionStringsFor('ListenOnly').connectionString, fastClientOptions);
        try {
          return await sdkError(() => client.createSender('queue-a').sendMessages({ body: 'x' }));
        } finally {
          await client.close();
        }
      },
    },
    { id: 'sb-atom-anonymous', attack: 'ATOM GET /queue-a without a token', expected: '401', run: () => atom('/queue-a') },
    { id: 'sb-scoped-other-queue', attack: 'a token signed for queue-a reads queue-b', expected: '401', run: () => atom('/queue-b', scopedToA()) },
    { id: 'sb-scoped-list', attack: 'a token signed for queue-a lists the queues', expected: '401', run: () => atom('/$Resources/Queues', scopedToA()) },
    { id: 'sb-scoped-dotdot', attack: 'a queue-a token on /queue-a/../queue-b', expected: '401', run: () => atom('/queue-a/../queue-b', scopedToA()) },
    {
      id: 'sb-listen-atom',
      attack: 'a Listen-only key on the ATOM API (needs Manage)',
      expected: '401',
      run: () => atom('/queue-a', signSas(`sb://${get().host}/`, 'ListenOnly', 'listen-only-key', Math.floor(Date.now() / 1000) + 600)),
    },
  ];
}
