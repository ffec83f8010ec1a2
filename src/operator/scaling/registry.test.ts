// The registry and its namespace pollers with an in-memory QueueReader (our own interface, not the SDK;
// the SDK path is covered against the Service Bus stand-in in test/integration/scaling/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { queueGauges } from './metrics.ts';
import { silentLogger } from '../../shared/logger.ts';
import type { PipelineSubscription } from './namespace-poller.ts';
import { QueueRegistry, type QueueRegistryOptions } from './registry.ts';
import type { QueueCredential, QueueReader } from './client.ts';
import type { QueueCounts } from './signal.ts';

const FAST = { idleMs: 40, busyMs: 10, backoffBaseMs: 10, backoffMaxMs: 40, jitter: 0, statusRefreshMs: 1_000 };

/** A namespace in memory: queues with counters, a switch to make every read fail. */
class FakeNamespace {
  queues = new Map<string, { counts: QueueCounts; status: string }>();
  reads: string[] = [];
  failWith: Error | undefined;
  readers = 0;
  reader(): QueueReader {
    this.readers += 1;
    return {
      counts: async (name) => {
        this.reads.push(name);
        if (this.failWith) throw this.failWith;
        const q = this.queues.get(name);
        if (!q) throw Object.assign(new Error('not found'), { code: 'MessageEntityNotFoundError', statusCode: 404 });
        return q.counts;
      },
      status: async (name) => {
        if (this.failWith) throw this.failWith;
        return this.queues.get(name)?.status ?? 'Active';
      },
    };
  }
  set(name: string, active: number, extra: Partial<QueueCounts> = {}, status = 'Active'): void {
    const c = { active, scheduled: 0, deadLettered: 0, transfer: 0, transferDeadLettered: 0, ...extra };
    this.queues.set(name, { counts: { total: c.active + c.scheduled + c.deadLettered, ...c }, status });
  }
}

const cs = (host: string, key = 'k1'): QueueCredential => ({
  kind: 'connectionString',
  connectionString: `Endpoint=sb://${host}/;SharedAccessKeyName=manage;SharedAccessKey=${key}`,
});

const sub = (name: string, s: Partial<PipelineSubscription> = {}): PipelineSubscription => ({
  key: `team/${name}`,
  namespace: 'team',
  pipeline: name,
  queueName: 'jobs',
  credential: cs('ns1.servicebus.windows.net'),
  countInFlight: true,
  activationMessages: 0,
  minReplicas: 1,
  workersRunning: 1,
  ...s,
});

async function until(what: string, check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function setup(ns: FakeNamespace, extra: Partial<QueueRegistryOptions> = {}) {
  const registry = new Registry();
  const changes: string[] = [];
  const pollers = new QueueRegistry({
    log: silentLogger(),
    timing: FAST,
    gauges: queueGauges(registry),
    onChange: (k) => changes.push(k),
    readerFor: () => ns.reader(),
    random: () => 0.5,
    ...extra,
  });
  return { registry, changes, pollers };
}

void test('pipelines on one namespace and credential share one poller and one read per queue', async (t) => {
  const ns = new FakeNamespace();
  ns.set('jobs', 12);
  const { pollers } = setup(ns, { timing: { ...FAST, idleMs: 10_000, busyMs: 10_000 } });
  t.after(() => pollers.close());
  pollers.subscribe(sub('a'));
  pollers.subscribe(sub('b'));
  await until('both views', () => pollers.view('team/a')?.pending === false && pollers.view('team/b')?.pending === false);
  assert.equal(pollers.pollerCount, 1);
  assert.equal(ns.readers, 1);
  assert.equal(pollers.view('team/a')?.signal?.backlog, 12);
  const readsPerTick = ns.reads.length;
  assert.equal(readsPerTick, 1, 'one read serves both pipelines');
});

void test('pipelines with different credentials on one namespace get separate pollers', async (t) => {
  const ns = new FakeNamespace();
  ns.set('jobs', 1);
  const { pollers } = setup(ns);
  t.after(() => pollers.close());
  pollers.subscribe(sub('a'));
  pollers.subscribe(sub('b', { credential: cs('ns1.servicebus.windows.net', 'other-key') }));
  assert.equal(pollers.pollerCount, 2);
});

void test('a change in the numbers requeues the pipeline and updates the gauges', async (t) => {
  const ns = new FakeNamespace();
  ns.set('jobs', 0);
  const { pollers, changes, registry } = setup(ns);
  t.after(() => pollers.close());
  pollers.subscribe(sub('a'));
  await until('first read', () => changes.length === 1);
  ns.set('jobs', 30, { deadLettered: 2 });
  await until('second change', () => changes.length === 2, 3_000);
  assert.deepEqual(changes, ['team/a', 'team/a']);
  const text = await registry.metrics();
  assert.match(text, /ocr_queue_backlog\{namespace="team",pipeline="a",queue="jobs"\} 30/);
  assert.match(text, /ocr_queue_dead_lettered_messages\{namespace="team",pipeline="a",queue="jobs"\} 2/);
  assert.match(text, /ocr_queue_last_success_timestamp_seconds\{namespace="team",pipeline="a",queue="jobs"\} \d{10}/);
});

void test('an idle namespace is read less often than a busy one', async (t) => {
  const idle = new FakeNamespace();
  idle.set('jobs', 0);
  const busy = new FakeNamespace();
  busy.set('jobs', 9);
  const a = setup(idle);
  const b = setup(busy);
  t.after(() => {
    a.pollers.close();
    b.pollers.close();
  });
  a.pollers.subscribe(sub('a'));
  b.pollers.subscribe(sub('a'));
  await new Promise((r) => setTimeout(r, 200));
  // busy 10 ms vs idle 40 ms: about four times as many reads; allow for timer slack
  assert.ok(busy.reads.length >= 2 * idle.reads.length, `busy ${busy.reads.length} reads, idle ${idle.reads.length}`);
});

void test('failures keep the last reading, report the reason, count errors and back off', async (t) => {
  const ns = new FakeNamespace();
  ns.set('jobs', 7);
  const { pollers, registry } = setup(ns, { staleAfterMs: 60_000 });
  t.after(() => pollers.close());
  pollers.subscribe(sub('a'));
  await until('first read', () => pollers.view('team/a')?.signal?.backlog === 7);
  ns.failWith = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  await until('failure seen', () => pollers.view('team/a')?.problem !== undefined);
  const v = pollers.view('team/a')!;
  assert.equal(v.problem?.reason, 'NamespaceUnreachable');
  assert.equal(v.signal?.backlog, 7, 'last good reading is kept');
  assert.equal(v.lastSeenNonEmpty, true);
  const before = ns.reads.length;
  await new Promise((r) => setTimeout(r, 150));
  // backoff 10, 20, 40, 40 ... ms: far fewer reads than the 10 ms busy pace would make
  assert.ok(ns.reads.length - before <= 6, `${ns.reads.length - before} reads in 150 ms while failing`);
  assert.match(await registry.metrics(), /ocr_queue_read_errors_total\{namespace="team",pipeline="a",queue="jobs",reason="NamespaceUnreachable"\} [1-9]/);
  ns.failWith = undefined;
  await until('recovery', () => pollers.view('team/a')?.problem === undefined, 3_000);
});

void test('a stale reading leaves /metrics so the HPA holds instead of acting on old numbers', async (t) => {
  const ns = new FakeNamespace();
  ns.set('jobs', 7);
  const { pollers, registry } = setup(ns, { staleAfterMs: 30 });
  t.after(() => pollers.close());
  pollers.subscribe(sub('a'));
  await until('first read', () => pollers.view('team/a')?.signal?.backlog === 7);
  ns.failWith = new Error('boom');
  let registryText = await registry.metrics();
  const deadline = Date.now() + 3_000;
  while (/ocr_queue_backlog\{/.test(registryText) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    registryText = await registry.metrics();
  }
  assert.doesNotMatch(registryText, /ocr_queue_backlog\{/);
});

void test('a missing queue and a ReceiveDisabled queue are reported with their reasons', async (t) => {
  const ns = new FakeNamespace();
  ns.set('off', 3, {}, 'ReceiveDisabled');
  const { pollers } = setup(ns);
  t.after(() => pollers.close());
  pollers.subscribe(sub('missing', { queueName: 'nope' }));
  pollers.subscribe(sub('off', { queueName: 'off' }));
  await until('both read', () => pollers.view('team/missing')?.pending === false && pollers.view('team/off')?.pending === false);
  assert.equal(pollers.view('team/missing')?.problem?.reason, 'QueueNotFound');
  assert.equal(pollers.view('team/off')?.problem?.reason, 'QueueReceiveDisabled');
  assert.equal(pollers.view('team/off')?.signal?.backlog, 3, 'numbers are still shown');
});

void test('activation keeps an idle fleet at zero for a trickle at or below the threshold', async (t) => {
  const ns = new FakeNamespace();
  ns.set('jobs', 3);
  const { pollers } = setup(ns);
  t.after(() => pollers.close());
  pollers.subscribe(sub('a', { minReplicas: 0, workersRunning: 0, activationMessages: 3 }));
  await until('read', () => pollers.view('team/a')?.pending === false);
  assert.equal(pollers.view('team/a')?.signal?.backlog, 0);
  pollers.subscribe(sub('a', { minReplicas: 0, workersRunning: 1, activationMessages: 3 }));
  assert.equal(pollers.view('team/a')?.signal?.backlog, 3, 'a running worker sees the real backlog');
});

void test('an invalid connection string is a condition, not a crash', () => {
  const { pollers } = setup(new FakeNamespace());
  pollers.subscribe(sub('a', { credential: { kind: 'connectionString', connectionString: 'garbage' } }));
  assert.equal(pollers.view('team/a')?.problem?.reason, 'InvalidConnectionString');
  assert.doesNotMatch(pollers.view('team/a')?.problem?.message ?? '', /garbage/);
  assert.equal(pollers.pollerCount, 0);
});

void test('removing the last pipeline of a namespace stops its poller and drops its series', async (t) => {
  const ns = new FakeNamespace();
  ns.set('jobs', 4);
  const { pollers, registry } = setup(ns);
  t.after(() => pollers.close());
  pollers.subscribe(sub('a'));
  await until('read', () => pollers.view('team/a')?.pending === false);
  pollers.unsubscribe('team/a');
  assert.equal(pollers.pollerCount, 0);
  assert.equal(pollers.view('team/a'), undefined);
  assert.doesNotMatch(await registry.metrics(), /pipeline="a"/);
  const reads = ns.reads.length;
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(ns.reads.length, reads, 'no reads after removal');
});

void test("the workers' in-flight numbers from Prometheus refine the signal", async (t) => {
  const ns = new FakeNamespace();
  ns.set('jobs', 2);
  const { pollers } = setup(ns, { inFlight: async () => new Map([['team/a', 6]]) });
  t.after(() => pollers.close());
  pollers.subscribe(sub('a'));
  await until('read', () => pollers.view('team/a')?.pending === false);
  assert.deepEqual([pollers.view('team/a')?.signal?.inFlight, pollers.view('team/a')?.signal?.backlog], [6, 6]);
});

void test('an unchanged reading does not move observedAt until the report interval passes', async (t) => {
  const ns = new FakeNamespace();
  ns.set('jobs', 5);
  const { pollers } = setup(ns, { reportEveryMs: 60_000 });
  t.after(() => pollers.close());
  pollers.subscribe(sub('a'));
  await until('first read', () => pollers.view('team/a')?.pending === false);
  const first = pollers.view('team/a')?.observedAt?.getTime();
  const reads = ns.reads.length;
  await until('more reads', () => ns.reads.length >= reads + 3);
  assert.equal(pollers.view('team/a')?.observedAt?.getTime(), first, 'same numbers, same stamp: an idle reconcile writes nothing');
  ns.set('jobs', 6);
  await until('new numbers', () => pollers.view('team/a')?.signal?.backlog === 6);
  assert.ok((pollers.view('team/a')?.observedAt?.getTime() ?? 0) > (first ?? 0), 'new numbers, new stamp');
});

void test('a namespace outside the allowed suffixes gets NamespaceNotAllowed and no reader is ever made for it', async () => {
  const ns = new FakeNamespace();
  ns.set('jobs', 5);
  const { pollers } = setup(ns);
  pollers.subscribe(sub('a', { credential: cs('evil.example.com') }));
  pollers.subscribe(sub('b', { credential: { kind: 'workloadIdentity', namespace: 'evil.example.com' } }));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(pollers.view('team/a')?.problem?.reason, 'NamespaceNotAllowed');
  assert.equal(pollers.view('team/b')?.problem?.reason, 'NamespaceNotAllowed');
  assert.equal(ns.readers, 0);
  assert.deepEqual(ns.reads, []);
  assert.equal(pollers.pollerCount, 0);
  pollers.close();
});

void test('a development-emulator string gets EmulatorNotAllowed without the flag and is read with it', async () => {
  const ns = new FakeNamespace();
  ns.set('jobs', 5);
  const emulator: QueueCredential = {
    kind: 'connectionString',
    connectionString: 'Endpoint=sb://127.0.0.1:5300/;SharedAccessKeyName=m;SharedAccessKey=k;UseDevelopmentEmulator=true',
  };
  const strict = setup(ns);
  strict.pollers.subscribe(sub('a', { credential: emulator }));
  assert.equal(strict.pollers.view('team/a')?.problem?.reason, 'EmulatorNotAllowed');
  assert.equal(ns.readers, 0);
  strict.pollers.close();

  const allowing = setup(ns, { egress: { suffixes: [], allowDevelopmentEmulator: true } });
  allowing.pollers.subscribe(sub('a', { credential: emulator }));
  await until('a read of the emulator queue', () => ns.reads.length > 0);
  assert.equal(ns.readers, 1);
  allowing.pollers.close();
});

void test('a pipeline moved to a refused namespace stops being polled', async () => {
  const ns = new FakeNamespace();
  ns.set('jobs', 5);
  const { pollers } = setup(ns);
  pollers.subscribe(sub('a'));
  await until('the first read', () => ns.reads.length > 0);
  pollers.subscribe(sub('a', { credential: cs('evil.example.com') }));
  assert.equal(pollers.pollerCount, 0);
  assert.equal(pollers.view('team/a')?.problem?.reason, 'NamespaceNotAllowed');
  pollers.close();
});
