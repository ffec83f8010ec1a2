// Integrity with the worker as a real process against Azurite and the Service Bus stand-in:
// it OCRs only bytes with the SHA-256 recorded at submit, and only from the blob derived
// from the job id. Every job is queued before the worker starts, so each refusal is what
// the worker saw, not a race it happened to win. No refused job leaves a result or a dedupe key.
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dedupeKey, inputBlobPath, sha256Hex, type JobRecord, type OcrResult } from '../../../src/jobs/index.ts';
import { normalizeText, renderText } from '../../fixtures/render-text.ts';
import { waitFor } from '../../support/ports.ts';
import { PIPELINE, deadLetters, killAllWorkers, startPlatform, startWorker, submitJob, waitForStatus, type Platform, type WorkerProcess } from './harness.ts';

const QUEUE = 'integrity';
const OPTIONS = { pageSegmentation: 'auto' } as const;
let platform: Platform;
let worker: WorkerProcess;
let invoice: Buffer;
let other: Buffer;
const jobs: Record<'good' | 'overwritten' | 'forgedHash' | 'foreignUpload' | 'foreignResult', string> = {} as never;

before(async () => {
  platform = await startPlatform();
  platform.createQueue(QUEUE);
  invoice = await renderText(['INVOICE 7001', 'TOTAL 10.00']);
  other = await renderText(['FORGED 6666', 'TOTAL 99.99']);
  jobs.good = await submitJob(platform, QUEUE, invoice);
  // The checked image is replaced behind the API's back (someone with storage rights, or a bug).
  jobs.overwritten = await submitJob(platform, QUEUE, invoice);
  await platform.blobs.container.getBlockBlobClient(inputBlobPath(jobs.overwritten)).uploadData(other);
  // The message claims the invoice's hash for bytes that are not the invoice.
  jobs.forgedHash = await submitJob(platform, QUEUE, other, { contentHash: sha256Hex(invoice) });
  // Messages that point the worker at someone else's blob, which holds readable text.
  const victim = `job-${randomUUID()}`;
  await platform.blobs.putUpload(victim, other);
  await platform.blobs.writeResult({ ...resultOf(victim), text: 'FORGED 6666' });
  jobs.foreignUpload = await submitJob(platform, QUEUE, invoice, { blobPath: `uploads/${victim}` });
  jobs.foreignResult = await submitJob(platform, QUEUE, invoice, { blobPath: `results/${victim}.json` });
  worker = await startWorker(platform, QUEUE);
});

function resultOf(jobId: string): OcrResult {
  const timings = { downloadMs: 0, preprocessMs: 0, recognizeMs: 0, totalMs: 0 };
  const image = { width: 1, height: 1, format: 'png' };
  return { jobId, text: '', lines: [], meanConfidence: 0, languages: ['eng'], image, timings, worker: 'test', completedAt: new Date().toISOString() };
}

after(async () => {
  killAllWorkers();
  await platform?.close();
});

/**
 * Dead letters by job id, gathered across peeks: the client continues each peek after the last
 * sequence number it saw, and every refusal here is dead-lettered before the first test peeks.
 */
const letters = new Map<string, { reason: string | undefined; description: string | undefined }>();

async function deadLetterOf(jobId: string): Promise<{ reason: string | undefined; description: string | undefined }> {
  await waitFor(
    `job ${jobId} in the dead-letter queue`,
    async () => {
      for (const m of await deadLetters(platform, QUEUE)) letters.set(m.jobId, m);
      return letters.has(jobId);
    },
    30_000,
    { detail: () => `dead letters: ${[...letters.keys()].join(', ')}\nworker logs:\n${worker.logs().slice(-3000)}` },
  );
  return letters.get(jobId)!;
}

/** Failed at once with `code`, dead-lettered with that reason, and nothing OCRed, stored or remembered. */
async function assertRefused(jobId: string, code: string): Promise<JobRecord> {
  const record = await waitForStatus(platform, jobId, ['succeeded', 'failed'], 90_000);
  assert.deepEqual([record.status, record.errorCode], ['failed', code], record.errorMessage);
  // Refused before processing (a foreign blob path) leaves attempts at 0; refused content at 1. Never retried.
  assert.equal(record.attempts, code === 'BLOB_PATH_MISMATCH' ? 0 : 1, 'a permanent failure is not retried');
  const letter = await deadLetterOf(jobId);
  assert.equal(letter.reason, code);
  assert.ok((letter.description ?? '').length > 20, 'the description says what was refused');
  assert.equal(await platform.blobs.readResult(jobId), undefined, 'no result');
  for (const bytes of [invoice, other])
    assert.equal((await platform.records.findResult(PIPELINE, dedupeKey(sha256Hex(bytes), ['eng'], OPTIONS))) === jobId, false, 'no dedupe key');
  return record;
}

void describe('a worker that reads only what was submitted', () => {
  void it('reads the checked image of a normal job from inputs/<jobId> and remembers its hash', async () => {
    const record = await waitForStatus(platform, jobs.good, ['succeeded', 'failed'], 120_000);
    assert.equal(record.status, 'succeeded', `${record.errorCode} ${record.errorMessage}`);
    assert.match(normalizeText((await platform.blobs.readResult(jobs.good))?.text ?? ''), /INVOICE 7001/);
    assert.equal(await platform.records.findResult(PIPELINE, dedupeKey(sha256Hex(invoice), ['eng'], OPTIONS)), jobs.good);
  });

  void it('fails as CONTENT_MISMATCH a job whose image changed after submit', async () => {
    const record = await assertRefused(jobs.overwritten, 'CONTENT_MISMATCH');
    assert.match(record.errorMessage ?? '', /SHA-256/);
  });

  void it('fails as CONTENT_MISMATCH a message with a forged content hash', async () => {
    await assertRefused(jobs.forgedHash, 'CONTENT_MISMATCH');
  });

  void it('refuses as BLOB_PATH_MISMATCH messages naming another job upload or a result', async () => {
    await assertRefused(jobs.foreignUpload, 'BLOB_PATH_MISMATCH');
    await assertRefused(jobs.foreignResult, 'BLOB_PATH_MISMATCH');
  });

  void it('never tied the invoice hash to the other image text', async () => {
    const answer = await platform.records.findResult(PIPELINE, dedupeKey(sha256Hex(invoice), ['eng'], OPTIONS));
    assert.equal(answer, jobs.good);
    assert.doesNotMatch(normalizeText((await platform.blobs.readResult(jobs.good))?.text ?? ''), /FORGED/);
    assert.equal(await platform.records.findResult(PIPELINE, dedupeKey(sha256Hex(other), ['eng'], OPTIONS)), undefined);
    const metrics = (await worker.get('/metrics')).body;
    assert.match(metrics, /ocr_worker_jobs_total\{outcome="dead_lettered",pipeline="receipts"\} 4\n/);
  });
});
