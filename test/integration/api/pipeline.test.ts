// End to end with real processes: the API (node src/api/main.ts), a real worker
// (node src/worker/main.ts, tesseract.js), Azurite and the Service Bus stand-in.
// Every path a client uses ends with text that OCR really read.
// Answers are read field by field with assertions; typing every shape here would only repeat schemas.ts.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SIGNATURE_HEADER, verifyWebhook } from '../../../src/jobs/index.ts';
import { LOOPBACK_WEBHOOKS_ENV } from '../../support/api-config.ts';
import { waitFor } from '../../support/ports.ts';
import { KEY, KEYS_FILE, processEnv, queued, startHookReceiver, startStack, stopAll, type HookReceiver, type Stack } from './helpers.ts';
import { normalize, textImage } from './images.ts';
import { startApiProcess, startWorker, type Child } from './processes.ts';

const PIPELINE = 'e2e';
const SECRET = 'webhook-secret-for-tests';
let stack: Stack;
let worker: Child;
let api: Child;
let dir: string;
let receiver: HookReceiver;

before(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), 'ocr-api-'));
  await writeFile(join(dir, 'keys'), KEYS_FILE);
  const shared = processEnv(stack, PIPELINE);
  receiver = await startHookReceiver();
  [worker, api] = await Promise.all([
    startWorker(shared),
    startApiProcess({
      ...shared,
      API_KEYS_FILE: join(dir, 'keys'),
      WEBHOOK_SECRET: SECRET,
      // The receiver listens on http://127.0.0.1, which the egress policy refuses unless allowed.
      ...LOOPBACK_WEBHOOKS_ENV,
      SYNC_TIMEOUT_SECONDS: '60',
      API_POLL_INTERVAL_MS: '100',
      API_MAX_UPLOAD_BYTES: String(2 * 1024 * 1024),
    }),
  ]);
});

after(() => stopAll({ children: [api, worker], clients: [receiver], stack, dir }));

const auth = { 'x-api-key': KEY };

async function call(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: RequestInit['body'] } = {},
): Promise<{ status: number; headers: Headers; json: any }> {
  const response = await fetch(api.url + path, { method, headers: { ...auth, ...init.headers }, body: init.body ?? null, signal: AbortSignal.timeout(90_000) });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

async function pollUntilDone(jobId: string): Promise<any> {
  let job: any;
  await waitFor(
    `job ${jobId} to finish`,
    async () => {
      job = (await call('GET', `/v1/jobs/${jobId}`)).json;
      return job.status === 'succeeded' || job.status === 'failed';
    },
    90_000,
    200,
  );
  return job;
}

function form(image: Buffer, fields: Record<string, string> = {}): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.append(k, v);
  data.append('file', new Blob([image], { type: 'image/png' }), 'receipt.png');
  return data;
}

async function workerJobs(): Promise<number> {
  const text = await (await fetch(`${worker.url}/metrics`)).text();
  return [...text.matchAll(/^ocr_worker_jobs_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

void describe('the API with a real worker', () => {
  void it('reads an image uploaded through the upload URL and submitted', async () => {
    const image = await textImage(['TOTAL 4711']);
    const created = await call('POST', '/v1/jobs', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fileName: 'total.png', sizeBytes: image.length }),
    });
    assert.equal(created.status, 201);
    const { job, upload } = created.json;
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: image });
    assert.equal(put.status, 201);
    assert.equal((await call('POST', `/v1/jobs/${job.id}/submit`)).status, 202);
    const done = await pollUntilDone(job.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.match(normalize(done.result.text), /4711/);
    assert.equal(done.result.jobId, job.id);
    assert.ok(done.timings.totalMs >= done.timings.processingMs);
  });

  void it('reads a small image posted as a multipart form', async () => {
    const posted = await call('POST', '/v1/jobs', { body: form(await textImage(['INVOICE 2024'])) });
    assert.equal(posted.status, 201);
    assert.equal(posted.json.job.status, 'queued');
    const done = await pollUntilDone(posted.json.job.id);
    assert.match(normalize(done.result.text), /INVOICE 2024/);
  });

  void it('waits for the worker on the synchronous endpoint and answers with the text', async () => {
    const image = await textImage(['SYNC 8080']);
    const answered = await call('POST', '/v1/ocr', { headers: { 'content-type': 'image/png' }, body: image });
    assert.equal(answered.status, 200, JSON.stringify(answered.json));
    assert.equal(answered.json.cached, false);
    assert.match(normalize(answered.json.result.text), /8080/);
  });

  void it('answers an image it has read before from the cache, with no queue message and no worker run', async () => {
    const image = await textImage(['CACHE 5150']);
    const first = await call('POST', '/v1/ocr', { body: form(image) });
    assert.equal(first.status, 200, JSON.stringify(first.json));
    const jobsBefore = await workerJobs();
    const messagesBefore = queued(stack);
    const second = await call('POST', '/v1/jobs', { body: form(image) });
    assert.equal(second.status, 201);
    assert.equal(second.json.job.status, 'succeeded');
    assert.equal(second.json.job.cached, true);
    assert.equal(second.json.job.result.text, first.json.result.text);
    const sync = await call('POST', '/v1/ocr', { headers: { 'content-type': 'image/png' }, body: image });
    assert.deepEqual([sync.status, sync.json.cached], [200, true]);
    // A job of the caller's own that shares the first job's result (issue 13: the earlier job's id is never handed out).
    assert.notEqual(sync.json.jobId, first.json.jobId);
    assert.equal((await stack.records.get(PIPELINE, sync.json.jobId))?.resultOf, first.json.jobId);
    await new Promise((r) => setTimeout(r, 500)); // give a stray message time to show up
    assert.equal(queued(stack), messagesBefore);
    assert.equal(await workerJobs(), jobsBefore, 'the worker processed nothing');
  });

  void it('delivers a signed webhook when the job finishes, and the signature verifies', async () => {
    receiver.hooks.length = 0;
    const posted = await call('POST', '/v1/jobs', { body: form(await textImage(['HOOK 1234']), { webhookUrl: receiver.url }) });
    assert.equal(posted.status, 201, JSON.stringify(posted.json));
    await waitFor('the webhook', () => receiver.hooks.length > 0, 90_000, 100);
    const hook = receiver.hooks[0]!;
    assert.equal(verifyWebhook(SECRET, hook.headers[SIGNATURE_HEADER] as string, hook.body), true);
    assert.equal(verifyWebhook('another-secret', hook.headers[SIGNATURE_HEADER] as string, hook.body), false);
    const event = JSON.parse(hook.body);
    assert.deepEqual([event.event, event.jobId], ['job.succeeded', posted.json.job.id]);
    assert.match(normalize(event.result.text), /1234/);
    assert.equal(hook.headers['x-ocr-event'], 'job.succeeded');
    // The worker's terminal write queued it in the outbox; the API replica delivered it with the stable delivery id.
    assert.equal(hook.headers['x-ocr-delivery'], `${posted.json.job.id}.succeeded`);
    await waitFor(
      'the delivered state',
      async () => (await call('GET', `/v1/jobs/${posted.json.job.id}`)).json.webhookDelivery?.state === 'delivered',
      10_000,
      50,
    );
    assert.equal((await call('GET', `/v1/jobs/${posted.json.job.id}`)).json.webhookDelivery.attempts, 1);
  });

  void it('reports a job the worker cannot decode as failed with the reason', async () => {
    const image = await textImage(['CORRUPT']);
    // Valid signature and end marker, garbage in between: passes the API's cheap checks, fails decoding.
    const corrupt = Buffer.concat([image.subarray(0, 16), Buffer.alloc(image.length - 28, 0x55), image.subarray(image.length - 12)]);
    const posted = await call('POST', '/v1/jobs', { body: form(corrupt) });
    assert.equal(posted.status, 201, JSON.stringify(posted.json));
    const done = await pollUntilDone(posted.json.job.id);
    assert.equal(done.status, 'failed');
    assert.equal(done.error.code, 'IMAGE_CORRUPT', JSON.stringify(done.error));
  });

  void it('stops on SIGTERM with exit code 0 after it stops being ready', async () => {
    const code = await api.stop('SIGTERM');
    assert.equal(code, 0, api.logs().slice(-2000));
  });
});
