import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../shared/logger.ts';
import { ApiError, KubeClient, queryString } from './client.ts';
import { DEFAULT_REQUEST_POLICY, parseRetryAfter, resourceOf, retryDelay, retryableStatus, type RequestPolicy } from './retry.ts';

const NOW = Date.UTC(2026, 0, 1, 0, 0, 0);

void describe('Retry-After', () => {
  const cases: { name: string; value: string | undefined; ms: number | undefined }[] = [
    { name: 'absent: the backoff decides', value: undefined, ms: undefined },
    { name: 'delta-seconds are read as seconds', value: '3', ms: 3_000 },
    { name: 'zero means at once', value: '0', ms: 0 },
    { name: 'surrounding spaces are ignored', value: ' 2 ', ms: 2_000 },
    { name: 'an HTTP-date is the time until then', value: new Date(NOW + 5_000).toUTCString(), ms: 5_000 },
    { name: 'an HTTP-date in the past means at once', value: new Date(NOW - 5_000).toUTCString(), ms: 0 },
    { name: 'a negative number is unreadable', value: '-1', ms: undefined },
    { name: 'garbage is unreadable', value: 'soon', ms: undefined },
  ];
  for (const c of cases) void it(c.name, () => assert.equal(parseRetryAfter(c.value, NOW), c.ms));
});

void describe('which answers are retried', () => {
  const cases: [number, boolean][] = [
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [200, false],
    [404, false],
    [409, false],
    [422, false],
    [501, false],
  ];
  for (const [status, retried] of cases) void it(`${status} is ${retried ? '' : 'not '}retried`, () => assert.equal(retryableStatus(status), retried));
});

void describe('retry delay', () => {
  const policy: RequestPolicy = { ...DEFAULT_REQUEST_POLICY, baseDelayMs: 250, maxDelayMs: 10_000 };
  const cases: { name: string; attempt: number; retryAfterMs?: number; random: number; ms: number }[] = [
    { name: 'the server Retry-After wins over the backoff', attempt: 1, retryAfterMs: 3_000, random: 1, ms: 3_000 },
    { name: 'a Retry-After above the cap waits the cap', attempt: 1, retryAfterMs: 60_000, random: 1, ms: 10_000 },
    { name: 'without Retry-After the first wait is at most the base', attempt: 1, random: 1, ms: 250 },
    { name: 'and at least half of it', attempt: 1, random: 0, ms: 125 },
    { name: 'it doubles per attempt', attempt: 3, random: 1, ms: 1_000 },
    { name: 'it never exceeds the cap', attempt: 20, random: 1, ms: 10_000 },
  ];
  for (const c of cases)
    void it(c.name, () =>
      assert.equal(
        retryDelay(c.attempt, c.retryAfterMs, policy, () => c.random),
        c.ms,
      ),
    );
});

/** An API server stand-in on loopback: answers from `reply`, counts requests and TCP connections. */
function fakeApiServer(reply: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  const seen = { requests: 0, connections: 0 };
  const server: Server = createServer((req, res) => reply(req, res, ++seen.requests));
  server.on('connection', () => seen.connections++);
  return { server, seen };
}

function kubeClient(port: number, policy: Partial<RequestPolicy> = {}, observe?: (verb: string, resource: string, status: number) => void): KubeClient {
  const access = { server: `http://127.0.0.1:${port}`, tls: { insecureSkipVerify: true }, token: () => 't', source: 'test' };
  return new KubeClient(access, { log: silentLogger(), policy, ...(observe ? { observe } : {}) });
}
const readNamespace = (client: KubeClient) => client.request<{ metadata?: { name?: string } }>({ method: 'GET', path: '/api/v1/namespaces/n' });

const namespaceBody = JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });

void describe('API calls through the client', () => {
  let state = fakeApiServer(() => undefined);
  let reply: (req: IncomingMessage, res: ServerResponse, n: number) => void = () => undefined;
  let port = 0;

  before(async () => {
    state = fakeApiServer((req, res, n) => reply(req, res, n));
    await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', r));
    port = (state.server.address() as AddressInfo).port;
  });
  after(async () => {
    state.server.closeAllConnections();
    await new Promise((r) => state.server.close(r));
  });

  void it('twenty sequential calls reuse a pool of at most two keep-alive connections (the library alone opened one per call)', async () => {
    reply = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(namespaceBody);
    const client = kubeClient(port);
    const before = state.seen.connections;
    for (let i = 0; i < 20; i++) await readNamespace(client);
    assert.ok(state.seen.connections - before <= 2, `${state.seen.connections - before} connections`);
  });

  void it('a 429 with Retry-After is retried until the answer is good, each attempt counted', async () => {
    reply = (_req, res, n) =>
      n % 3 === 0 ? res.writeHead(200, { 'content-type': 'application/json' }).end(namespaceBody) : res.writeHead(429, { 'retry-after': '0' }).end('{}');
    state.seen.requests = 0;
    const seen: string[] = [];
    const client = kubeClient(port, {}, (verb, resource, status) => seen.push(`${verb} ${resource} ${status}`));
    const ns = await readNamespace(client);
    assert.equal(ns.metadata?.name, 'n');
    assert.deepEqual(seen, ['GET namespaces 429', 'GET namespaces 429', 'GET namespaces 200']);
  });

  void it('a 503 that persists is returned after maxAttempts as the error it is', async () => {
    reply = (_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"overloaded"}');
    state.seen.requests = 0;
    const client = kubeClient(port, { maxAttempts: 3, baseDelayMs: 1 });
    await assert.rejects(readNamespace(client), (err: { code?: number }) => err.code === 503);
    assert.equal(state.seen.requests, 3);
  });

  void it('a 404 is not retried', async () => {
    reply = (_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
    state.seen.requests = 0;
    await assert.rejects(readNamespace(kubeClient(port)), (err: { code?: number }) => err.code === 404);
    assert.equal(state.seen.requests, 1);
  });

  void it('a call the server never answers fails after the request timeout', async () => {
    reply = () => undefined; // hangs
    const started = performance.now();
    await assert.rejects(readNamespace(kubeClient(port, { timeoutMs: 300 })), /no answer within 300 ms/);
    assert.ok(performance.now() - started < 5_000);
  });
});

void describe('the resource label of a request', () => {
  const cases: [string, string][] = [
    ['https://k/apis/apps/v1/namespaces/ns/deployments/d?fieldManager=x', 'deployments'],
    ['https://k/apis/ocrplatform.io/v1alpha1/namespaces/ns/ocrpipelines/p/status', 'ocrpipelines/status'],
    ['https://k/api/v1/namespaces/ns/events', 'events'],
    ['https://k/api/v1/namespaces/ns', 'namespaces'],
    ['https://k/apis/coordination.k8s.io/v1/namespaces/ns/leases/l', 'leases'],
    ['https://k/api/v1/secrets', 'secrets'],
  ];
  for (const [url, resource] of cases) void it(`${new URL(url).pathname} is ${resource}`, () => assert.equal(resourceOf(url), resource));
});

void describe('the query string of a request', () => {
  const cases: { name: string; query: Record<string, string | number | boolean | undefined> | undefined; expected: string }[] = [
    { name: 'no query is no question mark', query: undefined, expected: '' },
    { name: 'undefined values are left out', query: { labelSelector: undefined }, expected: '' },
    { name: 'numbers and booleans are written as text', query: { force: true, timeoutSeconds: 300 }, expected: '?force=true&timeoutSeconds=300' },
    { name: 'selectors are escaped', query: { labelSelector: 'a=b,c' }, expected: '?labelSelector=a%3Db%2Cc' },
  ];
  for (const c of cases) void it(c.name, () => assert.equal(queryString(c.query), c.expected));
});

void describe('an API error', () => {
  void it('carries the status code and the parsed Status, and says both in its message', () => {
    const err = new ApiError('GET', '/api/v1/namespaces/n', 404, { kind: 'Status', message: 'namespaces "n" not found' });
    assert.deepEqual([err.code, (err.body as { message: string }).message], [404, 'namespaces "n" not found']);
    assert.equal(err.message, 'GET /api/v1/namespaces/n: HTTP 404: namespaces "n" not found');
  });
  void it('keeps a body that is not JSON as text', () => assert.equal(new ApiError('GET', '/x', 502, 'bad gateway').message, 'GET /x: HTTP 502: bad gateway'));
});
