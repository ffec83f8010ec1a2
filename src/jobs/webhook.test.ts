// Delivery through the egress policy, against a receiver on loopback: a refused target is
// never contacted and never retried; an allowed one is reached at the vetted address with
// the URL's Host header; redirects are not followed; the limiter caps concurrency.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:tls';
import { EgressPolicy } from './egress.ts';
import { DELIVERY_HEADER, DeliveryLimiter, DeliveryQueueFullError, deliverWebhook, type Resolver } from './webhook.ts';

let receiver: Server;
let port: number;
const seen: { url: string | undefined; headers: IncomingHttpHeaders }[] = [];
/** Status the receiver answers with next; 204 by default. */
let answer = 204;

before(async () => {
  receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      seen.push({ url: request.url, headers: request.headers });
      response.writeHead(answer, answer === 302 ? { location: `http://127.0.0.1:${port}/elsewhere` } : {}).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  port = typeof address === 'object' && address ? address.port : 0;
});

after(() => receiver.close());

const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, timeoutMs: 2_000 } as const;
const loopbackAllowed = new EgressPolicy({ allowHttp: true, allowedHosts: ['127.0.0.1'] });

function fixedResolver(addresses: string[], calls: string[] = []): Resolver {
  return async (host) => {
    calls.push(host);
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

void describe('webhook delivery through the egress policy', () => {
  void it('refuses a loopback receiver by default: nothing is sent and nothing is retried', async () => {
    seen.length = 0;
    const outcome = await deliverWebhook(`http://127.0.0.1:${port}/hook`, 's', 'job.succeeded', {}, fast);
    assert.equal(outcome.delivered, false);
    assert.equal(outcome.attempts, 1);
    assert.equal(outcome.refused?.reason, 'http');
    const https = await deliverWebhook(`https://127.0.0.1:${port}/hook`, 's', 'job.succeeded', {}, { ...fast, egress: new EgressPolicy() });
    assert.deepEqual([https.refused?.reason, https.refused?.address, https.attempts], ['loopback', '127.0.0.1', 1]);
    assert.equal(seen.length, 0);
  });

  void it('refuses loopback with http allowed but no allowlist entry', async () => {
    seen.length = 0;
    const egress = new EgressPolicy({ allowHttp: true, allowedHosts: [] });
    const outcome = await deliverWebhook(`http://127.0.0.1:${port}/hook`, 's', 'job.succeeded', {}, { ...fast, egress });
    assert.equal(outcome.refused?.reason, 'loopback');
    assert.equal(seen.length, 0);
  });

  void it('delivers to loopback when the allowlist names 127.0.0.1', async () => {
    seen.length = 0;
    answer = 204;
    const outcome = await deliverWebhook(`http://127.0.0.1:${port}/hook?x=1`, 's', 'job.succeeded', { a: 1 }, { ...fast, egress: loopbackAllowed });
    assert.deepEqual([outcome.delivered, outcome.attempts, outcome.lastStatus, outcome.refused], [true, 1, 204, undefined]);
    assert.equal(seen[0]?.url, '/hook?x=1');
    assert.equal(seen[0]?.headers[DELIVERY_HEADER], outcome.deliveryId);
  });

  void it('refuses a public-looking name that resolves to loopback (DNS rebinding) before connecting', async () => {
    seen.length = 0;
    const egress = new EgressPolicy({ allowHttp: true, allowedHosts: [] });
    const resolve = fixedResolver(['127.0.0.1']);
    const outcome = await deliverWebhook(`http://rebind.example.com:${port}/hook`, 's', 'job.succeeded', {}, { ...fast, egress, resolve });
    assert.deepEqual([outcome.delivered, outcome.refused?.reason, outcome.attempts], [false, 'loopback', 1]);
    assert.equal(seen.length, 0);
  });

  void it('refuses a name when any of its addresses is refused, even if another is allowed', async () => {
    seen.length = 0;
    const resolve = fixedResolver(['127.0.0.1', '10.0.0.1']);
    const outcome = await deliverWebhook(`http://mixed.example.com:${port}/hook`, 's', 'job.succeeded', {}, { ...fast, egress: loopbackAllowed, resolve });
    assert.equal(outcome.refused?.reason, 'private');
    assert.equal(seen.length, 0);
  });

  void it('connects to the vetted address and sends the original Host header, resolving once per attempt', async () => {
    seen.length = 0;
    answer = 204;
    const calls: string[] = [];
    const resolve = fixedResolver(['127.0.0.1'], calls);
    const outcome = await deliverWebhook(`http://receiver.example.com:${port}/hook`, 's', 'job.succeeded', {}, { ...fast, egress: loopbackAllowed, resolve });
    assert.equal(outcome.delivered, true);
    assert.deepEqual(calls, ['receiver.example.com']);
    assert.equal(seen[0]?.headers.host, `receiver.example.com:${port}`);
  });

  void it('does not follow a redirect: a 3xx is a failed attempt, retried', async () => {
    seen.length = 0;
    answer = 302;
    try {
      const outcome = await deliverWebhook(`http://127.0.0.1:${port}/hook`, 's', 'job.succeeded', {}, { ...fast, egress: loopbackAllowed });
      assert.deepEqual([outcome.delivered, outcome.attempts, outcome.lastStatus], [false, 3, 302]);
      assert.deepEqual(
        seen.map((s) => s.url),
        ['/hook', '/hook', '/hook'],
      );
    } finally {
      answer = 204;
    }
  });

  void it('sends the URL host name as TLS server name while connecting to the vetted address', async () => {
    // No certificate: the handshake is refused once the server has seen the ClientHello's server name.
    const names: (string | undefined)[] = [];
    const tls = createTlsServer({
      SNICallback: (servername, callback) => {
        names.push(servername);
        callback(new Error('no certificate here'));
      },
    });
    tls.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    try {
      const address = tls.address();
      const tlsPort = typeof address === 'object' && address ? address.port : 0;
      const resolve = fixedResolver(['127.0.0.1']);
      const outcome = await deliverWebhook(
        `https://secure.example.com:${tlsPort}/hook`,
        's',
        'job.succeeded',
        {},
        { ...fast, attempts: 1, egress: loopbackAllowed, resolve },
      );
      assert.equal(outcome.delivered, false);
      assert.deepEqual(names, ['secure.example.com']);
    } finally {
      tls.close();
    }
  });

  void it('retries a resolver failure like a network error', async () => {
    const resolve: Resolver = () => Promise.reject(new Error('getaddrinfo ENOTFOUND nowhere.example.com'));
    const outcome = await deliverWebhook('https://nowhere.example.com/hook', 's', 'job.succeeded', {}, { ...fast, resolve });
    assert.deepEqual([outcome.delivered, outcome.attempts, outcome.refused], [false, 3, undefined]);
    assert.match(outcome.lastError ?? '', /Failed to resolve nowhere\.example\.com: getaddrinfo ENOTFOUND/);
  });
});

void describe('the delivery limiter', () => {
  function gate(): { promise: Promise<void>; open: () => void } {
    let open = (): void => undefined;
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    return { promise, open };
  }

  void it('runs at most maxConcurrent tasks, queues up to maxWaiting in FIFO order, and refuses beyond', async () => {
    const limiter = new DeliveryLimiter(2, 2);
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      limiter.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await assert.rejects(
      limiter.run(async () => 99),
      DeliveryQueueFullError,
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual([started, limiter.running, limiter.queued], [[0, 1], 2, 2]);
    gates[1]?.open();
    await runs[1];
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(started, [0, 1, 2]);
    for (const g of gates) g.open();
    assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3]);
    assert.deepEqual(started, [0, 1, 2, 3]);
    assert.deepEqual([limiter.running, limiter.queued], [0, 0]);
  });

  void it('lets a waiter give up when its signal aborts, without losing the slot', async () => {
    const limiter = new DeliveryLimiter(1, 5);
    const first = gate();
    const running = limiter.run(() => first.promise);
    const abort = new AbortController();
    const waiting = limiter.run(async () => 'never', abort.signal);
    const after = limiter.run(async () => 'next');
    abort.abort();
    await assert.rejects(waiting, /Stopped waiting/);
    assert.equal(limiter.queued, 1);
    first.open();
    await running;
    assert.equal(await after, 'next');
    assert.deepEqual([limiter.running, limiter.queued], [0, 0]);
  });

  void it('turns a full queue into a failed attempt of the delivery', async () => {
    const limiter = new DeliveryLimiter(1, 0);
    const hold = gate();
    const busy = limiter.run(() => hold.promise);
    const outcome = await deliverWebhook(`http://127.0.0.1:${port}/hook`, 's', 'job.succeeded', {}, { ...fast, attempts: 1, egress: loopbackAllowed, limiter });
    assert.deepEqual([outcome.delivered, outcome.attempts], [false, 1]);
    assert.match(outcome.lastError ?? '', /already waiting/);
    hold.open();
    await busy;
  });
});
