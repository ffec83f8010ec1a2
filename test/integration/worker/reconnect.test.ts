// A worker keeps receiving after the broker goes away and comes back: the Service Bus stand-in
// is closed (its messages are gone, as a broker outage may lose the link) and started again on
// the same ports with the same key; a job sent afterwards must still be read, without
// restarting the worker. Before the consumer subscribed again, the SDK's subscription stopped
// for good after its retries and the worker stayed ready and idle (seen in the chaos run).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DEFAULT_KEY_NAME } from '../../../src/servicebus-standin/index.ts';
import { renderText } from '../../fixtures/render-text.ts';
import { serviceBusClient, startServiceBusStandin, type ServiceBusStandin } from '../../support/servicebus.ts';
import { waitFor } from '../../support/ports.ts';
import {
  LOCK_SECONDS,
  MAX_DELIVERIES,
  killAllWorkers,
  startPlatform,
  startWorker,
  submitJob,
  waitForStatus,
  type Platform,
  type WorkerProcess,
} from './harness.ts';

const QUEUE = 'reconnect';
const KEY = randomBytes(32).toString('base64');

function standinOn(ports?: { port: number; httpPort: number }): Promise<ServiceBusStandin> {
  return startServiceBusStandin({
    ...(ports ?? {}),
    keys: { [DEFAULT_KEY_NAME]: { key: KEY } },
    queues: [{ name: QUEUE, lockDurationSeconds: LOCK_SECONDS, maxDeliveryCount: MAX_DELIVERIES }],
  });
}

void describe('a worker when the broker restarts', () => {
  let platform: Platform;
  let worker: WorkerProcess;
  let restarted: ServiceBusStandin | undefined;

  before(async () => {
    platform = await startPlatform({ keys: { [DEFAULT_KEY_NAME]: { key: KEY } } });
    platform.createQueue(QUEUE);
    worker = await startWorker(platform, QUEUE);
  });
  after(async () => {
    worker?.kill('SIGKILL');
    await worker?.exited;
    killAllWorkers();
    await restarted?.close().catch(() => undefined);
    await platform?.close();
  });

  void it('reads a job sent after the stand-in came back, without a worker restart', async () => {
    const first = await submitJob(platform, QUEUE, await renderText(['BEFORE 1234']));
    assert.equal((await waitForStatus(platform, first, ['succeeded', 'failed'])).status, 'succeeded');

    const { amqpPort: port, httpPort } = platform.standin;
    // The test's own client goes first: its SDK timers would otherwise fail on the dead links (an SDK bug, not the worker's).
    await platform.sb.close();
    await platform.standin.close();
    // Long enough for the SDK's own link retries (3, about a second apart) to run out.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    restarted = await standinOn({ port, httpPort });

    const sb = serviceBusClient(restarted);
    const second = await submitJob({ ...platform, sb }, QUEUE, await renderText(['AFTER 5678'])).finally(() => sb.close());
    const record = await waitForStatus(platform, second, ['succeeded', 'failed'], 90_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${worker.logs().slice(-4000)}`);
    });
    assert.equal(record.status, 'succeeded', `${record.errorCode} ${record.errorMessage}`);
    await waitFor('the worker to be ready again', async () => (await worker.get('/ready')).status === 200, 30_000, 200);
    assert.match(worker.logs(), /Received nothing while a message waited; receiving on a new connection|Subscribed to the queue again after a receive error/);
  });
});
