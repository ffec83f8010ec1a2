// Tenants kept apart (issue 13, item 2), through the app factory against real Azurite and
// the Service Bus stand-in: a job answers only to the key that created it and to admin
// keys (to any other key it does not exist: 404 JOB_NOT_FOUND, never 403); a cache hit
// gives the caller a job of its own; and pipelines of the same name in different
// namespaces on the same storage see neither each other's jobs nor each other's cache.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { dedupeKey, pipelinePartition, sha256Hex, type OcrResult } from '../../../src/jobs/index.ts';
import { ANONYMOUS_OWNER } from '../../../src/api/auth.ts';
import { LOOPBACK_WEBHOOKS } from '../../support/api-config.ts';
import { waitFor } from '../../support/ports.ts';
import { multipart, startApp, startStack, type Stack, type TestApp } from './helpers.ts';
import { textImage } from './images.ts';

const KEYS = { a: 'key-team-a-0123456789', b: 'key-team-b-0123456789', admin: 'key-ops-admin-0123456789' };
const KEYS_FILE = `team-a:${KEYS.a}\nteam-b:${KEYS.b}\nops.admin:${KEYS.admin}\n`;
const as = (key: string): Record<string, string> => ({ 'x-api-key': key });
const PIPELINE = 'receipts';

let stack: Stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  await stack?.stop();
});

/** Pretends a worker finished a queued job with `text`, as the worker's contract says (result, record, dedupe entry). */
async function finishAsWorker(partition: string, jobId: string, image: Buffer, text: string): Promise<void> {
  const now = new Date().toISOString();
  const result: OcrResult = {
    jobId,
    text,
    lines: [],
    meanConfidence: 91,
    languages: ['eng'],
    image: { width: 10, height: 10, format: 'png' },
    timings: { downloadMs: 1, preprocessMs: 1, recognizeMs: 1, totalMs: 3 },
    worker: 'test',
    completedAt: now,
  };
  await stack.blobs.writeResult(result);
  const done = await stack.records.transition(partition, jobId, { to: 'succeeded', patch: { finishedAt: now } });
  assert.equal(done?.status, 'succeeded');
  await stack.records.rememberResult(partition, dedupeKey(sha256Hex(image), ['eng'], { pageSegmentation: 'auto' }), jobId);
}

/** A queued job of `key`, from a multipart image. */
async function postImage(
  api: TestApp,
  key: string,
  image: Buffer,
  fields: Record<string, string> = {},
): Promise<{ id: string; status: string; cached: boolean }> {
  const { body, headers } = await multipart(fields, { bytes: image, type: 'image/png' });
  const response = await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: { ...as(key), ...headers }, payload: body });
  assert.equal(response.statusCode, 201, response.body);
  return response.json().job;
}

function assertNotFound(response: { statusCode: number; json(): unknown }, jobId: string): void {
  assert.equal(response.statusCode, 404);
  assert.deepEqual(response.json(), { error: { code: 'JOB_NOT_FOUND', message: `There is no job ${jobId} in this pipeline.` } });
}

void describe('jobs answer only to the key that created them and to admin keys', () => {
  let api: TestApp;

  before(async () => {
    api = await startApp(stack, { pipeline: PIPELINE, namespace: 'finance' }, KEYS_FILE);
  });

  after(async () => {
    await api?.close();
  });

  void it("records the creating key's name as the job's owner when the job is submitted", async () => {
    const created = await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: as(KEYS.a), payload: {} });
    assert.equal(created.statusCode, 201, created.body);
    const { job, upload } = created.json();
    await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: await textImage(['OWNED BY A']) });
    assert.equal((await api.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: as(KEYS.a) })).statusCode, 202);
    const record = await stack.records.get(pipelinePartition(PIPELINE, 'finance'), job.id);
    assert.equal(record?.owner, 'team-a');
  });

  void it('tells another key that the job does not exist, on read and on submit, exactly as for a missing job', async () => {
    const created = (await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: as(KEYS.a), payload: {} })).json();
    const { job, upload } = created;
    await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: await textImage(['TEAM A ONLY']) });
    assertNotFound(await api.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: as(KEYS.b) }), job.id);
    assertNotFound(await api.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: as(KEYS.b) }), job.id);
    const missing = `job-${randomUUID()}`;
    assertNotFound(await api.app.inject({ method: 'GET', url: `/v1/jobs/${missing}`, headers: as(KEYS.b) }), missing);
    // The other key's submit changed nothing: nothing is recorded until the owner submits it, and the owner can.
    assert.equal(await stack.records.get(pipelinePartition(PIPELINE, 'finance'), job.id), undefined);
    const submitted = await api.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: as(KEYS.a) });
    assert.deepEqual([submitted.statusCode, submitted.json().status], [202, 'queued'], submitted.body);
  });

  void it('shows the job to its owner and to an admin key', async () => {
    const job = await postImage(api, KEYS.a, await textImage(['OWNER AND ADMIN']));
    for (const key of [KEYS.a, KEYS.admin]) {
      const read = await api.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: as(key) });
      assert.deepEqual([read.statusCode, read.json().id], [200, job.id], read.body);
    }
  });

  void it('shows a record older than owners to admin keys only', async () => {
    const id = `job-${randomUUID()}`;
    const now = new Date().toISOString();
    await stack.records.create({
      id,
      pipeline: pipelinePartition(PIPELINE, 'finance'),
      status: 'queued',
      languages: ['eng'],
      options: { pageSegmentation: 'auto' },
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    });
    assertNotFound(await api.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: as(KEYS.a) }), id);
    assert.equal((await api.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: as(KEYS.admin) })).statusCode, 200);
  });

  void it("answers another key's repeated image with a job of its own that carries the cached result", async () => {
    const image = await textImage(['SHARED 4711']);
    const first = await postImage(api, KEYS.a, image);
    await finishAsWorker(pipelinePartition(PIPELINE, 'finance'), first.id, image, 'SHARED 4711');
    const sync = await api.app.inject({ method: 'POST', url: '/v1/ocr', headers: { ...as(KEYS.b), 'content-type': 'image/png' }, payload: image });
    assert.equal(sync.statusCode, 200, sync.body);
    const answer = sync.json();
    assert.deepEqual([answer.status, answer.cached, answer.result.text], ['succeeded', true, 'SHARED 4711']);
    assert.notEqual(answer.jobId, first.id, "the earlier job's id is not handed out");
    assert.equal(answer.result.jobId, answer.jobId);
    const own = await api.app.inject({ method: 'GET', url: `/v1/jobs/${answer.jobId}`, headers: as(KEYS.b) });
    assert.deepEqual([own.statusCode, own.json().status, own.json().cached, own.json().result.text], [200, 'succeeded', true, 'SHARED 4711']);
    assertNotFound(await api.app.inject({ method: 'GET', url: `/v1/jobs/${first.id}`, headers: as(KEYS.b) }), first.id);
    assertNotFound(await api.app.inject({ method: 'GET', url: `/v1/jobs/${answer.jobId}`, headers: as(KEYS.a) }), answer.jobId);
    const record = await stack.records.get(pipelinePartition(PIPELINE, 'finance'), answer.jobId);
    assert.deepEqual([record?.owner, record?.resultOf], ['team-b', first.id]);
  });

  void it("gives another key's multipart job of a repeated image its own job too", async () => {
    const image = await textImage(['SHARED 0815']);
    const first = await postImage(api, KEYS.a, image);
    await finishAsWorker(pipelinePartition(PIPELINE, 'finance'), first.id, image, 'SHARED 0815');
    const second = await postImage(api, KEYS.b, image);
    assert.deepEqual([second.status, second.cached], ['succeeded', true]);
    assert.notEqual(second.id, first.id);
    assert.equal((await stack.records.get(pipelinePartition(PIPELINE, 'finance'), second.id))?.owner, 'team-b');
  });
});

void describe("a cache hit's webhook", () => {
  let receiver: Server;
  let url: string;
  const seen: string[] = [];

  before(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (c: Buffer) => {
        body += c.toString();
      });
      request.on('end', () => {
        seen.push(body);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const address = receiver.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
  });

  after(() => {
    receiver?.close();
  });

  void it("fires for the caller's own job, not for the earlier job", async () => {
    const api = await startApp(stack, { pipeline: 'hooked', namespace: 'finance', webhookSecret: 's3cret', webhookEgress: LOOPBACK_WEBHOOKS }, KEYS_FILE);
    try {
      const image = await textImage(['HOOKED 1234']);
      const first = await postImage(api, KEYS.a, image);
      await finishAsWorker(pipelinePartition('hooked', 'finance'), first.id, image, 'HOOKED 1234');
      const query = `?webhookUrl=${encodeURIComponent(url)}`;
      const sync = await api.app.inject({ method: 'POST', url: `/v1/ocr${query}`, headers: { ...as(KEYS.b), 'content-type': 'image/png' }, payload: image });
      assert.equal(sync.statusCode, 200, sync.body);
      await waitFor('the webhook of the cache hit', () => seen.length >= 1, 10_000, 20);
      const event = JSON.parse(seen[0] ?? '{}');
      assert.deepEqual([event.jobId, event.cached, event.result?.jobId, event.result?.text], [sync.json().jobId, true, sync.json().jobId, 'HOOKED 1234']);
      assert.notEqual(event.jobId, first.id);
    } finally {
      await api.close();
    }
  });
});

void describe('pipelines of the same name in different namespaces on the same storage', () => {
  let finance: TestApp;
  let marketing: TestApp;

  before(async () => {
    finance = await startApp(stack, { pipeline: 'shared', namespace: 'finance' }, KEYS_FILE);
    marketing = await startApp(stack, { pipeline: 'shared', namespace: 'marketing', syncTimeoutSeconds: 1 }, KEYS_FILE);
  });

  after(async () => {
    await finance?.close();
    await marketing?.close();
  });

  void it('keep their records in separate partitions', async () => {
    const job = await postImage(finance, KEYS.a, await textImage(['FINANCE 1']));
    assert.equal((await stack.records.get('finance.shared', job.id))?.id, job.id);
    assert.equal(await stack.records.get('marketing.shared', job.id), undefined);
    assert.equal(await stack.records.get('shared', job.id), undefined);
  });

  void it("do not show each other's jobs, not even to the same key name or an admin key", async () => {
    const job = await postImage(finance, KEYS.a, await textImage(['FINANCE 2']));
    for (const key of [KEYS.a, KEYS.admin]) {
      assertNotFound(await marketing.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: as(key) }), job.id);
      assertNotFound(await marketing.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: as(key) }), job.id);
    }
  });

  void it("do not answer from each other's result cache", async () => {
    const image = await textImage(['FINANCE CACHE 99']);
    const first = await postImage(finance, KEYS.a, image);
    await finishAsWorker('finance.shared', first.id, image, 'FINANCE CACHE 99');
    const inFinance = await postImage(finance, KEYS.a, image);
    assert.equal(inFinance.cached, true, 'the cache answers inside its own namespace');
    const inMarketing = await marketing.app.inject({
      method: 'POST',
      url: '/v1/ocr',
      headers: { ...as(KEYS.a), 'content-type': 'image/png' },
      payload: image,
    });
    assert.equal(inMarketing.statusCode, 202, inMarketing.body);
    assert.deepEqual([inMarketing.json().status, inMarketing.json().cached], ['queued', false]);
  });
});

void describe('with authentication off', () => {
  void it('makes every caller one anonymous owner that sees every job', async () => {
    const api = await startApp(stack, { pipeline: 'open', namespace: 'finance' }, null);
    try {
      const created = await api.app.inject({ method: 'POST', url: '/v1/jobs', payload: {}, remoteAddress: '10.0.0.1' });
      assert.equal(created.statusCode, 201, created.body);
      const { job, upload } = created.json();
      const id: string = job.id;
      // Recorded at submit (upload URLs are stateless), here from another address: still the same anonymous owner.
      await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: await textImage(['ANYONE']) });
      const submitted = await api.app.inject({ method: 'POST', url: `/v1/jobs/${id}/submit`, remoteAddress: '10.0.0.3' });
      assert.equal(submitted.statusCode, 202, submitted.body);
      const read = await api.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, remoteAddress: '10.0.0.2' });
      assert.deepEqual([read.statusCode, read.json().id], [200, id], read.body);
      assert.equal((await stack.records.get(pipelinePartition('open', 'finance'), id))?.owner, ANONYMOUS_OWNER);
    } finally {
      await api.close();
    }
  });
});
