// Admission by backlog (src/api/admission.ts) through the app factory against real Azurite and
// the Service Bus stand-in: above API_MAX_BACKLOG new jobs get 503 QUEUE_BACKLOG_FULL with
// Retry-After and leave nothing behind; cache hits and status reads still answer; a submit refused
// this way works once the backlog is down. The backlog comes over HTTP as the operator serves it
// (GET <API_BACKLOG_URL> -> {"backlog": n}); here a loopback server answers with a number the test sets.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { dedupeKey, sha256Hex, type OcrResult } from '../../../src/jobs/index.ts';
import { waitFor } from '../../support/ports.ts';
import { KEY, footprint, multipart, startApp, startStack, type Stack, type TestApp } from './helpers.ts';
import { textImage } from './images.ts';

const MAX_BACKLOG = 3;
const auth = { 'x-api-key': KEY };
let stack: Stack;
let api: TestApp;
let operator: Server;
/** What the backlog endpoint answers; a string is an HTTP status to answer instead. */
let backlog: number | string = 0;

before(async () => {
  stack = await startStack();
  operator = createServer((request, response) => {
    if (typeof backlog === 'string') response.writeHead(Number(backlog)).end();
    else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backlog }));
  });
  await new Promise<void>((r) => operator.listen(0, '127.0.0.1', r));
  const port = (operator.address() as { port: number }).port;
  api = await startApp(stack, { maxBacklog: MAX_BACKLOG, backlogUrl: `http://127.0.0.1:${port}/v1/backlog?namespace=default&pipeline=test` });
});

after(async () => {
  await api?.close();
  operator?.close();
  await stack?.stop();
});

/** Sets the backlog the endpoint answers and waits until the API has read it (its gauge on /metrics). */
async function backlogIs(value: number): Promise<void> {
  backlog = value;
  await waitFor(
    `the API to read backlog ${value}`,
    async () => {
      const metrics = await api.app.admin.inject({ method: 'GET', url: '/metrics' });
      return new RegExp(`^ocr_api_backlog ${value}$`, 'm').test(metrics.body);
    },
    15_000,
    100,
  );
}

async function postImage(text: string) {
  const form = await multipart({ languages: 'eng' }, { bytes: await textImage([text]), type: 'image/png', name: 'a.png' });
  return await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: { ...auth, ...form.headers }, payload: form.body });
}

/** A finished job whose result the cache holds, written the way the worker writes it. */
async function finishedJob(image: Buffer, text: string): Promise<void> {
  const jobId = `job-${randomUUID()}`;
  const now = new Date().toISOString();
  const result: OcrResult = {
    jobId,
    text,
    lines: [],
    meanConfidence: 90,
    languages: ['eng'],
    image: { width: 10, height: 10, format: 'png' },
    timings: { downloadMs: 1, preprocessMs: 1, recognizeMs: 1, totalMs: 3 },
    worker: 'test',
    completedAt: now,
  };
  const record = { id: jobId, pipeline: 'test', status: 'succeeded' as const, languages: ['eng'], options: { pageSegmentation: 'auto' as const } };
  await stack.records.create({ ...record, attempts: 1, createdAt: now, updatedAt: now, finishedAt: now, contentHash: sha256Hex(image) });
  await stack.blobs.writeResult(result);
  await stack.records.rememberResult('test', dedupeKey(sha256Hex(image), ['eng'], { pageSegmentation: 'auto' }), jobId);
}

void describe('admission by backlog', () => {
  let admittedJob: string;

  void it('admits new jobs while the backlog is under the limit', async () => {
    await backlogIs(1);
    const posted = await postImage('ADMIT 1');
    assert.equal(posted.statusCode, 201, posted.body);
    admittedJob = posted.json<{ job: { id: string } }>().job.id;
  });

  void it('refuses a new job at the limit with 503 QUEUE_BACKLOG_FULL and Retry-After, leaving nothing behind', async () => {
    await backlogIs(MAX_BACKLOG);
    const before = await footprint(stack, 'test');
    const refused = await postImage('REFUSE 2');
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(refused.json<{ error: { code: string } }>().error.code, 'QUEUE_BACKLOG_FULL');
    assert.equal(refused.headers['retry-after'], '5');
    assert.deepEqual(await footprint(stack, 'test'), before);
    const sync = await api.app.inject({
      method: 'POST',
      url: '/v1/ocr',
      headers: { ...auth, 'content-type': 'image/png' },
      payload: await textImage(['SYNC 3']),
    });
    assert.equal(sync.statusCode, 503, sync.body);
  });

  void it('still answers a cache hit and a status read above the limit', async () => {
    const image = await textImage(['CACHED 4']);
    await finishedJob(image, 'CACHED 4');
    const hit = await api.app.inject({ method: 'POST', url: '/v1/ocr', headers: { ...auth, 'content-type': 'image/png' }, payload: image });
    assert.equal(hit.statusCode, 200, hit.body);
    assert.equal(hit.json<{ cached: boolean }>().cached, true);
    const read = await api.app.inject({ method: 'GET', url: `/v1/jobs/${admittedJob}`, headers: auth });
    assert.equal(read.statusCode, 200, read.body);
  });

  void it('refuses a submit above the limit without writing, and the same submit works once the backlog is down', async () => {
    const image = await textImage(['SUBMIT 5']);
    const created = await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { fileName: 'a.png', sizeBytes: image.length } });
    assert.equal(created.statusCode, 201, created.body);
    const { job, upload } = created.json<{ job: { id: string }; upload: { url: string; method: string; headers: Record<string, string> } }>();
    assert.equal((await fetch(upload.url, { method: upload.method, headers: upload.headers, body: image })).status, 201);
    const before = await footprint(stack, 'test');
    const refused = await api.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: auth });
    assert.equal(refused.statusCode, 503, refused.body);
    assert.deepEqual(await footprint(stack, 'test'), before);
    await backlogIs(0);
    const submitted = await api.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: auth });
    assert.equal(submitted.statusCode, 202, submitted.body);
  });

  void it('counts its own jobs since the last reading: the limit holds between two readings', async () => {
    await backlogIs(MAX_BACKLOG - 2);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await postImage(`BURST 6${i}`)).statusCode);
    assert.deepEqual(answers, [201, 201, 503]);
  });

  void it('counts a failed reading and keeps using the last good one until it is stale (then admits: see admission.test.ts)', async () => {
    backlog = '500';
    await waitFor(
      'a failed reading',
      async () => /^ocr_api_backlog_read_errors_total [1-9]/m.test((await api.app.admin.inject({ method: 'GET', url: '/metrics' })).body),
      15_000,
      100,
    );
    // The last good reading (1 under the limit) plus this replica's two sends since: still at the limit.
    assert.equal((await postImage('STALE 7')).statusCode, 503);
  });
});
