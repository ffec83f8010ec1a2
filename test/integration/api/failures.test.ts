// When things go wrong after a request was accepted: the queue goes away (no
// half-made job: the multipart path takes its record and blob back, the submit
// path marks the job failed with ENQUEUE_FAILED), and a webhook receiver fails
// (the delivery is retried with the same delivery id and a fresh valid signature).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { DELIVERY_HEADER, SIGNATURE_HEADER, dedupeKey, sha256Hex, verifyWebhook } from '../../../src/jobs/index.ts';
import { ERROR_CATALOGUE } from '../../../src/api/errors.ts';
import { LOOPBACK_WEBHOOKS } from '../../support/api-config.ts';
import { startServiceBusStandin } from '../../support/servicebus.ts';
import { waitFor } from '../../support/ports.ts';
import { KEY, footprint, multipart, startApp, startStack, type Stack } from './helpers.ts';
import { textImage } from './images.ts';

let stack: Stack;
const auth = { 'x-api-key': KEY };

before(async () => {
  stack = await startStack();
});

after(async () => {
  await stack?.stop();
});

void describe('the queue going away', () => {
  void it('takes back the record and the image of a multipart job it could not queue', async () => {
    const standin = await startServiceBusStandin({ queues: ['ocr-jobs'] });
    const api = await startApp({ ...stack, standin }, { pipeline: 'noqueue' });
    try {
      await standin.close();
      const before = await footprint(stack, 'noqueue');
      const { body, headers } = await multipart({}, { bytes: await textImage(['NO QUEUE']), type: 'image/png' });
      const response = await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: { ...auth, ...headers }, payload: body });
      assert.equal(response.json().error?.code, 'QUEUE_UNAVAILABLE', response.body);
      assert.equal(response.statusCode, ERROR_CATALOGUE.QUEUE_UNAVAILABLE.status);
      assert.deepEqual({ ...(await footprint(stack, 'noqueue')), messages: 0 }, { ...before, messages: 0 });
    } finally {
      await api.close();
    }
  });

  void it('marks a submitted job it could not queue as failed with ENQUEUE_FAILED', async () => {
    const standin = await startServiceBusStandin({ queues: ['ocr-jobs'] });
    const api = await startApp({ ...stack, standin }, { pipeline: 'noqueue' });
    try {
      const { job, upload } = (await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: {} })).json();
      await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: await textImage(['NO QUEUE SUBMIT']) });
      await standin.close();
      const response = await api.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: auth });
      assert.equal(response.json().error?.code, 'QUEUE_UNAVAILABLE', response.body);
      const record = await stack.records.get('noqueue', job.id);
      assert.deepEqual([record?.status, record?.errorCode], ['failed', 'ENQUEUE_FAILED']);
    } finally {
      await api.close();
    }
  });
});

void describe('webhook delivery', () => {
  let receiver: Server;
  let url: string;
  const seen: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];

  before(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (c: Buffer) => {
        body += c.toString();
      });
      request.on('end', () => {
        seen.push({ headers: request.headers, body });
        response.writeHead(seen.length === 1 ? 503 : 204).end(); // the first attempt fails
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const address = receiver.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
  });

  after(() => {
    receiver?.close();
  });

  void it('retries after a failed attempt with the same delivery id and a valid signature', async () => {
    const api = await startApp(stack, {
      pipeline: 'hooks',
      webhookSecret: 's3cret',
      webhookBaseDelayMs: 20,
      webhookAttempts: 3,
      webhookEgress: LOOPBACK_WEBHOOKS,
    });
    try {
      // A finished job answers from the cache, so the API delivers at once.
      const image = await textImage(['HOOK RETRY']);
      const done = `job-${randomUUID()}`;
      const now = new Date().toISOString();
      await stack.records.create({
        id: done,
        pipeline: 'hooks',
        status: 'succeeded',
        languages: ['eng'],
        options: { pageSegmentation: 'auto' },
        attempts: 1,
        createdAt: now,
        updatedAt: now,
      });
      await stack.blobs.writeResult({
        jobId: done,
        text: 'HOOK RETRY',
        lines: [],
        meanConfidence: 90,
        languages: ['eng'],
        image: { width: 1, height: 1, format: 'png' },
        timings: { downloadMs: 0, preprocessMs: 0, recognizeMs: 0, totalMs: 0 },
        worker: 'test',
        completedAt: now,
      });
      await stack.records.rememberResult('hooks', dedupeKey(sha256Hex(image), ['eng'], { pageSegmentation: 'auto' }), done);
      const { body, headers } = await multipart({ webhookUrl: url }, { bytes: image, type: 'image/png' });
      const response = await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: { ...auth, ...headers }, payload: body });
      assert.equal(response.statusCode, 201, response.body);
      await waitFor('two webhook attempts', () => seen.length >= 2, 10_000, 20);
      const [first, second] = seen;
      assert.equal(first?.headers[DELIVERY_HEADER], second?.headers[DELIVERY_HEADER]);
      assert.equal(verifyWebhook('s3cret', second?.headers[SIGNATURE_HEADER] as string, second?.body ?? ''), true);
      const event = JSON.parse(second?.body ?? '{}');
      assert.deepEqual([event.event, event.jobId, event.cached, event.result?.text], ['job.succeeded', response.json().job.id, true, 'HOOK RETRY']);
      // The outbox settles the delivery (a Table write) before it counts it.
      const metrics = async (): Promise<string> => (await api.app.admin.inject({ method: 'GET', url: '/metrics' })).body;
      await waitFor('the delivery counted', async () => /ocr_api_webhooks_total\{outcome="delivered"\}/.test(await metrics()), 5_000, 20);
      assert.match(await metrics(), /ocr_api_webhooks_total\{outcome="delivered"\} 1/);
      assert.match(await metrics(), /ocr_api_webhooks_total\{outcome="retried"\} 1/);
    } finally {
      await api.close();
    }
  });
});
