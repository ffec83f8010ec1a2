// Retries with backoff on the real parts: the worker as a process with a Send+Listen key (no
// Manage), the Service Bus stand-in holding the scheduled retry, Azurite holding the record and
// the image. A transient failure comes back after its backoff, the last attempt fails the job, a
// permanent error is dead-lettered at once, and a worker that may not send falls back to
// the broker's redelivery and says why.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { normalizeText, renderText, truncatedJpeg } from '../../fixtures/render-text.ts';
import {
  MAX_DELIVERIES,
  deadLetterOf,
  killAllWorkers,
  startPlatform,
  startWorker,
  submitJob,
  waitForRecord,
  waitForStatus,
  type Platform,
  type WorkerProcess,
} from './harness.ts';

/** Base and max delay are equal, so every retry waits exactly this long (no jitter to allow for). */
const DELAY_SECONDS = 2;
const MAX_ATTEMPTS = 3;
const retryEnv = {
  WORKER_RETRY_BASE_DELAY_SECONDS: String(DELAY_SECONDS),
  WORKER_RETRY_MAX_DELAY_SECONDS: String(DELAY_SECONDS),
  WORKER_RETRY_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
};

let platform: Platform;

before(async () => {
  const key = (): string => randomBytes(32).toString('base64');
  platform = await startPlatform({
    keys: {
      RootManageSharedAccessKey: { key: key() },
      worker: { key: key(), rights: ['Send', 'Listen'] },
      listenOnly: { key: key(), rights: ['Listen'] },
    },
  });
});

after(async () => {
  killAllWorkers();
  await platform?.close();
});

void describe('a worker with Send and Listen on the queue', () => {
  const queue = 'retries';
  let worker: WorkerProcess;

  before(async () => {
    platform.createQueue(queue);
    worker = await startWorker(platform, queue, {
      SERVICEBUS_CONNECTION_STRING: platform.standin.connectionStringsFor('worker').connectionString,
      ...retryEnv,
    });
    await worker.waitReady();
  });

  after(async () => {
    worker?.kill('SIGKILL');
    await worker?.exited;
  });

  void it('schedules a transient failure for after its backoff, and the retry succeeds once the image is there', async () => {
    // No image yet: UPLOAD_MISSING is transient (the upload may still become visible).
    const image = await renderText(['RETRY 0007', 'TOTAL 3.20']);
    const jobId = await submitJob(platform, queue, image, {}, { upload: false });
    const waiting = await waitForRecord(platform, jobId, 'queued for a retry', (r) => r.status === 'queued' && r.nextAttemptAt !== undefined, 30_000, 50);
    assert.equal(waiting.lastErrorCode, 'UPLOAD_MISSING');
    assert.equal(waiting.attempts, 1);
    const backoffMs = Date.parse(waiting.nextAttemptAt!) - Date.parse(waiting.startedAt!);
    assert.ok(backoffMs >= DELAY_SECONDS * 1000, `the retry is due ${backoffMs} ms after the first run started`);
    const counts = platform.standin.counts(queue);
    assert.deepEqual([counts.scheduledMessageCount, counts.activeMessageCount], [1, 0], 'the retry waits as a scheduled message; the first one is completed');

    await platform.blobs.putInput(jobId, image);
    const record = await waitForStatus(platform, jobId, ['succeeded', 'failed']);
    assert.equal(record.status, 'succeeded', `${record.errorCode} ${record.errorMessage}`);
    assert.equal(record.attempts, 2);
    assert.equal(record.nextAttemptAt, undefined, 'cleared when the retry started');
    assert.ok(Date.parse(record.startedAt!) >= Date.parse(waiting.nextAttemptAt!), `retry started ${record.startedAt}, due ${waiting.nextAttemptAt}`);
    assert.match(normalizeText((await platform.blobs.readResult(jobId))?.text ?? ''), /RETRY 0007/);
    assert.match(worker.logs(), new RegExp(`"jobId":"${jobId}".*"msg":"Scheduled retry"`));
  });

  void it(`marks the job failed at attempt ${MAX_ATTEMPTS} and dead-letters it, after a backoff before each retry`, async () => {
    const jobId = await submitJob(platform, queue, undefined);
    const started = Date.now();
    const record = await waitForStatus(platform, jobId, ['failed', 'succeeded']);
    const tookMs = Date.now() - started;
    assert.deepEqual([record.status, record.errorCode, record.attempts], ['failed', 'DELIVERY_LIMIT_EXCEEDED', MAX_ATTEMPTS]);
    assert.match(record.errorMessage ?? '', new RegExp(`gave up after ${MAX_ATTEMPTS} attempts.*UPLOAD_MISSING`));
    assert.ok(tookMs >= (MAX_ATTEMPTS - 1) * DELAY_SECONDS * 1000, `${MAX_ATTEMPTS - 1} backoffs of ${DELAY_SECONDS} s took ${tookMs} ms`);
    const letter = await deadLetterOf(platform, queue, jobId);
    assert.equal(letter.reason, 'DELIVERY_LIMIT_EXCEEDED');
    assert.match(letter.description ?? '', /gave up after/);
    assert.equal(platform.standin.counts(queue).scheduledMessageCount, 0, 'no retry left behind');
  });

  void it('dead-letters a permanent error at once, scheduling no retry', async () => {
    const jobId = await submitJob(platform, queue, await truncatedJpeg());
    const record = await waitForStatus(platform, jobId, ['failed', 'succeeded']);
    assert.deepEqual([record.status, record.errorCode, record.attempts], ['failed', 'IMAGE_CORRUPT', 1]);
    assert.equal((await deadLetterOf(platform, queue, jobId)).reason, 'IMAGE_CORRUPT');
    assert.equal(platform.standin.counts(queue).scheduledMessageCount, 0);
    assert.doesNotMatch(worker.logs(), new RegExp(`"jobId":"${jobId}".*"msg":"Scheduled retry"`));
  });
});

void describe('a worker with Listen only', () => {
  void it('cannot schedule retries, so it abandons for the broker to redeliver and logs why', async () => {
    const queue = 'listen-only';
    platform.createQueue(queue);
    const worker = await startWorker(platform, queue, {
      SERVICEBUS_CONNECTION_STRING: platform.standin.connectionStringsFor('listenOnly').connectionString,
      ...retryEnv,
    });
    try {
      await worker.waitReady();
      const jobId = await submitJob(platform, queue, undefined);
      const record = await waitForStatus(platform, jobId, ['failed', 'succeeded'], 60_000).catch((error: unknown) => {
        throw new Error(`${String(error)}\nworker logs:\n${worker.logs().slice(-3000)}`);
      });
      assert.deepEqual(
        [record.errorCode, record.attempts],
        ['DELIVERY_LIMIT_EXCEEDED', MAX_DELIVERIES],
        'the broker redelivered it up to its MaxDeliveryCount',
      );
      assert.equal((await deadLetterOf(platform, queue, jobId)).reason, 'MaxDeliveryCountExceeded');
      assert.match(worker.logs(), /the retry could not be scheduled, so the broker redelivers it now/);
    } finally {
      worker.kill('SIGKILL');
      await worker.exited;
    }
  });
});
