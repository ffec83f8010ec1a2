// The queue-depth poller against the Service Bus stand-in, through the real SDK
// (ServiceBusAdministrationClient over ATOM): counts, locked messages, pre-flight reasons
// (missing queue, ReceiveDisabled, a key without Manage) and an unreachable namespace.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { ServiceBusClient } from '@azure/service-bus';
import { serviceBusClient, startServiceBusStandin, type ServiceBusStandin } from '../../support/servicebus.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { queueGauges } from '../../../src/operator/scaling/metrics.ts';
import type { PipelineSubscription } from '../../../src/operator/scaling/namespace-poller.ts';
import { egressPolicy } from '../../../src/operator/scaling/egress.ts';
import { QueueRegistry } from '../../../src/operator/scaling/registry.ts';
import type { PipelineQueueView } from '../../../src/operator/scaling/view.ts';

const FAST = { idleMs: 200, busyMs: 100, backoffBaseMs: 100, backoffMaxMs: 400, jitter: 0, statusRefreshMs: 200 };

async function until(
  pollers: QueueRegistry,
  key: string,
  what: string,
  check: (v: PipelineQueueView) => boolean,
  timeoutMs = 10_000,
): Promise<PipelineQueueView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = pollers.view(key);
    if (v && !v.pending && check(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last view: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

void describe('queue-depth poller with the real SDK against the stand-in', () => {
  let standin: ServiceBusStandin;
  let client: ServiceBusClient;
  let pollers: QueueRegistry;
  const registry = new Registry();
  const changes: string[] = [];
  let workersInFlight = 0;

  const sub = (name: string, s: Partial<PipelineSubscription> = {}): PipelineSubscription => ({
    key: `it/${name}`,
    namespace: 'it',
    pipeline: name,
    queueName: 'ocr-jobs',
    credential: { kind: 'connectionString', connectionString: standin.managementConnectionString },
    countInFlight: true,
    activationMessages: 0,
    minReplicas: 1,
    workersRunning: 1,
    ...s,
  });

  before(async () => {
    standin = await startServiceBusStandin({
      keys: { RootManageSharedAccessKey: { key: 'manage-key-for-tests' }, ListenOnly: { key: 'listen-key-for-tests', rights: ['Listen'] } },
      queues: [
        { name: 'ocr-jobs', lockDurationSeconds: 60 },
        { name: 'paused', status: 'ReceiveDisabled' },
      ],
    });
    client = serviceBusClient(standin);
    pollers = new QueueRegistry({
      log: silentLogger(),
      timing: FAST,
      gauges: queueGauges(registry),
      onChange: (k) => changes.push(k),
      inFlight: async () => new Map([['it/receipts', workersInFlight]]),
      // the stand-in's connection strings say UseDevelopmentEmulator=true
      egress: egressPolicy([], true),
    });
  });
  after(async () => {
    pollers?.close();
    await client?.close();
    await standin?.close();
  });

  void it('reads the backlog of messages sent to the queue', async () => {
    const sender = client.createSender('ocr-jobs');
    await sender.sendMessages(Array.from({ length: 12 }, (_, i) => ({ body: { job: i } })));
    await sender.close();
    pollers.subscribe(sub('receipts'));
    const v = await until(pollers, 'it/receipts', 'backlog 12', (x) => x.signal?.backlog === 12);
    assert.equal(v.signal?.activeMessages, 12);
    assert.equal(v.problem, undefined);
    assert.ok(changes.includes('it/receipts'), 'the first reading requeues the pipeline');
    assert.match(await registry.metrics(), /ocr_queue_backlog\{namespace="it",pipeline="receipts",queue="ocr-jobs"\} 12/);
  });

  void it('counts messages locked by workers once, not twice', async () => {
    const receiver = client.createReceiver('ocr-jobs', { receiveMode: 'peekLock' });
    const locked = await receiver.receiveMessages(4, { maxWaitTimeInMs: 2_000 });
    assert.equal(locked.length, 4);
    workersInFlight = locked.length; // what the workers' gauge would say
    const v = await until(pollers, 'it/receipts', 'in-flight 4', (x) => x.signal?.inFlight === 4);
    assert.deepEqual({ backlog: v.signal?.backlog, waiting: v.signal?.waiting }, { backlog: 12, waiting: 8 });
    for (const m of locked) await receiver.completeMessage(m);
    workersInFlight = 0;
    await receiver.close();
    await until(pollers, 'it/receipts', 'backlog 8 after completing 4', (x) => x.signal?.backlog === 8);
  });

  void it('a pipeline on the same namespace and key shares the poller', () => {
    pollers.subscribe(sub('invoices'));
    assert.equal(pollers.pollerCount, 1);
  });

  void it('a missing queue is QueueNotFound', async () => {
    pollers.subscribe(sub('missing', { queueName: 'no-such-queue' }));
    const v = await until(pollers, 'it/missing', 'a problem', (x) => x.problem !== undefined);
    assert.equal(v.problem?.reason, 'QueueNotFound');
    assert.match(v.problem?.message ?? '', /no-such-queue/);
  });

  void it('a ReceiveDisabled queue is QueueReceiveDisabled', async () => {
    pollers.subscribe(sub('paused', { queueName: 'paused' }));
    const v = await until(pollers, 'it/paused', 'a problem', (x) => x.problem !== undefined);
    assert.equal(v.problem?.reason, 'QueueReceiveDisabled');
  });

  void it('a Listen-only key is InsufficientRights and names the Manage right', async () => {
    const listen = standin.connectionStringsFor('ListenOnly').managementConnectionString;
    pollers.subscribe(sub('listener', { credential: { kind: 'connectionString', connectionString: listen } }));
    const v = await until(pollers, 'it/listener', 'a problem', (x) => x.problem !== undefined);
    assert.equal(v.problem?.reason, 'InsufficientRights');
    assert.match(v.problem?.message ?? '', /Manage/);
    assert.doesNotMatch(v.problem?.message ?? '', /listen-key-for-tests/);
  });

  void it('a stopped namespace is NamespaceUnreachable and the last reading is kept', async () => {
    await client.close();
    await standin.close();
    const v = await until(pollers, 'it/receipts', 'unreachable', (x) => x.problem !== undefined);
    assert.equal(v.problem?.reason, 'NamespaceUnreachable');
    assert.equal(v.signal?.backlog, 8);
    assert.equal(v.lastSeenNonEmpty, true);
    assert.match(
      await registry.metrics(),
      /ocr_queue_read_errors_total\{namespace="it",pipeline="receipts",queue="ocr-jobs",reason="NamespaceUnreachable"\} [1-9]/,
    );
  });
});
