// DELETE /v1/jobs/{id} on real storage: everything stored for a finished job goes (upload, input,
// result, dedupe entry, record), only for its owner, never while a worker may still write its result.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebhookOutbox, sha256Hex, type JobRecord } from '../../../src/jobs/index.ts';
import { KEY, blobsOf, startApp, startStack, storeFinishedJob, type Stack, type TestApp } from './helpers.ts';

const PIPELINE = 'deletes';
const OTHER_KEY = 'key-other-9876543210';
let stack: Stack;
let api: TestApp;
let serial = 0;

before(async () => {
  stack = await startStack();
  api = await startApp(stack, { pipeline: PIPELINE });
});

after(async () => {
  await api?.close();
  await stack?.stop();
});

/** A job of the key "tester" in `status`, with every blob and (when succeeded) its dedupe entry. */
async function storedJob(status: JobRecord['status']): Promise<{ job: JobRecord; key: string }> {
  serial++;
  const now = new Date().toISOString();
  return await storeFinishedJob(stack, {
    id: `job-delete-${process.pid}-${serial}`,
    pipeline: PIPELINE,
    owner: 'tester',
    status,
    languages: ['eng'],
    options: { pageSegmentation: 'auto' },
    attempts: 1,
    contentHash: sha256Hex(Buffer.from(`delete ${process.pid} ${serial}`)),
    createdAt: now,
    updatedAt: now,
  });
}

async function remove(jobId: string, key = KEY) {
  return await api.app.inject({ method: 'DELETE', url: `/v1/jobs/${jobId}`, headers: { 'x-api-key': key } });
}

void describe('DELETE /v1/jobs/{id}', () => {
  for (const status of ['succeeded', 'failed', 'expired', 'awaiting_upload'] as const) {
    void it(`deletes a job that is ${status}: its upload, input, result, dedupe entry and record, and answers 204`, async () => {
      const { job, key } = await storedJob(status);
      const response = await remove(job.id);
      assert.equal(response.statusCode, 204, response.body);
      assert.equal(response.body, '');
      assert.equal(await stack.records.get(PIPELINE, job.id), undefined);
      assert.deepEqual(await blobsOf(stack, job.id), [false, false, false]);
      assert.equal(await stack.records.findResult(PIPELINE, key), undefined);
      const read = await api.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: { 'x-api-key': KEY } });
      assert.equal(read.json().error?.code, 'JOB_NOT_FOUND');
    });
  }

  for (const status of ['queued', 'processing'] as const) {
    void it(`refuses a ${status} job with 409 JOB_IN_PROGRESS and deletes nothing`, async () => {
      const { job, key } = await storedJob(status);
      const response = await remove(job.id);
      assert.equal(response.statusCode, 409);
      assert.equal(response.json().error?.code, 'JOB_IN_PROGRESS');
      assert.equal((await stack.records.get(PIPELINE, job.id))?.status, status);
      assert.deepEqual(await blobsOf(stack, job.id), [true, true, true]);
      assert.equal(await stack.records.findResult(PIPELINE, key), job.id);
    });
  }

  void it("answers 404 JOB_NOT_FOUND to another key and deletes nothing of the owner's job", async () => {
    const { job } = await storedJob('succeeded');
    const response = await remove(job.id, OTHER_KEY);
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().error?.code, 'JOB_NOT_FOUND');
    assert.ok(await stack.records.get(PIPELINE, job.id));
    assert.deepEqual(await blobsOf(stack, job.id), [true, true, true]);
  });

  void it('answers 404 JOB_NOT_FOUND for an id that never existed, and for a second DELETE', async () => {
    assert.equal((await remove('job-never-existed-0001')).statusCode, 404);
    const { job } = await storedJob('failed');
    assert.equal((await remove(job.id)).statusCode, 204);
    assert.equal((await remove(job.id)).json().error?.code, 'JOB_NOT_FOUND');
  });

  void it('drops the pending webhook of the job it deletes (its outbox row), so no webhook is sent for a deleted job', async () => {
    serial++;
    const now = new Date().toISOString();
    const job = await stack.records.create({
      id: `job-delete-${process.pid}-${serial}`,
      pipeline: PIPELINE,
      owner: 'tester',
      status: 'failed',
      languages: ['eng'],
      options: { pageSegmentation: 'auto' },
      attempts: 1,
      errorCode: 'IMAGE_CORRUPT',
      errorMessage: 'not an image',
      webhookUrl: 'https://hooks.example.com/ocr',
      createdAt: now,
      updatedAt: now,
    });
    const outbox = new WebhookOutbox(stack.table);
    assert.ok(await outbox.get(PIPELINE, job.id), 'a finished job with a webhook has its outbox row');
    assert.equal((await remove(job.id)).statusCode, 204);
    assert.equal(await outbox.get(PIPELINE, job.id), undefined);
  });

  void it('answers 401 without a key', async () => {
    const { job } = await storedJob('succeeded');
    const response = await api.app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}` });
    assert.equal(response.statusCode, 401);
    assert.ok(await stack.records.get(PIPELINE, job.id));
  });

  void it('is in the OpenAPI document with its 204 and its error codes', async () => {
    const document = (await api.app.admin.inject({ method: 'GET', url: '/openapi.json' })).json();
    const operation = document.paths['/v1/jobs/{id}']?.delete;
    assert.equal(operation?.operationId, 'deleteJob');
    assert.ok(operation.responses['204']);
    assert.match(JSON.stringify(operation.responses['409']), /JOB_IN_PROGRESS/);
    assert.match(JSON.stringify(operation.responses['404']), /JOB_NOT_FOUND/);
  });
});
