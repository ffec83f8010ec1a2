// The worker as a real process against a real Azurite and the Service Bus stand-in:
// text comes back, bad images are dead-lettered with their reason, a poison message
// runs out of deliveries, a SIGKILLed worker's job is finished once by another worker,
// and SIGTERM drains. Each scenario has its own queue, so they cannot see each other.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resultBlobPath } from '../../../src/jobs/index.ts';
import { hugePng, normalizeText, renderText, truncatedJpeg } from '../../fixtures/render-text.ts';
import { waitFor } from '../../support/ports.ts';
import {
  MAX_DELIVERIES,
  PIPELINE,
  deadLetterOf,
  killAllWorkers,
  startPlatform,
  startWorker,
  submitJob,
  waitForStatus,
  type Platform,
  type WorkerProcess,
} from './harness.ts';

let platform: Platform;

before(async () => {
  platform = await startPlatform();
});

after(async () => {
  killAllWorkers();
  await platform?.close();
});

/** A page of receipt-like lines: enough text that OCR takes a noticeable moment. */
/**
 * Long enough that a SIGKILL right after the job is seen processing lands before the OCR ends, also on a quiet machine
 * with tesseract's fast model (28 lines were once read before the kill there).
 */
async function longReceipt(): Promise<Buffer> {
  const lines = Array.from({ length: 90 }, (_, i) => `ITEM ${String(i + 1).padStart(2, '0')} COFFEE BEANS 1KG    ${(i * 3.25 + 10).toFixed(2)}`);
  return await renderText(['RECEIPT 0042', ...lines, 'TOTAL 999.99'], { fontSize: 28 });
}

void describe('one worker on a healthy queue', () => {
  const queue = 'jobs';
  let worker: WorkerProcess;

  before(async () => {
    platform.createQueue(queue);
    worker = await startWorker(platform, queue);
  });

  after(async () => {
    worker?.kill('SIGKILL');
    await worker?.exited;
  });

  void it('answers /live at once and /ready only after the OCR engine is loaded', async () => {
    const seen: string[] = [];
    await waitFor(
      'the worker to be ready',
      async () => {
        const live = await worker.get('/live').catch(() => undefined);
        if (!live) return false; // not listening yet
        assert.equal(live.status, 200);
        const ready = await worker.get('/ready');
        seen.push(String(ready.status));
        return ready.status === 200;
      },
      60_000,
      50,
    );
    assert.ok(seen.includes('503'), `expected /ready to say 503 while loading, saw ${seen.join(',')}`);
    const metrics = (await worker.get('/metrics')).body;
    assert.match(metrics, /ocr_worker_model_load_seconds\{pipeline="receipts"\} \d/);
  });

  void it('reads the known text of a generated image and stores the result once', async () => {
    const jobId = await submitJob(platform, queue, await renderText(['INVOICE 4711', 'TOTAL 12.50']));
    const record = await waitForStatus(platform, jobId, ['succeeded', 'failed']);
    assert.equal(record.status, 'succeeded', `job failed: ${record.errorCode} ${record.errorMessage}`);
    assert.equal(record.attempts, 1);
    const result = await platform.blobs.readResult(jobId);
    assert.ok(result, `no blob at ${resultBlobPath(jobId)}`);
    assert.match(normalizeText(result.text), /INVOICE 4711/);
    assert.match(normalizeText(result.text), /TOTAL 12\.50/);
    assert.equal(result.lines.length, 2);
    assert.ok(result.meanConfidence > 50, `mean confidence ${result.meanConfidence}`);
    assert.ok(result.timings.recognizeMs > 0 && result.timings.totalMs >= result.timings.recognizeMs);
  });

  const badImages: { name: string; image: () => Promise<Buffer> | Buffer; code: string }[] = [
    { name: 'a truncated JPEG is dead-lettered at once as IMAGE_CORRUPT', image: truncatedJpeg, code: 'IMAGE_CORRUPT' },
    { name: 'a 30000x30000 PNG is dead-lettered as IMAGE_TOO_MANY_PIXELS without being decoded', image: () => hugePng(), code: 'IMAGE_TOO_MANY_PIXELS' },
    { name: 'an empty upload is dead-lettered as IMAGE_EMPTY', image: () => Buffer.alloc(0), code: 'IMAGE_EMPTY' },
    { name: 'a text file is dead-lettered as IMAGE_UNSUPPORTED', image: () => Buffer.from('this is not an image\n'), code: 'IMAGE_UNSUPPORTED' },
  ];
  for (const { name, image, code } of badImages) {
    void it(name, async () => {
      const jobId = await submitJob(platform, queue, await image());
      const record = await waitForStatus(platform, jobId, ['succeeded', 'failed']);
      assert.equal(record.status, 'failed');
      assert.equal(record.errorCode, code);
      assert.equal(record.attempts, 1, 'a permanent failure is not retried');
      const letter = await deadLetterOf(platform, queue, jobId, 10_000);
      assert.equal(letter.reason, code);
      assert.ok((letter.description ?? '').length > 10, 'the description says what went wrong');
    });
  }

  void it('counts settled jobs by outcome in /metrics', async () => {
    const metrics = (await worker.get('/metrics')).body;
    assert.match(metrics, /ocr_worker_jobs_total\{outcome="succeeded",pipeline="receipts"\} 1\n/);
    assert.match(metrics, /ocr_worker_jobs_total\{outcome="dead_lettered",pipeline="receipts"\} 4\n/);
    assert.match(metrics, /ocr_worker_ocr_duration_seconds_count\{pipeline="receipts"\} 1\n/);
    assert.match(metrics, /ocr_worker_jobs_in_flight\{pipeline="receipts"\} 0\n/);
  });
  void it('retries a poison message up to its max attempts, then it is dead-lettered with the job marked failed', async () => {
    // The record and message exist but the image was never uploaded: transient (it may
    // still appear), so retried with backoff (a scheduled message per attempt) until the last attempt.
    const jobId = await submitJob(platform, queue, undefined);
    const record = await waitForStatus(platform, jobId, ['failed', 'succeeded']);
    assert.equal(record.errorCode, 'DELIVERY_LIMIT_EXCEEDED');
    assert.match(record.errorMessage ?? '', /UPLOAD_MISSING/);
    assert.equal(record.attempts, MAX_DELIVERIES);
    const letter = await deadLetterOf(platform, queue, jobId);
    assert.equal(letter.reason, 'DELIVERY_LIMIT_EXCEEDED', 'the worker dead-lettered it after the last attempt');
    const metrics = (await worker.get('/metrics')).body;
    assert.match(metrics, new RegExp(`ocr_worker_jobs_total\\{outcome="retried",pipeline="receipts"\\} ${MAX_DELIVERIES - 1}\\n`));
    assert.match(metrics, /ocr_worker_jobs_total\{outcome="abandoned",pipeline="receipts"\} 0\n/, 'nothing was left to the broker');
    assert.match(metrics, /ocr_worker_jobs_total\{outcome="failed_after_retries",pipeline="receipts"\} 1\n/);
  });
});

void describe('a worker killed mid-job', () => {
  void it('loses nothing: the message returns after the lock expires and a second worker completes it once', async () => {
    const queue = 'killed';
    platform.createQueue(queue);
    const first = await startWorker(platform, queue);
    let second: WorkerProcess | undefined;
    try {
      await first.waitReady();
      const jobId = await submitJob(platform, queue, await longReceipt());
      await waitForStatus(platform, jobId, ['processing', 'succeeded']);
      first.kill('SIGKILL');
      await first.exited;
      const afterKill = await platform.records.get(PIPELINE, jobId);
      assert.equal(afterKill?.status, 'processing', 'the kill landed mid-job (the job was still processing)');
      second = await startWorker(platform, queue);
      const record = await waitForStatus(platform, jobId, ['succeeded', 'failed'], 90_000);
      assert.equal(record.status, 'succeeded');
      assert.equal(record.attempts, 2, 'the second delivery finished it');
      const result = await platform.blobs.readResult(jobId);
      assert.match(normalizeText(result?.text ?? ''), /TOTAL 999\.99/);
      await waitFor(
        'the queue to be empty',
        () => {
          const counts = platform.standin.counts(queue);
          return counts.activeMessageCount === 0 && counts.deadLetterMessageCount === 0;
        },
        10_000,
      );
      // Once: one stored result, and the record points at it. (If the second worker lost its
      // lock on a very busy machine, a third delivery finds the job done: outcome duplicate.)
      assert.equal(record.finishedAt, result?.completedAt, 'the record describes the one stored result');
      const settled = /Completed job|Abandoned message|Dead-lettered message|Failed to settle message/;
      const lines = second
        .logs()
        .split('\n')
        .filter((l) => l.includes(jobId) && settled.test(l));
      assert.equal(lines.filter((l) => l.includes('"outcome":"succeeded"')).length, 1, `exactly one successful OCR run; logs:\n${lines.join('\n')}`);
    } finally {
      first.kill('SIGKILL');
      second?.kill('SIGKILL');
      await second?.exited;
    }
  });
});

void describe('SIGTERM', () => {
  void it('stops receiving, finishes the job in flight and exits 0', async () => {
    const queue = 'drain';
    platform.createQueue(queue);
    const worker = await startWorker(platform, queue);
    try {
      await worker.waitReady();
      const jobId = await submitJob(platform, queue, await longReceipt());
      await waitForStatus(platform, jobId, ['processing', 'succeeded']);
      worker.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        worker.exited,
        new Promise<'timeout'>((r) => {
          timer = setTimeout(() => r('timeout'), 60_000);
        }),
      ]);
      clearTimeout(timer);
      assert.equal(code, 0, `exit code; logs:\n${worker.logs().slice(-2000)}`);
      const record = await platform.records.get(PIPELINE, jobId);
      assert.equal(record?.status, 'succeeded');
      assert.equal(platform.standin.counts(queue).activeMessageCount, 0);
      assert.match(worker.logs(), /draining/);
    } finally {
      worker.kill('SIGKILL');
    }
  });
});
