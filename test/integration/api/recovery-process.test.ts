// The recovery loop as it runs in production: inside the API process (node src/api/main.ts),
// configured only through the environment the operator sets, with a real worker
// (node src/worker/main.ts, tesseract.js), Azurite and the Service Bus stand-in.
// - a dead-lettered job ends failed with the broker's reason, and its webhook is delivered;
// - a job whose API died between writing the record and sending the message completes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceBusClient } from '@azure/service-bus';
import { ServiceBusJobQueue } from '../../../src/api/queue.ts';
import { SIGNATURE_HEADER, jobMessageOf, sha256Hex, verifyWebhook, type JobRecord } from '../../../src/jobs/index.ts';
import { LOOPBACK_WEBHOOKS_ENV } from '../../support/api-config.ts';
import { waitFor } from '../../support/ports.ts';
import {
  KEYS_FILE,
  QUEUE,
  agedRecord,
  processEnv,
  serviceBusClient,
  startHookReceiver,
  startStack,
  stopAll,
  type HookReceiver,
  type Stack,
} from './helpers.ts';
import { normalize, textImage } from './images.ts';
import { startApiProcess, startWorker, type Child } from './processes.ts';

const PIPELINE = 'recovered';
const SECRET = 'webhook-secret-for-recovery-tests';
let stack: Stack;
let api: Child;
let worker: Child | undefined;
let dir: string;
let receiver: HookReceiver;
let client: ServiceBusClient;
let shared: Record<string, string>;

before(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), 'ocr-recovery-'));
  await writeFile(join(dir, 'keys'), KEYS_FILE);
  shared = processEnv(stack, PIPELINE);
  receiver = await startHookReceiver();
  api = await startApiProcess({
    ...shared,
    API_KEYS_FILE: join(dir, 'keys'),
    WEBHOOK_SECRET: SECRET,
    ...LOOPBACK_WEBHOOKS_ENV,
    // Passes every second; a queued job unchanged for 2 s counts as stale (the CRD allows 60 s and up; the API 1 s and up).
    RECOVERY_INTERVAL_SECONDS: '1',
    RECOVERY_LEASE_SECONDS: '15',
    JOB_QUEUED_DEADLINE_SECONDS: '2',
  });
  client = serviceBusClient(stack);
});

after(() => stopAll({ children: [api, worker], clients: [client, receiver], stack, dir }));

/** A record of the tester's, last changed `ageSeconds` ago, one per status. */
function record(status: JobRecord['status'], ageSeconds: number, extra: Partial<JobRecord>): JobRecord {
  return agedRecord(PIPELINE, status, ageSeconds, { id: `job-recovered-${process.pid}-${status}`, owner: 'tester', ...extra });
}

void describe('recovery inside the API process', () => {
  void it('fails a job whose message was dead-lettered with the broker reason, and delivers its webhook', async () => {
    const job = await stack.records.create(record('processing', 1, { contentHash: 'b'.repeat(64), webhookUrl: receiver.url, attempts: 3 }));
    // No worker runs yet: this test plays the worker that died on its last delivery.
    const queue = new ServiceBusJobQueue(client, QUEUE);
    await queue.send(jobMessageOf(job, 'b'.repeat(64)));
    const taker = client.createReceiver(QUEUE, { receiveMode: 'peekLock' });
    const [message] = await taker.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    assert.ok(message, 'the job message arrived');
    await taker.deadLetterMessage(message, { deadLetterReason: 'MaxDeliveryCountExceeded', deadLetterErrorDescription: 'lock lost 3 times' });
    await taker.close();

    await waitFor('the recovery loop to fail the job', async () => (await stack.records.get(PIPELINE, job.id))?.status === 'failed', 30_000, 200);
    const failed = await stack.records.get(PIPELINE, job.id);
    assert.equal(failed?.errorCode, 'DELIVERY_LIMIT_EXCEEDED');
    assert.match(failed?.errorMessage ?? '', /MaxDeliveryCountExceeded: lock lost 3 times/);
    await waitFor('the webhook', () => receiver.hooks.some((h) => h.body.includes(job.id)), 30_000, 100);
    const hook = receiver.hooks.find((h) => h.body.includes(job.id));
    assert.ok(hook);
    assert.equal(verifyWebhook(SECRET, hook.headers[SIGNATURE_HEADER] as string, hook.body), true);
    const event = JSON.parse(hook.body) as { status: string; error?: { code: string } };
    assert.deepEqual([event.status, event.error?.code], ['failed', 'DELIVERY_LIMIT_EXCEEDED']);
    await waitFor('the dead letter to be settled', () => stack.standin.counts(QUEUE).deadLetterMessageCount === 0, 10_000, 100);
  });

  void it('completes a job recorded as queued whose message was never sent (the API died in between)', async () => {
    worker = await startWorker({ ...shared, WORKER_CONCURRENCY: '1' });
    const image = await textImage(['RECOVERED 42']);
    const contentHash = sha256Hex(image);
    const job = record('queued', 5, { contentHash, expectedBytes: image.length });
    // What the API had done before it died: the checked input, then the record; the message never went out.
    await stack.blobs.putInput(job.id, image, 'image/png');
    await stack.records.create(job);

    await waitFor('the job to succeed', async () => (await stack.records.get(PIPELINE, job.id))?.status === 'succeeded', 120_000, 250);
    const done = await stack.records.get(PIPELINE, job.id);
    assert.ok((done?.requeues ?? 0) >= 1, 'sent again by recovery');
    const result = await stack.blobs.readResult(job.id);
    assert.match(normalize(result?.text ?? ''), /RECOVERED 42/);
  });
});
