// The informer against an API server stand-in on loopback that answers lists and watches from
// a script: what it caches, which callbacks it calls, and how it resumes, relists and retries.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubernetesObject } from '@kubernetes/client-node';
import { silentLogger } from '../../shared/logger.ts';
import { KubeClient } from './client.ts';
import { Informer, LIST_PAGE_SIZE } from './informer.ts';

const PATH = '/api/v1/namespaces/ns/configmaps';
const obj = (name: string, rv: string, extra: Record<string, unknown> = {}): KubernetesObject => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
  ...extra,
});
const list = (rv: string, items: KubernetesObject[]) => JSON.stringify({ metadata: { resourceVersion: rv }, items });
const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;

/** One watch request as the script sees it: its query, and the response to write events to. */
interface WatchCall {
  query: URLSearchParams;
  res: ServerResponse;
}

void describe('the informer', () => {
  let server: Server;
  let port = 0;
  let lists: URLSearchParams[] = [];
  let watches: WatchCall[] = [];
  let listReply: () => string = () => list('1', []);
  let listStatus = 200;
  let watchStatus = 200;
  let onWatch: (w: WatchCall) => void = () => undefined;
  let informer: Informer<KubernetesObject> | undefined;

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.searchParams.get('watch') !== 'true') {
        lists.push(url.searchParams);
        if (listStatus !== 200)
          res.writeHead(listStatus, { 'content-type': 'application/json' }).end('{"message":"the server could not find the requested resource"}');
        else res.writeHead(200, { 'content-type': 'application/json' }).end(listReply());
        return;
      }
      if (watchStatus !== 200) {
        watches.push({ query: url.searchParams, res });
        res.writeHead(watchStatus, { 'content-type': 'application/json' }).end('{"message":"no"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      const call = { query: url.searchParams, res };
      watches.push(call);
      onWatch(call);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(async () => {
    await informer?.stop();
    [lists, watches, listStatus, watchStatus, onWatch] = [[], [], 200, 200, () => undefined];
  });

  const start = async (
    opts: { inactivityMs?: number; trim?: (o: KubernetesObject) => KubernetesObject; pageSize?: number; optional?: { recheckMs: number } } = {},
  ) => {
    const client = new KubeClient(
      { server: `http://127.0.0.1:${port}`, tls: { insecureSkipVerify: false }, token: () => undefined, source: 'test' },
      { log: silentLogger() },
    );
    informer = new Informer(client, { path: PATH, labelSelector: 'a=b', trim: opts.trim ?? ((o) => o), log: silentLogger(), random: () => 0.5, ...opts });
    const seen: string[] = [];
    for (const verb of ['add', 'update', 'delete'] as const)
      informer.on(verb, (o) => seen.push(`${verb} ${o.metadata?.name ?? ''}@${o.metadata?.resourceVersion ?? ''}`));
    await informer.start();
    return { informer, seen };
  };
  const until = async (what: string, check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(check(), what);
  };

  void it('lists, then watches from the list resourceVersion with bookmarks, a server timeout and the label selector', async () => {
    listReply = () => list('5', [obj('a', '4')]);
    const { informer: inf, seen } = await start();
    await until('a watch was opened', () => watches.length === 1);
    assert.equal(lists[0]?.get('labelSelector'), 'a=b');
    const q = watches[0]!.query;
    assert.deepEqual([q.get('resourceVersion'), q.get('allowWatchBookmarks'), q.get('labelSelector'), q.get('timeoutSeconds')], ['5', 'true', 'a=b', '450']);
    assert.deepEqual(seen, ['add a@4']);
    assert.deepEqual(inf.get('a', 'ns'), obj('a', '4'));
  });

  void it('added, modified and deleted events update the trimmed cache and call back; a bookmark only moves the resourceVersion', async () => {
    listReply = () => list('5', []);
    onWatch = ({ res }) => {
      res.write(line('ADDED', obj('a', '6', { data: { big: 'x' } })));
      res.write(line('MODIFIED', obj('a', '7', { data: { big: 'y' } })));
      res.write(line('ADDED', obj('b', '8')));
      res.write(line('DELETED', obj('b', '9')));
      res.write(line('BOOKMARK', { metadata: { resourceVersion: '12' } }));
    };
    const { informer: inf, seen } = await start({ trim: (o) => ({ metadata: o.metadata }) });
    await until('the bookmark was read', () => inf.resourceVersion === '12');
    assert.deepEqual(seen, ['add a@6', 'update a@7', 'add b@8', 'delete b@9']);
    assert.deepEqual(inf.list('ns'), [{ metadata: obj('a', '7').metadata }]);
  });

  void it('a watch the server ends resumes from the last resourceVersion without a relist', async () => {
    listReply = () => list('5', []);
    onWatch = ({ res }) => {
      if (watches.length === 1) setTimeout(() => res.end(line('BOOKMARK', { metadata: { resourceVersion: '20' } })), 1_100);
    };
    await start();
    await until('a second watch was opened', () => watches.length === 2);
    assert.equal(watches[1]!.query.get('resourceVersion'), '20');
    assert.equal(lists.length, 1);
  });

  void it('410 Gone relists, and objects missing from the new list are reported deleted', async () => {
    listReply = () => (lists.length === 1 ? list('5', [obj('a', '4'), obj('b', '4')]) : list('30', [obj('a', '25')]));
    onWatch = ({ res }) => {
      if (watches.length === 1) res.end(line('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' }));
    };
    const { seen } = await start();
    await until('a watch from the new list was opened', () => watches.length === 2);
    assert.equal(lists.length, 2);
    assert.equal(watches[1]!.query.get('resourceVersion'), '30');
    assert.deepEqual(seen, ['add a@4', 'add b@4', 'delete b@4', 'update a@25']);
  });

  void it('a refused watch is retried after the base delay, from the same resourceVersion', { timeout: 10_000 }, async () => {
    listReply = () => list('5', []);
    watchStatus = 500;
    await start();
    await until('the first watch was refused', () => watches.length === 1);
    const refusedAt = performance.now();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(watches.length, 1, 'no retry before the delay');
    watchStatus = 200;
    await until('the watch was retried', () => watches.length === 2);
    assert.ok(performance.now() - refusedAt >= 900, 'waited about WATCH_RETRY.baseMs');
    assert.equal(watches[1]!.query.get('resourceVersion'), '5');
  });

  void it('a watch silent beyond its inactivity limit is reopened at once from its resourceVersion', async () => {
    listReply = () => list('5', []);
    await start({ inactivityMs: 300 });
    await until('the silent watch was replaced', () => watches.length >= 2);
    assert.equal(watches[1]!.query.get('resourceVersion'), '5');
    assert.equal(lists.length, 1);
  });

  void it('lists in pages of LIST_PAGE_SIZE by default, following continue tokens until the last page, and trims every object', async () => {
    // 5 objects, 2 per page: pages "", "c1", "c2"; the watch starts at the list's resourceVersion.
    const all = ['a', 'b', 'c', 'd', 'e'].map((n) => obj(n, '3', { data: { big: 'x'.repeat(100) } }));
    listReply = () => {
      const from = Number(lists.at(-1)?.get('continue')?.slice(1) ?? 0) * 2;
      const next = from + 2 < all.length ? `c${from / 2 + 1}` : undefined;
      return JSON.stringify({ metadata: { resourceVersion: '9', ...(next ? { continue: next } : {}) }, items: all.slice(from, from + 2) });
    };
    const { informer: inf, seen } = await start({ pageSize: 2, trim: (o) => ({ metadata: o.metadata }) });
    assert.deepEqual(
      lists.map((q) => [q.get('limit'), q.get('continue'), q.get('labelSelector')]),
      [
        ['2', null, 'a=b'],
        ['2', 'c1', 'a=b'],
        ['2', 'c2', 'a=b'],
      ],
    );
    assert.deepEqual(seen, ['add a@3', 'add b@3', 'add c@3', 'add d@3', 'add e@3']);
    assert.deepEqual(inf.get('e', 'ns'), { metadata: all[4]!.metadata });
    await until('a watch was opened', () => watches.length === 1);
    assert.equal(watches[0]!.query.get('resourceVersion'), '9');
    // The default page size.
    await inf.stop();
    lists = [];
    listReply = () => list('1', []);
    await start();
    assert.equal(lists[0]?.get('limit'), String(LIST_PAGE_SIZE));
  });

  void it('an optional kind that is not served (404) is an empty cache, checked again, and watched once it is served', { timeout: 10_000 }, async () => {
    listStatus = 404;
    const { informer: inf, seen } = await start({ optional: { recheckMs: 200 } });
    assert.equal(inf.served, false);
    assert.deepEqual(inf.list(), []);
    await until('the list was tried again', () => lists.length >= 2);
    assert.equal(watches.length, 0, 'no watch of a kind that is not served');
    listStatus = 200;
    listReply = () => list('5', [obj('a', '4')]);
    await until('the kind was listed and watched', () => watches.length === 1);
    assert.equal(inf.served, true);
    assert.deepEqual(seen, ['add a@4']);
  });

  void it('a kind that is not optional treats 404 as a failure: retried with backoff, not every recheck', { timeout: 10_000 }, async () => {
    listStatus = 404;
    const startedAt = performance.now();
    const { informer: inf } = await start(); // waits out the first retry delay (about WATCH_RETRY.baseMs) before it resolves
    assert.ok(performance.now() - startedAt >= 700, 'the failed first list waited the retry delay');
    assert.equal(inf.served, true);
    await until('the list was retried', () => lists.length === 2);
  });

  void it('stop ends the watch and nothing is reopened', async () => {
    listReply = () => list('5', []);
    const { informer: inf } = await start();
    await until('a watch was opened', () => watches.length === 1);
    await inf.stop();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(watches.length, 1);
  });
});
