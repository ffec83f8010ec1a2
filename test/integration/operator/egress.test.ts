// The operator's egress policy on the local control plane: a pipeline naming a host outside
// the Azure Service Bus domains, or a development-emulator connection string without
// --allow-development-emulator, gets QueueReachable=False with its reason, and the host
// named receives nothing: a TCP listener on loopback stands in for it and counts connections.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { OperatorProcess } from '../../support/operator-process.ts';
import {
  FAST_QUEUE_POLL,
  apply,
  condition,
  clusterWithNamespace,
  closeNamespace,
  eventually,
  pipeline,
  readPipeline,
  secret,
  skipWithoutCluster,
  startOperatorIn,
  uniqueNamespace,
  type TestCluster,
} from './harness.ts';

const NS = uniqueNamespace('egress');

const cases = (port: number) => [
  {
    name: 'a workload-identity namespace outside the allowed suffixes',
    pipeline: 'evil-namespace',
    queue: { namespace: 'evil.example.com', queueName: 'ocr-jobs' },
    reason: 'NamespaceNotAllowed',
    message: /evil\.example\.com.*\.servicebus\.windows\.net.*--servicebus-suffixes/,
  },
  {
    name: 'a connection string to a loopback host:port',
    pipeline: 'loopback-endpoint',
    connectionString: `Endpoint=sb://127.0.0.1:${port}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=dGVzdA==`,
    reason: 'NamespaceNotAllowed',
    message: /127\.0\.0\.1.*--servicebus-suffixes/,
  },
  {
    name: 'a development-emulator connection string without --allow-development-emulator',
    pipeline: 'emulator-endpoint',
    connectionString: `Endpoint=sb://127.0.0.1:${port}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=dGVzdA==;UseDevelopmentEmulator=true`,
    reason: 'EmulatorNotAllowed',
    message: /--allow-development-emulator/,
  },
];

void describe('the operator sends nothing to a Service Bus host outside its egress policy', { skip: skipWithoutCluster, timeout: 120_000 }, () => {
  let cluster: TestCluster;
  let operator: OperatorProcess | undefined;
  let listener: Server;
  let connections = 0;
  let port = 0;

  before(async () => {
    listener = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as { port: number }).port;
    cluster = await clusterWithNamespace('it-operator-egress', NS);
    // Fast polls: a poller that did exist would have connected many times within the test.
    operator = await startOperatorIn(cluster, NS, { queuePoll: FAST_QUEUE_POLL });
  });

  after(async () => {
    await operator?.stop();
    await closeNamespace(cluster, NS);
    await new Promise((r) => listener?.close(r));
  });

  void it('reports QueueReachable=False with the reason and a message naming the fix, for each refused endpoint', async () => {
    for (const c of cases(port)) {
      if (c.connectionString) await apply(cluster.kc, secret(NS, `${c.pipeline}-sb`, { connectionString: c.connectionString }));
      const queue = c.connectionString ? { connectionStringSecretRef: { name: `${c.pipeline}-sb`, key: 'connectionString' }, queueName: 'ocr-jobs' } : c.queue;
      await apply(cluster.kc, pipeline(NS, c.pipeline, { queue: { serviceBus: queue } }));
    }
    for (const c of cases(port)) {
      await eventually(
        `${c.name}: QueueReachable=False ${c.reason}`,
        async () => condition(await readPipeline(cluster.kc, NS, c.pipeline), 'QueueReachable')?.reason === c.reason,
        40_000,
        async () => `${JSON.stringify((await readPipeline(cluster.kc, NS, c.pipeline))?.status)}\noperator log:\n${operator?.tail(20) ?? ''}`,
      );
      const queueReachable = condition(await readPipeline(cluster.kc, NS, c.pipeline), 'QueueReachable');
      assert.equal(queueReachable?.status, 'False', c.name);
      assert.match(queueReachable?.message ?? '', c.message, c.name);
    }
  });

  void it('never connected to the host the pipelines named', async () => {
    // Several poll intervals (FAST_QUEUE_POLL) after every pipeline was reconciled.
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(connections, 0);
  });
});
