import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request, Agent } from 'node:http';
import { connect } from 'node:net';
import fastify from 'fastify';
import { listenAccepting } from './listen.ts';

const linux = process.platform === 'linux';

function app(): ReturnType<typeof fastify> {
  const server = fastify({ logger: false });
  server.get('/hello', async () => ({ hello: 'world' }));
  return server;
}

/** One GET on a fresh connection (no keep-alive agent): each one is a new accept. */
function getFresh(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/hello', agent: new Agent({ keepAlive: false }) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function connectError(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

void describe('listening through several accepting sockets', () => {
  for (const { sockets, spread } of [
    { sockets: 1, spread: 1 },
    { sockets: 4, spread: 2 },
  ]) {
    void it(
      `answers every fresh connection through ${sockets} socket(s) on one port, and the kernel spreads them over at least ${spread}`,
      { skip: sockets > 1 && !linux },
      async () => {
        const server = app();
        const listening = await listenAccepting(server, { port: 0, host: '127.0.0.1', backlog: 511, sockets });
        try {
          const answers = [];
          for (let i = 0; i < 10; i++) answers.push(...(await Promise.all(Array.from({ length: 20 }, () => getFresh(listening.port)))));
          assert.equal(answers.length, 200);
          for (const answer of answers) assert.deepEqual(answer, { status: 200, body: '{"hello":"world"}' });
          const accepted = listening.accepted();
          assert.equal(accepted.length, sockets);
          assert.equal(
            accepted.reduce((a, b) => a + b, 0),
            200,
            `accepted per socket: ${accepted.join(', ')}`,
          );
          assert.ok(accepted.filter((n) => n > 0).length >= spread, `accepted per socket: ${accepted.join(', ')}`);
        } finally {
          await listening.close();
          await server.close();
        }
      },
    );
  }

  void it('refuses new connections on the port once closed (the extra sockets first, then the app)', { skip: !linux }, async () => {
    const server = app();
    const listening = await listenAccepting(server, { port: 0, host: '127.0.0.1', backlog: 511, sockets: 4 });
    assert.equal((await getFresh(listening.port)).status, 200);
    await listening.close();
    await server.close();
    for (let i = 0; i < 20; i++) assert.equal(await connectError(listening.port), 'ECONNREFUSED', `attempt ${i + 1}`);
  });

  void it('closes at once while keep-alive connections are open, and the app then closes them', { skip: !linux }, async () => {
    const server = app();
    const listening = await listenAccepting(server, { port: 0, host: '127.0.0.1', backlog: 511, sockets: 4 });
    const agent = new Agent({ keepAlive: true, maxSockets: 40 });
    try {
      const get = (): Promise<number> =>
        new Promise((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port: listening.port, path: '/hello', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end();
        });
      assert.deepEqual(new Set(await Promise.all(Array.from({ length: 40 }, get))), new Set([200]));
      const accepted = listening.accepted();
      assert.ok(
        accepted.slice(1).some((n) => n > 0),
        `no keep-alive connection on an extra socket: ${accepted.join(', ')}`,
      );
      const within = (ms: number, what: Promise<unknown>): Promise<unknown> =>
        Promise.race([what, new Promise((_, reject) => setTimeout(() => reject(new Error(`not closed within ${ms} ms`)), ms).unref())]);
      await within(1_000, listening.close());
      await within(5_000, server.close());
      assert.equal(await connectError(listening.port), 'ECONNREFUSED');
    } finally {
      agent.destroy();
    }
  });

  void it('fails with the bind error, leaving nothing listening, when the port is taken by a socket without SO_REUSEPORT', async () => {
    const holder = app();
    await holder.listen({ port: 0, host: '127.0.0.1' });
    const port = (holder.server.address() as { port: number }).port;
    try {
      const server = app();
      await assert.rejects(listenAccepting(server, { port, host: '127.0.0.1', backlog: 511, sockets: 4 }), { code: 'EADDRINUSE' });
      assert.equal(server.server.listening, false);
    } finally {
      await holder.close();
    }
  });
});
