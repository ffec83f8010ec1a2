// The job contract against a real Azurite: records move only along allowed
// transitions and only once under a race; results and inputs are write-once; upload
// URLs reach exactly one blob, never the input the worker reads.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startAzurite, type Azurite } from '../../support/azurite.ts';
import {
  BlobTooLargeError,
  JobBlobs,
  JobRecords,
  blobServiceClient,
  inputBlobPath,
  sharedKeyCredential,
  tableClient,
  type JobRecord,
  type OcrResult,
  type StorageSettings,
} from '../../../src/jobs/index.ts';

let azurite: Azurite;
let records: JobRecords;
let blobs: JobBlobs;

function newJob(overrides: Partial<JobRecord> = {}): JobRecord {
  const now = new Date().toISOString();
  return {
    id: `job-${randomUUID()}`,
    pipeline: 'receipts',
    status: 'awaiting_upload',
    languages: ['eng'],
    options: { pageSegmentation: 'auto' },
    attempts: 0,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

function resultFor(jobId: string, text: string): OcrResult {
  return {
    jobId,
    text,
    lines: [],
    meanConfidence: 90,
    languages: ['eng'],
    image: { width: 10, height: 10, format: 'png' },
    timings: { downloadMs: 1, preprocessMs: 1, recognizeMs: 1, totalMs: 3 },
    worker: 'test',
    completedAt: new Date().toISOString(),
  };
}

before(async () => {
  azurite = await startAzurite();
  const settings: StorageSettings = { connectionString: azurite.connectionString, container: 'ocr', table: 'ocrjobs' };
  records = new JobRecords(tableClient(settings));
  blobs = new JobBlobs(blobServiceClient(settings), settings.container, sharedKeyCredential(settings));
});

after(async () => {
  await azurite?.stop();
});

describe('job records', () => {
  it('stores a job and reads it back with its arrays intact', async () => {
    const job = await records.create(newJob({ languages: ['eng', 'deu'] }));
    const read = await records.get('receipts', job.id);
    assert.deepEqual(read, job);
  });

  it('returns undefined for a job that does not exist', async () => {
    assert.equal(await records.get('receipts', 'job-does-not-exist'), undefined);
  });

  it('lets exactly one of two racing workers move a queued job to processing', async () => {
    const job = await records.create(newJob({ status: 'queued' }));
    const moves = await Promise.all([1, 2].map((n) => records.transition('receipts', job.id, { to: 'processing', from: ['queued'], patch: { attempts: n } })));
    assert.equal(moves.filter(Boolean).length, 1, 'one move wins, the other finds the job already moved');
    assert.equal((await records.get('receipts', job.id))?.status, 'processing');
  });

  it('refuses a move the status table does not allow', async () => {
    const job = await records.create(newJob({ status: 'succeeded' }));
    await assert.rejects(records.transition('receipts', job.id, { to: 'queued' }), /cannot move from succeeded to queued/);
  });

  it('remembers the first job that answers a dedupe key', async () => {
    await records.rememberResult('receipts', 'k1', 'job-aaaaaaaa');
    await records.rememberResult('receipts', 'k1', 'job-bbbbbbbb');
    assert.equal(await records.findResult('receipts', 'k1'), 'job-aaaaaaaa');
    assert.equal(await records.findResult('receipts', 'k2'), undefined);
  });
});

describe('job blobs', () => {
  it('accepts a PUT through the upload URL and reports the uploaded size', async () => {
    const jobId = `job-${randomUUID()}`;
    const upload = await blobs.uploadUrl(jobId, 300);
    const response = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: new Uint8Array([1, 2, 3, 4]) });
    assert.equal(response.status, 201);
    assert.equal(await blobs.uploadSize(jobId), 4);
  });

  it('refuses the upload URL of one job for another blob', async () => {
    const upload = await blobs.uploadUrl(`job-${randomUUID()}`, 300);
    const other = upload.url.replace(/uploads\/job-[a-f0-9-]+/, `uploads/job-${randomUUID()}`);
    const response = await fetch(other, { method: 'PUT', headers: upload.headers, body: new Uint8Array([1]) });
    assert.equal(response.status, 403);
  });

  it("refuses the upload URL of a job for that job's input", async () => {
    const jobId = `job-${randomUUID()}`;
    const upload = await blobs.uploadUrl(jobId, 300);
    const input = upload.url.replace(`uploads/${jobId}`, inputBlobPath(jobId));
    assert.notEqual(input, upload.url);
    const response = await fetch(input, { method: 'PUT', headers: upload.headers, body: new Uint8Array([1]) });
    assert.equal(response.status, 403);
  });

  it('writes an input once: a second write is refused and the first bytes stay', async () => {
    const jobId = `job-${randomUUID()}`;
    await blobs.putInput(jobId, new Uint8Array([1, 2, 3]));
    await assert.rejects(blobs.putInput(jobId, new Uint8Array([9, 9])), (error: { statusCode?: number }) => [409, 412].includes(error.statusCode ?? 0));
    assert.deepEqual([...(await blobs.readUpload(inputBlobPath(jobId), 1024))], [1, 2, 3]);
    await blobs.deleteInput(jobId);
    await blobs.deleteInput(jobId); // a missing input is fine
  });

  it('refuses to download an upload larger than the limit', async () => {
    const jobId = `job-${randomUUID()}`;
    await blobs.putUpload(jobId, new Uint8Array(2048));
    await assert.rejects(blobs.readUpload(`uploads/${jobId}`, 1024), BlobTooLargeError);
  });

  it('keeps the first result when a redelivered job writes a different one', async () => {
    const jobId = `job-${randomUUID()}`;
    const first = await blobs.writeResult(resultFor(jobId, 'first'));
    const second = await blobs.writeResult(resultFor(jobId, 'second'));
    assert.equal(first.written, true);
    assert.equal(second.written, false);
    assert.equal(second.result.text, 'first');
    assert.equal((await blobs.readResult(jobId))?.text, 'first');
  });

  it('reads no result for a job that has none (a failed job, or a notice for an unknown one)', async () => {
    assert.equal(await blobs.readResult(`job-${randomUUID()}`), undefined);
  });
});
