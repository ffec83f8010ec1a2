import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import { alive, createProbeServer, listen, metrics, readiness } from './probe-server.ts';

void describe('probe server', () => {
  let server: Server;
  let base: string;
  let ready = false;
  const registry = new Registry();
  before(async () => {
    server = createProbeServer({
      '/live': alive,
      '/ready': readiness(
        () => ready,
        (ok) => (ok ? 'ready\n' : 'not ready\n'),
      ),
      '/metrics': metrics(registry),
    });
    base = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const cases: { what: string; method?: string; path: string; status: number; body?: string; allow?: string }[] = [
    { what: 'liveness answers 200 ok', path: '/live', status: 200, body: 'ok\n' },
    { what: 'readiness answers 503 with its reason while not ready', path: '/ready', status: 503, body: 'not ready\n' },
    { what: 'a query string does not change the route', path: '/live?verbose=1', status: 200, body: 'ok\n' },
    { what: 'an unknown path is 404 and names the routes', path: '/nope', status: 404, body: 'not found: try /live, /ready, /metrics\n' },
    { what: 'a POST is 405 with Allow', method: 'POST', path: '/live', status: 405, allow: 'GET, HEAD' },
  ];
  for (const c of cases) {
    void it(c.what, async () => {
      const res = await fetch(`${base}${c.path}`, { method: c.method ?? 'GET' });
      assert.equal(res.status, c.status);
      if (c.body !== undefined) assert.equal(await res.text(), c.body);
      if (c.allow !== undefined) assert.equal(res.headers.get('allow'), c.allow);
    });
  }

  void it('readiness answers 200 once ready, and /metrics serves the registry', async () => {
    ready = true;
    assert.equal((await fetch(`${base}/ready`)).status, 200);
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), registry.contentType);
  });
});

void it("a handler reads its request's query string (the operator's /v1/backlog?namespace=&pipeline=)", async () => {
  const server = createProbeServer({ '/echo': (url) => ({ status: 200, body: `${url.searchParams.get('name') ?? '-'}\n` }) });
  const port = await listen(server, 0, '127.0.0.1');
  try {
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/echo?name=invoices`)).text(), 'invoices\n');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
