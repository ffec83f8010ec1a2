// Contract: the stand-in's limits hold before a peer has authenticated and before a
// message is assembled (issue 13, item 8), and ATOM tokens are checked against the
// resource they were signed for. The real SDK where it can reach the limit; a raw rhea
// peer or raw TCP/HTTP where the SDK would never misbehave that way.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tcpConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import rhea, { type Connection, type EventContext } from 'rhea';
import type { ServiceBusAdministrationClient, ServiceBusClient } from '@azure/service-bus';
import { adminClient, serviceBusClient, startServiceBusStandin, type ServiceBusStandin } from '../../support/servicebus.ts';
import { signSas } from '../../../src/servicebus-standin/sas.ts';

type CodedError = Error & { code?: string; statusCode?: number };

const ROOT_KEY = 'root-key-for-limit-tests';
const KIB = 1024;
const MAX_MESSAGE = 256 * KIB;

/** A raw rhea connection whose writes stop after `budget` bytes once `limit()` is called. */
async function rawPeer(standin: ServiceBusStandin): Promise<{ connection: Connection; limit(budget: number): void }> {
  let budget = Number.POSITIVE_INFINITY;
  const connection = rhea.create_container({ id: 'raw-peer' }).connect({
    host: standin.host,
    port: standin.amqpPort,
    reconnect: false,
    connect: (port: number, host: string, _options: unknown, callback: () => void): Socket => {
      const socket = tcpConnect(port, host, callback);
      const write = socket.write.bind(socket);
      // rhea writes one frame per call; a peer that "never finishes" drops the rest.
      socket.write = (chunk: Buffer) => {
        if (chunk.length > budget) return true;
        budget -= chunk.length;
        return write(chunk);
      };
      return socket;
    },
  } as unknown as rhea.ConnectionOptions);
  connection.on('disconnected', () => undefined);
  connection.on('connection_error', () => undefined);
  await once(connection, 'connection_open');
  return { connection, limit: (bytes) => (budget = bytes) };
}

void describe('stand-in limits before assembly and before authentication', () => {
  let standin: ServiceBusStandin;
  let client: ServiceBusClient;
  let admin: ServiceBusAdministrationClient;

  before(async () => {
    standin = await startServiceBusStandin({
      keys: { RootManageSharedAccessKey: { key: ROOT_KEY } },
      queues: ['queue-a', 'queue-b'],
    });
    client = serviceBusClient(standin);
    admin = adminClient(standin);
  });
  after(async () => {
    await client?.close();
    await standin?.close();
  });

  void it('an oversized message is refused with MessageSizeExceeded, and the same sender then sends and receives', async () => {
    const sender = client.createSender('queue-a');
    const receiver = client.createReceiver('queue-a', { receiveMode: 'receiveAndDelete' });
    try {
      // A single message is not checked by the SDK: 1 MiB reaches the stand-in in four frames.
      await assert.rejects(sender.sendMessages({ body: Buffer.alloc(1024 * KIB, 7) }), (error: CodedError) => {
        assert.equal(error.name, 'ServiceBusError');
        assert.equal(error.code, 'MessageSizeExceeded', error.message);
        return true;
      });
      // An array is batched by the SDK against the announced max-message-size and refused before sending.
      await assert.rejects(
        sender.sendMessages([{ body: Buffer.alloc(200 * KIB) }, { body: Buffer.alloc(200 * KIB) }]),
        (error: CodedError) => error.code === 'MessageSizeExceeded',
      );
      await sender.sendMessages({ body: 'still healthy' });
      const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      assert.equal(message?.body, 'still healthy');
      assert.equal((await admin.getQueueRuntimeProperties('queue-a')).activeMessageCount, 0);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  void it('announces a 256 KiB max-frame-size and refuses an unfinished transfer before its last frame, without a token', async () => {
    const peer = await rawPeer(standin);
    try {
      assert.equal(peer.connection.max_frame_size, 256 * KIB);
      // $cbs takes messages from anyone: it is where an unauthenticated peer can send.
      const sender = peer.connection.open_sender({ target: { address: '$cbs' } });
      await once(sender, 'sendable');
      // The first two frames (about 512 KiB) go out; the last two never do.
      peer.limit(2 * 256 * KIB + 1024);
      const refused = new Promise<EventContext>((resolve) => sender.once('rejected', resolve));
      sender.send({ body: Buffer.alloc(1024 * KIB, 1) });
      const event = await Promise.race([refused, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no disposition within 5 s')), 5000))]);
      const error = (event.delivery?.remote_state as { error?: { condition?: string; description?: string } } | undefined)?.error;
      assert.equal(error?.condition, 'amqp:link:message-size-exceeded');
      assert.match(error?.description ?? '', new RegExp(`maximum of ${MAX_MESSAGE} bytes`));
    } finally {
      peer.connection.close();
    }
  });

  void it('cuts a connection that declares a frame larger than max-frame-size, and keeps serving others', async () => {
    const socket = tcpConnect(standin.amqpPort, standin.host);
    await once(socket, 'connect');
    const closed = once(socket, 'close');
    const sasl = Buffer.from([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0]);
    const hugeFrame = Buffer.alloc(8);
    hugeFrame.writeUInt32BE(512 * 1024 * 1024, 0); // declares 512 MiB and sends 8 bytes of it
    hugeFrame.writeUInt8(2, 4);
    hugeFrame.writeUInt8(1, 5);
    socket.write(Buffer.concat([sasl, hugeFrame]));
    socket.on('error', () => undefined);
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the socket was not closed within 5 s')), 5000))]);

    const sender = client.createSender('queue-b');
    try {
      await sender.sendMessages({ body: 'after the huge frame' });
      assert.equal((await admin.getQueueRuntimeProperties('queue-b')).activeMessageCount, 1);
    } finally {
      await sender.close();
    }
  });

  void it('a token signed for queue A reads queue A through ATOM, not queue B, nor the queue list', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const scoped = signSas(`sb://${standin.host}:${standin.httpPort}/queue-a`, 'RootManageSharedAccessKey', ROOT_KEY, exp);
    // The SDK signs each request for its own URL; this policy hands it a token scoped to
    // queue A instead, as a holder of only that token would.
    const scopedAdmin = adminClient(standin);
    scopedAdmin.pipeline.addPolicy(
      {
        name: 'queue-a-token',
        sendRequest: (request, next) => {
          request.headers.set('authorization', scoped);
          return next(request);
        },
      },
      { phase: 'Sign' },
    );
    assert.equal((await scopedAdmin.getQueueRuntimeProperties('queue-a')).name, 'queue-a');
    await assert.rejects(scopedAdmin.getQueueRuntimeProperties('queue-b'), (error: CodedError) => {
      assert.equal(error.statusCode, 401);
      assert.match(error.message, /InvalidAudience/);
      return true;
    });

    const base = `http://${standin.host}:${standin.httpPort}`;
    const get = (path: string): Promise<Response> => fetch(`${base}${path}?api-version=2021-05`, { headers: { authorization: scoped } });
    assert.equal((await get('/queue-a')).status, 200);
    assert.equal((await get('/QUEUE-A')).status, 200);
    const other = await get('/queue-b');
    assert.equal(other.status, 401);
    assert.match(await other.text(), /InvalidAudience: the token was signed for .*queue-a.*does not cover &apos;\/queue-b&apos;/);
    assert.equal((await get('/$Resources/Queues')).status, 401);
    assert.equal((await get('/queue-a/../queue-b')).status, 401);
    const namespace = signSas(`sb://${standin.host}/`, 'RootManageSharedAccessKey', ROOT_KEY, exp);
    assert.equal((await fetch(`${base}/queue-b?api-version=2021-05`, { headers: { authorization: namespace } })).status, 200);
  });
});

void describe('stand-in CBS deadline', () => {
  let standin: ServiceBusStandin;

  before(async () => {
    standin = await startServiceBusStandin({ keys: { RootManageSharedAccessKey: { key: ROOT_KEY } }, queues: ['q'], authTimeoutSeconds: 0.3 });
  });
  after(async () => {
    await standin?.close();
  });

  void it('closes a connection that puts no CBS token in time, and keeps one that did', async () => {
    const peer = await rawPeer(standin);
    const [event] = (await Promise.race([
      once(peer.connection, 'connection_close'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('not closed within 5 s')), 5000)),
    ])) as [EventContext];
    assert.equal((event.connection.error as { condition?: string } | undefined)?.condition, 'amqp:unauthorized-access');
    peer.connection.close();

    const client = serviceBusClient(standin);
    const sender = client.createSender('q');
    try {
      await sender.sendMessages({ body: 'first' });
      await new Promise((resolve) => setTimeout(resolve, 600)); // past the deadline
      await sender.sendMessages({ body: 'second' });
      assert.equal(standin.counts('q').activeMessageCount, 2);
    } finally {
      await client.close();
    }
  });
});
