// The recovery loop (src/api/recovery/) on real parts: Azurite for records, blobs and the
// lease, the Service Bus stand-in with the unchanged SDK for the queue and its dead-letter
// subqueue. Each case uses a partition of its own, so passes never see another case's jobs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceBusClient } from '@azure/service-bus';
import { RECOVERY_DEFAULTS, type RecoverySettings } from '../../../src/api/config.ts';
import { ApiMetrics } from '../../../src/api/metrics.ts';
import { ServiceBusJobQueue } from '../../../src/api/queue.ts';
import { RecoveryLease } from '../../../src/api/recovery/lease.ts';
import { RecoveryRunner, type RecoveryDeps } from '../../../src/api/recovery/runner.ts';
import { jobMessageOf, sha256Hex, uploadBlobPath, type JobRecord } from '../../../src/jobs/index.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { waitFor } from '../../support/ports.ts';
import { startServiceBusStandin } from '../../support/servicebus.ts';
import { AGED_RECORD_HASH, QUEUE, agedRecord, blobsOf, serviceBusClient, startStack, storeFinishedJob, type Stack } from './helpers.ts';

let stack: Stack;
let client: ServiceBusClient;
let queue: ServiceBusJobQueue;

before(async () => {
  stack = await startStack();
  client = serviceBusClient(stack);
  queue = new ServiceBusJobQueue(client, QUEUE);
});

after(async () => {
  await queue?.close();
  await stack?.stop();
});

const HASH = AGED_RECORD_HASH;
let serial = 0;

function jobId(): string {
  serial++;
  return `job-recovery-${process.pid}-${serial}`;
}

/** A record as the API writes it, last changed `ageSeconds` ago, with an id of this file. */
function record(pipeline: string, status: JobRecord['status'], ageSeconds: number, extra: Partial<JobRecord> = {}): JobRecord {
  return agedRecord(pipeline, status, ageSeconds, { id: jobId(), ...extra });
}

function runner(partition: string, settings: Partial<RecoverySettings> = {}, extra: Partial<RecoveryDeps> = {}): RecoveryRunner {
  return new RecoveryRunner({
    partition,
    settings: { ...RECOVERY_DEFAULTS, leaseSeconds: 15, intervalSeconds: 1, ...settings },
    records: stack.records,
    blobs: stack.blobs,
    queue,
    deadLetters: undefined,
    metrics: new ApiMetrics(),
    log: silentLogger(),
    deadLetterWaitMs: 300,
    ...extra,
  });
}

async function exists(path: string): Promise<boolean> {
  return await stack.blobs.container.getBlockBlobClient(path).exists();
}

/** Receives (and completes) every message now on the queue; their job ids. */
async function drainQueue(): Promise<string[]> {
  const receiver = client.createReceiver(QUEUE, { receiveMode: 'peekLock' });
  const ids: string[] = [];
  try {
    for (;;) {
      const messages = await receiver.receiveMessages(50, { maxWaitTimeInMs: 500 });
      if (messages.length === 0) return ids;
      for (const message of messages) {
        ids.push(String(message.messageId));
        await receiver.completeMessage(message);
      }
    }
  } finally {
    await receiver.close();
  }
}

void describe('recovery of dead-lettered jobs', () => {
  void it('fails a job whose message the broker dead-lettered, with the reason, calls onTerminal and settles the message', async () => {
    const pipeline = 'rec-dlq';
    const job = await stack.records.create(record(pipeline, 'processing', 5));
    await queue.send(jobMessageOf(job, HASH));
    const receiver = client.createReceiver(QUEUE, { receiveMode: 'peekLock' });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    assert.ok(message, 'the job message arrived');
    await receiver.deadLetterMessage(message, {
      deadLetterReason: 'MaxDeliveryCountExceeded',
      deadLetterErrorDescription: 'Message could not be consumed after 3 delivery attempts.',
    });
    await receiver.close();
    assert.equal(stack.standin.counts(QUEUE).deadLetterMessageCount, 1);

    const terminal: JobRecord[] = [];
    const metrics = new ApiMetrics();
    const deadLetters = client.createReceiver(QUEUE, { subQueueType: 'deadLetter', receiveMode: 'peekLock' });
    const loop = runner(pipeline, {}, { deadLetters, metrics, onTerminal: (r) => void terminal.push(r) });
    const summary = await loop.tick();
    await loop.stop();

    assert.equal(summary?.deadLettered, 1);
    const failed = await stack.records.get(pipeline, job.id);
    assert.deepEqual([failed?.status, failed?.errorCode], ['failed', 'DELIVERY_LIMIT_EXCEEDED']);
    assert.match(failed?.errorMessage ?? '', /MaxDeliveryCountExceeded: Message could not be consumed after 3 delivery attempts/);
    assert.deepEqual(
      terminal.map((r) => [r.id, r.status]),
      [[job.id, 'failed']],
    );
    assert.equal(stack.standin.counts(QUEUE).deadLetterMessageCount, 0, 'the dead letter was completed');
    assert.match(await metrics.registry.metrics(), /ocr_api_jobs_dead_lettered_total\{outcome="failed"\} 1/);
  });

  void it('settles a dead letter whose job is already failed without touching the record', async () => {
    const pipeline = 'rec-dlq-done';
    const job = await stack.records.create(record(pipeline, 'failed', 5, { errorCode: 'IMAGE_CORRUPT', errorMessage: 'not an image' }));
    await queue.send(jobMessageOf(job, HASH));
    const receiver = client.createReceiver(QUEUE, { receiveMode: 'peekLock' });
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    assert.ok(message);
    await receiver.deadLetterMessage(message, { deadLetterReason: 'IMAGE_CORRUPT', deadLetterErrorDescription: 'not an image' });
    await receiver.close();

    const terminal: JobRecord[] = [];
    const deadLetters = client.createReceiver(QUEUE, { subQueueType: 'deadLetter', receiveMode: 'peekLock' });
    const loop = runner(pipeline, {}, { deadLetters, onTerminal: (r) => void terminal.push(r) });
    assert.equal((await loop.tick())?.deadLettered, 1);
    await loop.stop();
    const after = await stack.records.get(pipeline, job.id);
    assert.deepEqual([after?.status, after?.errorCode, after?.updatedAt], ['failed', 'IMAGE_CORRUPT', job.updatedAt]);
    assert.equal(terminal.length, 0);
    assert.equal(stack.standin.counts(QUEUE).deadLetterMessageCount, 0);
  });
});

void describe('recovery of stale jobs', () => {
  void it('sends again a job recorded as queued whose message was never sent (the API died between the two)', async () => {
    const pipeline = 'rec-queued';
    const job = await stack.records.create(record(pipeline, 'queued', 10));
    const fresh = await stack.records.create(record(pipeline, 'queued', 0));
    const metrics = new ApiMetrics();
    const loop = runner(pipeline, { queuedDeadlineSeconds: 5 }, { metrics });
    const summary = await loop.tick();
    await loop.stop();
    assert.equal(summary?.requeued, 1);
    assert.deepEqual(await drainQueue(), [job.id]);
    const after = await stack.records.get(pipeline, job.id);
    assert.deepEqual([after?.status, after?.requeues], ['queued', 1]);
    assert.equal((await stack.records.get(pipeline, fresh.id))?.requeues, undefined, 'a job within its deadline is left alone');
    assert.match(await metrics.registry.metrics(), /ocr_api_jobs_recovered_total\{state="queued"\} 1/);
    assert.match(await metrics.registry.metrics(), /ocr_api_oldest_queued_job_age_seconds \d+/);
  });

  void it('sends a job stuck in processing again, and fails it with PROCESSING_TIMEOUT once maxRequeues is used up', async () => {
    const pipeline = 'rec-processing';
    const stuck = await stack.records.create(record(pipeline, 'processing', 10));
    const spent = await stack.records.create(record(pipeline, 'processing', 10, { requeues: 2 }));
    const terminal: string[] = [];
    const loop = runner(pipeline, { processingDeadlineSeconds: 5, maxRequeues: 2 }, { onTerminal: (r) => void terminal.push(r.id) });
    const summary = await loop.tick();
    await loop.stop();
    assert.deepEqual([summary?.requeued, summary?.timedOut], [1, 1]);
    assert.deepEqual(await drainQueue(), [stuck.id]);
    assert.equal((await stack.records.get(pipeline, stuck.id))?.status, 'queued');
    const failed = await stack.records.get(pipeline, spent.id);
    assert.deepEqual([failed?.status, failed?.errorCode], ['failed', 'PROCESSING_TIMEOUT']);
    assert.deepEqual(terminal, [spent.id]);
  });

  void it('expires a job whose upload never got submitted before the deadline, and deletes the upload', async () => {
    const pipeline = 'rec-expire';
    const old = await stack.records.create(record(pipeline, 'awaiting_upload', 3700));
    const recent = await stack.records.create(record(pipeline, 'awaiting_upload', 60));
    await stack.blobs.putUpload(old.id, Buffer.from('half an image'));
    await stack.blobs.putUpload(recent.id, Buffer.from('an image on its way'));
    const loop = runner(pipeline, { uploadDeadlineSeconds: 3600 });
    assert.equal((await loop.tick())?.expired, 1);
    await loop.stop();
    const expired = await stack.records.get(pipeline, old.id);
    assert.deepEqual([expired?.status, expired?.errorCode], ['expired', 'UPLOAD_EXPIRED']);
    assert.equal(await exists(uploadBlobPath(old.id)), false, 'the upload is gone');
    assert.equal((await stack.records.get(pipeline, recent.id))?.status, 'awaiting_upload');
    assert.equal(await exists(uploadBlobPath(recent.id)), true);
  });
});

void describe('retention', () => {
  /** A succeeded job with every blob and its dedupe entry. */
  async function finishedJob(pipeline: string, ageHours: number): Promise<{ job: JobRecord; key: string }> {
    const contentHash = sha256Hex(Buffer.from(`image ${serial}`));
    return await storeFinishedJob(stack, record(pipeline, 'succeeded', ageHours * 3600, { contentHash, finishedAt: new Date().toISOString() }));
  }

  void it('deletes finished jobs older than the retention with their upload, input and result, and keeps younger ones', async () => {
    const pipeline = 'rec-retention';
    const old = await finishedJob(pipeline, 30);
    const young = await finishedJob(pipeline, 1);
    const metrics = new ApiMetrics();
    const loop = runner(pipeline, { retentionHours: 24 }, { metrics });
    assert.equal((await loop.tick())?.retired, 1);
    await loop.stop();
    assert.equal(await stack.records.get(pipeline, old.job.id), undefined);
    assert.deepEqual(await blobsOf(stack, old.job.id), [false, false, false]);
    assert.equal(await stack.records.findResult(pipeline, old.key), undefined, 'its dedupe entry is gone');
    assert.ok(await stack.records.get(pipeline, young.job.id));
    assert.deepEqual(await blobsOf(stack, young.job.id), [true, true, true]);
    assert.equal(await stack.records.findResult(pipeline, young.key), young.job.id);
    assert.match(await metrics.registry.metrics(), /ocr_api_retention_deleted_total\{kind="job"\} 1/);
  });

  void it('forgets dedupe entries older than the result cache TTL and keeps the job', async () => {
    const pipeline = 'rec-cache-ttl';
    const { job, key } = await finishedJob(pipeline, 0);
    // The entry's age is its server Timestamp, so the runner's clock moves 25 h ahead instead.
    const loop = runner(pipeline, { resultCacheTtlHours: 24, retentionHours: 48 }, { clock: () => Date.now() + 25 * 3_600_000 });
    assert.equal(await stack.records.findResult(pipeline, key), job.id);
    assert.equal((await loop.tick())?.forgotten, 1);
    await loop.stop();
    assert.equal(await stack.records.findResult(pipeline, key), undefined);
    assert.ok(await stack.records.get(pipeline, job.id), 'the job itself is within retention');
  });
});

void describe('a step that fails', () => {
  void it('does not stop the others: with the dead-letter queue unreachable, an expired upload still expires', async () => {
    const pipeline = 'rec-step-fails';
    const gone = await startServiceBusStandin({ queues: [QUEUE] });
    const goneClient = new ServiceBusClient(gone.connectionString, { retryOptions: { maxRetries: 0, timeoutInMs: 2_000 } });
    await gone.close();
    const old = await stack.records.create(record(pipeline, 'awaiting_upload', 3700));
    const metrics = new ApiMetrics();
    const deadLetters = goneClient.createReceiver(QUEUE, { subQueueType: 'deadLetter', receiveMode: 'peekLock' });
    const loop = runner(pipeline, { uploadDeadlineSeconds: 3600 }, { deadLetters, metrics });
    const summary = await loop.tick();
    await loop.stop();
    await goneClient.close().catch(() => undefined);
    assert.deepEqual([summary?.failedSteps, summary?.expired], [['dead_letters'], 1]);
    assert.equal((await stack.records.get(pipeline, old.id))?.status, 'expired');
    assert.match(await metrics.registry.metrics(), /ocr_api_recovery_passes_total\{outcome="error"\} 1/);
  });
});

void describe('the upload sweep', () => {
  const token = (pipeline: string, exp: number) => `v1.${Buffer.from(JSON.stringify({ pipeline, exp })).toString('base64url')}.signature`;

  async function upload(name: string, metadata: Record<string, string>): Promise<string> {
    const path = `uploads/job-sweep-${process.pid}-${name}`;
    await stack.blobs.container.getBlockBlobClient(path).upload('image bytes', 11, { metadata });
    return path;
  }

  void it("deletes this pipeline's uploads whose token expired past the upload deadline, and keeps every other upload", async () => {
    const pipeline = 'rec-sweep';
    const now = Date.now();
    const expired = await upload('expired', { ocrjobtoken: token(pipeline, now - 1_000) });
    const valid = await upload('valid', { ocrjobtoken: token(pipeline, now + 3 * 3_600_000) });
    const foreign = await upload('foreign', { ocrjobtoken: token('another-pipeline', now - 1_000) });
    const untagged = await upload('untagged', {});
    // The blobs' age is the server's Last-Modified: the runner's clock moves 2 h ahead instead.
    const metrics = new ApiMetrics();
    const loop = runner(pipeline, { uploadDeadlineSeconds: 3600 }, { metrics, clock: () => now + 2 * 3_600_000 });
    assert.equal((await loop.tick())?.uploadsSwept, 1);
    await loop.stop();
    assert.deepEqual(await Promise.all([expired, valid, foreign, untagged].map(exists)), [false, true, true, true]);
    assert.match(await metrics.registry.metrics(), /ocr_api_retention_deleted_total\{kind="upload"\} 1/);
  });
});

void describe('one active runner per pipeline', () => {
  void it('lets only one of two runners work, and the second takes over once the first stops', async () => {
    const pipeline = 'rec-lease';
    const first = runner(pipeline);
    const second = runner(pipeline);
    try {
      assert.ok(await first.tick(), 'the first runner holds the lease and runs a pass');
      assert.equal(await second.tick(), undefined, 'the second runner is refused while the first holds it');
      assert.ok(await first.tick(), 'the holder renews and keeps it');
      await first.stop();
      assert.ok(await second.tick(), 'released on stop: the second runner takes over at its next tick');
      assert.equal(second.holdsLease, true);
    } finally {
      await first.stop();
      await second.stop();
    }
  });

  void it('takes over from a runner that died holding the lease once the lease expires (15 s)', async () => {
    const pipeline = 'rec-lease-died';
    const dead = new RecoveryLease(stack.blobs.container, pipeline, 15);
    assert.equal(await dead.hold(), true);
    const started = Date.now();
    const heir = runner(pipeline, { leaseSeconds: 15 });
    try {
      assert.equal(await heir.tick(), undefined);
      await waitFor('the heir to take the expired lease', async () => (await heir.tick()) !== undefined, 25_000, 500);
      const tookMs = Date.now() - started;
      assert.ok(tookMs >= 14_000 && tookMs < 20_000, `took over after ${tookMs} ms`);
    } finally {
      await heir.stop();
    }
  });
});
