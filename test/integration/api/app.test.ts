// The API through its app factory (inject, no socket) against real Azurite and the
// Service Bus stand-in, with no worker: creation, submission, queueing, the result
// cache, limits, probes, and every bad input with its documented error and no
// half-made job left behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { dedupeKey, sha256Hex, type OcrResult } from '../../../src/jobs/index.ts';
import { ERROR_CATALOGUE, type ErrorCode } from '../../../src/api/errors.ts';
import { KEY, footprint, multipart, queued, startApp, startStack, type Stack, type TestApp } from './helpers.ts';
import { textImage } from './images.ts';

let stack: Stack;
let api: TestApp;
const MAX_UPLOAD = 64 * 1024;
const auth = { 'x-api-key': KEY };

before(async () => {
  stack = await startStack();
  api = await startApp(stack, { maxUploadBytes: MAX_UPLOAD, syncTimeoutSeconds: 1, languages: ['eng', 'deu'] });
});

after(async () => {
  await api?.close();
  await stack?.stop();
});

function assertError(response: { statusCode: number; json(): unknown }, code: ErrorCode): void {
  const body = response.json() as { error: { code: string; message: string } };
  assert.equal(body.error?.code, code, `expected ${code}, got ${JSON.stringify(body)}`);
  assert.equal(response.statusCode, ERROR_CATALOGUE[code].status);
  assert.ok(body.error.message.length > 0);
}

/**
 * Pretends a worker finished `jobId` with `text`, exactly as the worker's contract says. Its default languages are the
 * pipeline's (eng, deu): what a request that names none is read with, so such a request finds this result in the cache.
 */
async function finishAsWorker(image: Buffer, text: string, languages = ['eng', 'deu']): Promise<string> {
  const jobId = `job-${randomUUID()}`;
  const result: OcrResult = {
    jobId,
    text,
    lines: [],
    meanConfidence: 91,
    languages,
    image: { width: 10, height: 10, format: 'png' },
    timings: { downloadMs: 1, preprocessMs: 1, recognizeMs: 1, totalMs: 3 },
    worker: 'test',
    completedAt: new Date().toISOString(),
  };
  const now = new Date().toISOString();
  await stack.records.create({
    id: jobId,
    pipeline: 'test',
    status: 'succeeded',
    languages,
    options: { pageSegmentation: 'auto' },
    attempts: 1,
    createdAt: now,
    updatedAt: now,
    finishedAt: now,
    contentHash: sha256Hex(image),
  });
  await stack.blobs.writeResult(result);
  await stack.records.rememberResult('test', dedupeKey(sha256Hex(image), languages, { pageSegmentation: 'auto' }), jobId);
  return jobId;
}

void describe('creating a job for a direct upload', () => {
  void it('returns a job awaiting its upload and a URL that accepts the image; submit queues it', async () => {
    const image = await textImage(['UPLOAD PATH 1']);
    const before = queued(stack);
    const created = await api.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: auth,
      payload: { fileName: 'a.png', sizeBytes: image.length, languages: ['eng'] },
    });
    assert.equal(created.statusCode, 201, created.body);
    const { job, upload } = created.json();
    assert.equal(job.status, 'awaiting_upload');
    assert.equal(created.headers.location, `/v1/jobs/${job.id}`);
    const put = await fetch(upload.url, { method: upload.method, headers: upload.headers, body: image });
    assert.equal(put.status, 201);
    const submitted = await api.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: auth });
    assert.equal(submitted.statusCode, 202, submitted.body);
    assert.equal(submitted.json().status, 'queued');
    assert.equal(queued(stack), before + 1);
    const read = await api.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(read.json().status, 'queued');
    assert.equal(read.json().sizeBytes, image.length);
  });

  void it('treats a second submit as a no-op that returns the job', async () => {
    const image = await textImage(['SUBMIT TWICE']);
    const { job, upload } = (await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: {} })).json();
    await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: image });
    await api.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: auth });
    const before = queued(stack);
    const again = await api.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: auth });
    assert.equal(again.statusCode, 202);
    assert.equal(again.json().status, 'queued');
    assert.equal(queued(stack), before);
  });

  // Upload URLs are stateless (src/api/jobs/token.ts): a refused submit records nothing, and the URL stays usable.
  void it('records nothing when the upload is not the declared size, and accepts a corrected upload', async () => {
    const image = await textImage(['SIZE CHECK']);
    const { job, upload } = (await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { sizeBytes: image.length } })).json();
    await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: image.subarray(0, 100) });
    const refused = await api.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: auth });
    assertError(refused, 'UPLOAD_SIZE_MISMATCH');
    assert.equal(await stack.records.get('test', job.id), undefined);
    await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: image });
    assert.equal((await api.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: auth })).statusCode, 202);
  });
});

void describe('posting a small image in a multipart form', () => {
  void it('stores and queues it in one call', async () => {
    const image = await textImage(['MULTIPART PATH']);
    const before = await footprint(stack, 'test');
    const { body, headers } = await multipart({ languages: 'eng' }, { bytes: image, name: 'receipt.png', type: 'image/png' });
    const response = await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: { ...auth, ...headers }, payload: body });
    assert.equal(response.statusCode, 201, response.body);
    const { job } = response.json();
    assert.equal(job.status, 'queued');
    assert.equal(job.fileName, 'receipt.png');
    assert.deepEqual(await footprint(stack, 'test'), { records: before.records + 1, uploads: before.uploads + 1, messages: before.messages + 1 });
  });
});

void describe('the result cache', () => {
  void it('answers an image it has read before at once, without a queue message', async () => {
    const image = await textImage(['CACHED 42']);
    const original = await finishAsWorker(image, 'CACHED 42');
    const before = queued(stack);
    const { body, headers } = await multipart({}, { bytes: image, type: 'image/png' });
    const response = await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: { ...auth, ...headers }, payload: body });
    assert.equal(response.statusCode, 201, response.body);
    const { job } = response.json();
    assert.equal(job.status, 'succeeded');
    assert.equal(job.cached, true);
    assert.equal(job.result.text, 'CACHED 42');
    assert.equal(job.result.jobId, job.id);
    assert.notEqual(job.id, original);
    const sync = await api.app.inject({ method: 'POST', url: '/v1/ocr', headers: { ...auth, 'content-type': 'image/png' }, payload: image });
    assert.equal(sync.statusCode, 200, sync.body);
    assert.deepEqual([sync.json().cached, sync.json().result.text], [true, 'CACHED 42']);
    // A job of the caller's own that shares the earlier result (issue 13): the earlier job's id is never handed out.
    assert.notEqual(sync.json().jobId, original);
    assert.equal(sync.json().result.jobId, sync.json().jobId);
    assert.equal((await stack.records.get('test', sync.json().jobId))?.resultOf, original);
    assert.equal(queued(stack), before, 'no message was sent');
  });

  void it('answers a submitted upload from the cache and marks the job succeeded', async () => {
    const image = await textImage(['CACHED SUBMIT']);
    await finishAsWorker(image, 'CACHED SUBMIT');
    const before = queued(stack);
    const { job, upload } = (await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: {} })).json();
    await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: image });
    const submitted = await api.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: auth });
    assert.equal(submitted.statusCode, 200, submitted.body);
    assert.deepEqual([submitted.json().status, submitted.json().cached, submitted.json().result.text], ['succeeded', true, 'CACHED SUBMIT']);
    assert.equal(queued(stack), before);
  });

  void it('writes one record and no blob for the first cache hit of a caller, and nothing at all for its repeats, which name the same job', async () => {
    const image = await textImage(['REPEATED HIT']);
    await finishAsWorker(image, 'REPEATED HIT');
    const ask = () => api.app.inject({ method: 'POST', url: '/v1/ocr', headers: { ...auth, 'content-type': 'image/png' }, payload: image });
    const before = await footprint(stack, 'test');
    const first = await ask();
    assert.deepEqual([first.statusCode, first.json().cached], [200, true], first.body);
    assert.deepEqual(await footprint(stack, 'test'), { ...before, records: before.records + 1 });
    for (let i = 0; i < 3; i++) {
      const again = await ask();
      assert.deepEqual([again.statusCode, again.json().jobId, again.json().result.text], [200, first.json().jobId, 'REPEATED HIT']);
    }
    assert.deepEqual(await footprint(stack, 'test'), { ...before, records: before.records + 1 });
    // Another key asking the same gets a job of its own, never the first caller's.
    const other = await api.app.inject({
      method: 'POST',
      url: '/v1/ocr',
      headers: { 'x-api-key': 'key-other-9876543210', 'content-type': 'image/png' },
      payload: image,
    });
    assert.equal(other.statusCode, 200, other.body);
    assert.notEqual(other.json().jobId, first.json().jobId);
  });

  void it('records the job of a repeated cache hit again after the caller deleted it, so GET finds what the answer names', async () => {
    const image = await textImage(['HIT AFTER DELETE']);
    await finishAsWorker(image, 'HIT AFTER DELETE');
    const ask = () => api.app.inject({ method: 'POST', url: '/v1/ocr', headers: { ...auth, 'content-type': 'image/png' }, payload: image });
    const first = (await ask()).json();
    const deleted = await api.app.inject({ method: 'DELETE', url: `/v1/jobs/${first.jobId}`, headers: auth });
    assert.equal(deleted.statusCode, 204, deleted.body);
    const again = (await ask()).json();
    const read = await api.app.inject({ method: 'GET', url: `/v1/jobs/${again.jobId}`, headers: auth });
    assert.deepEqual([read.statusCode, read.json().status, read.json().result?.text], [200, 'succeeded', 'HIT AFTER DELETE'], read.body);
  });

  void it('does not answer the same image asked in another language from the cache', async () => {
    const image = await textImage(['LANGUAGE MATTERS']);
    await finishAsWorker(image, 'LANGUAGE MATTERS', ['eng']);
    const { body, headers } = await multipart({ languages: 'deu' }, { bytes: image, type: 'image/png' });
    const response = await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: { ...auth, ...headers }, payload: body });
    assert.equal(response.json().job.status, 'queued');
  });
});

void describe('the synchronous endpoint', () => {
  void it('answers 202 with the job to poll when no worker finishes in time', async () => {
    const image = await textImage(['NOBODY READS THIS']);
    const response = await api.app.inject({ method: 'POST', url: '/v1/ocr?languages=eng', headers: { ...auth, 'content-type': 'image/png' }, payload: image });
    assert.equal(response.statusCode, 202, response.body);
    assert.equal(response.json().status, 'queued');
    assert.equal(response.headers.location, `/v1/jobs/${response.json().jobId}`);
  });
});

void describe('bad input', () => {
  // A type the API does not read (PDF is read since issue 15).
  const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');
  const cases: { name: string; code: ErrorCode; request: () => Promise<InjectOptions> }[] = [
    { name: 'no API key', code: 'API_KEY_MISSING', request: async () => ({ method: 'POST', url: '/v1/jobs', payload: {} }) },
    {
      name: 'a wrong API key',
      code: 'API_KEY_INVALID',
      request: async () => ({ method: 'POST', url: '/v1/jobs', headers: { 'x-api-key': 'wrong' }, payload: {} }),
    },
    {
      name: 'a wrong Bearer token',
      code: 'API_KEY_INVALID',
      request: async () => ({ method: 'GET', url: '/v1/jobs/job-12345678', headers: { authorization: 'Bearer wrong' } }),
    },
    {
      name: 'malformed JSON',
      code: 'MALFORMED_JSON',
      request: async () => ({ method: 'POST', url: '/v1/jobs', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"fileName": ' }),
    },
    {
      name: 'an empty JSON body',
      code: 'EMPTY_BODY',
      request: async () => ({ method: 'POST', url: '/v1/jobs', headers: { ...auth, 'content-type': 'application/json' }, payload: '' }),
    },
    {
      name: 'an unknown field',
      code: 'INVALID_REQUEST',
      request: async () => ({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { colour: 'red' } }),
    },
    { name: 'a negative size', code: 'INVALID_REQUEST', request: async () => ({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { sizeBytes: -1 } }) },
    {
      name: 'a webhook that is not http',
      code: 'INVALID_REQUEST',
      request: async () => ({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { webhookUrl: 'file:///etc/passwd' } }),
    },
    {
      name: 'a language the pipeline does not serve',
      code: 'LANGUAGE_NOT_ALLOWED',
      request: async () => ({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { languages: ['fra'] } }),
    },
    {
      name: 'a webhook when webhooks are off',
      code: 'WEBHOOKS_DISABLED',
      request: async () => ({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { webhookUrl: 'http://127.0.0.1:9/hook' } }),
    },
    {
      name: 'a declared size over the limit',
      code: 'IMAGE_TOO_LARGE',
      request: async () => ({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { sizeBytes: MAX_UPLOAD + 1 } }),
    },
    {
      name: 'an oversized multipart image',
      code: 'IMAGE_TOO_LARGE',
      request: async () => {
        const m = await multipart({}, { bytes: Buffer.alloc(MAX_UPLOAD + 10, 7) });
        return { method: 'POST', url: '/v1/jobs', headers: { ...auth, ...m.headers }, payload: m.body };
      },
    },
    {
      name: 'an oversized raw image',
      code: 'PAYLOAD_TOO_LARGE',
      request: async () => ({
        method: 'POST',
        url: '/v1/ocr',
        headers: { ...auth, 'content-type': 'image/png' },
        payload: Buffer.alloc(MAX_UPLOAD + 128 * 1024, 7),
      }),
    },
    {
      name: 'an empty multipart image',
      code: 'IMAGE_EMPTY',
      request: async () => {
        const m = await multipart({}, { bytes: new Uint8Array(0) });
        return { method: 'POST', url: '/v1/jobs', headers: { ...auth, ...m.headers }, payload: m.body };
      },
    },
    { name: 'an empty raw body', code: 'EMPTY_BODY', request: async () => ({ method: 'POST', url: '/v1/ocr', headers: auth }) },
    {
      name: 'a truncated JPEG',
      code: 'IMAGE_TRUNCATED',
      request: async () => {
        const jpeg = await textImage(['CUT'], 'jpeg');
        const m = await multipart({}, { bytes: jpeg.subarray(0, jpeg.length >> 1) });
        return { method: 'POST', url: '/v1/jobs', headers: { ...auth, ...m.headers }, payload: m.body };
      },
    },
    {
      name: 'a GIF (wrong type)',
      code: 'IMAGE_TYPE_UNSUPPORTED',
      request: async () => {
        const m = await multipart({}, { bytes: gif, type: 'image/png' });
        return { method: 'POST', url: '/v1/jobs', headers: { ...auth, ...m.headers }, payload: m.body };
      },
    },
    {
      name: 'a GIF as a raw body',
      code: 'IMAGE_TYPE_UNSUPPORTED',
      request: async () => ({ method: 'POST', url: '/v1/ocr', headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: gif }),
    },
    {
      name: 'a form without a file part',
      code: 'MULTIPART_INVALID',
      request: async () => {
        const m = await multipart({ languages: 'eng' });
        return { method: 'POST', url: '/v1/jobs', headers: { ...auth, ...m.headers }, payload: m.body };
      },
    },
    {
      name: 'a file part with another name',
      code: 'MULTIPART_INVALID',
      request: async () => {
        const m = await multipart({}, { bytes: gif, field: 'image' });
        return { method: 'POST', url: '/v1/jobs', headers: { ...auth, ...m.headers }, payload: m.body };
      },
    },
    {
      name: 'a raw image posted to /v1/jobs',
      code: 'UNSUPPORTED_MEDIA_TYPE',
      request: async () => ({ method: 'POST', url: '/v1/jobs', headers: { ...auth, 'content-type': 'image/png' }, payload: await textImage(['RAW']) }),
    },
    {
      name: 'an XML body',
      code: 'UNSUPPORTED_MEDIA_TYPE',
      request: async () => ({ method: 'POST', url: '/v1/jobs', headers: { ...auth, 'content-type': 'application/xml' }, payload: '<job/>' }),
    },
    { name: 'an unknown job', code: 'JOB_NOT_FOUND', request: async () => ({ method: 'GET', url: `/v1/jobs/job-${randomUUID()}`, headers: auth }) },
    { name: 'a malformed job id', code: 'INVALID_REQUEST', request: async () => ({ method: 'GET', url: '/v1/jobs/NOT_AN_ID', headers: auth }) },
    {
      name: 'submitting an unknown job',
      code: 'JOB_NOT_FOUND',
      request: async () => ({ method: 'POST', url: `/v1/jobs/job-${randomUUID()}/submit`, headers: auth }),
    },
    { name: 'an unknown route', code: 'ROUTE_NOT_FOUND', request: async () => ({ method: 'GET', url: '/v2/everything', headers: auth }) },
  ];
  for (const c of cases) {
    void it(`answers ${c.name} with ${c.code} and leaves nothing behind`, async () => {
      const before = await footprint(stack, 'test');
      const response = await api.app.inject(await c.request());
      assertError(response, c.code);
      assert.deepEqual(await footprint(stack, 'test'), before);
    });
  }

  void it('answers a submit with its token before the upload with UPLOAD_MISSING and records nothing', async () => {
    const { job, upload } = (await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: {} })).json();
    const before = await footprint(stack, 'test');
    assertError(await api.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: auth, payload: { token: upload.token } }), 'UPLOAD_MISSING');
    assert.equal(await stack.records.get('test', job.id), undefined);
    assert.deepEqual(await footprint(stack, 'test'), before);
  });

  const uploads: { name: string; code: ErrorCode; bytes: () => Promise<Buffer> }[] = [
    { name: 'an empty upload', code: 'IMAGE_EMPTY', bytes: async () => Buffer.alloc(0) },
    { name: 'a GIF upload', code: 'IMAGE_TYPE_UNSUPPORTED', bytes: async () => gif },
    { name: 'a PDF cut short', code: 'IMAGE_TRUNCATED', bytes: async () => Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\n') },
    { name: 'a truncated PNG upload', code: 'IMAGE_TRUNCATED', bytes: async () => (await textImage(['CUT PNG'])).subarray(0, 200) },
    { name: 'an upload over the limit', code: 'IMAGE_TOO_LARGE', bytes: async () => Buffer.alloc(MAX_UPLOAD + 1, 1) },
  ];
  for (const c of uploads) {
    void it(`answers a submit of ${c.name} with ${c.code} and queues nothing`, async () => {
      const { job, upload } = (await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: {} })).json();
      await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: await c.bytes() });
      const before = queued(stack);
      assertError(await api.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: auth }), c.code);
      assert.equal(await stack.records.get('test', job.id), undefined);
      assert.equal(queued(stack), before);
    });
  }
});

void describe('rate limits', () => {
  void it('refuses the request over the per-key limit with 429 and Retry-After, and keeps other keys apart', async () => {
    const limited = await startApp(stack, { rateLimitPerMinute: 2 });
    try {
      for (let i = 0; i < 2; i++)
        assert.equal((await limited.app.inject({ method: 'GET', url: `/v1/jobs/job-${randomUUID()}`, headers: auth })).statusCode, 404);
      const refused = await limited.app.inject({ method: 'GET', url: `/v1/jobs/job-${randomUUID()}`, headers: auth });
      assertError(refused, 'RATE_LIMITED');
      assert.equal(refused.headers['retry-after'], '30');
      const other = await limited.app.inject({ method: 'GET', url: `/v1/jobs/job-${randomUUID()}`, headers: { 'x-api-key': 'key-other-9876543210' } });
      assert.equal(other.statusCode, 404);
      const metrics = await limited.app.admin.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /^ocr_api_rate_limited_total 1$/m);
    } finally {
      await limited.close();
    }
  });
});

void describe('probes, metrics and the OpenAPI document', () => {
  void it('is live and ready when storage and the queue answer', async () => {
    assert.equal((await api.app.inject({ method: 'GET', url: '/live' })).statusCode, 200);
    const ready = await api.app.inject({ method: 'GET', url: '/ready' });
    assert.equal(ready.statusCode, 200, ready.body);
    const health = (await api.app.inject({ method: 'GET', url: '/health' })).json();
    assert.equal(health.status, 'ok');
    assert.deepEqual(Object.keys(health.checks).sort(), ['blobs', 'queue', 'records']);
  });

  void it('is not ready when the queue is unreachable, and says which dependency failed', async () => {
    const { startServiceBusStandin } = await import('../../support/servicebus.ts');
    const standin = await startServiceBusStandin({ queues: [{ name: 'ocr-jobs' }] });
    const broken = await startApp({ ...stack, standin });
    try {
      assert.equal((await broken.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
      await standin.close();
      const ready = await broken.app.inject({ method: 'GET', url: '/ready' });
      assert.equal(ready.statusCode, 503, ready.body);
      assert.deepEqual(ready.json().failing, ['queue']);
      assert.equal((await broken.app.inject({ method: 'GET', url: '/live' })).statusCode, 200);
    } finally {
      await broken.close();
    }
  });

  void it('counts requests by route template and status, jobs created and cache hits', async () => {
    const body = (await api.app.admin.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(body, /ocr_api_request_duration_seconds_count\{route="\/v1\/jobs",method="POST",status="201"\} \d+/);
    assert.match(body, /ocr_api_request_duration_seconds_count\{route="\/v1\/jobs\/:id",method="GET",status="404"\} \d+/);
    assert.match(body, /ocr_api_jobs_created_total\{path="upload_url"\} [1-9]/);
    assert.match(body, /ocr_api_cache_hits_total [1-9]/);
  });

  void it('serves an OpenAPI 3.1 document with every /v1 route and the error codes', async () => {
    const doc = (await api.app.admin.inject({ method: 'GET', url: '/openapi.json' })).json();
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(
      Object.keys(doc.paths)
        .filter((p) => p.startsWith('/v1'))
        .sort(),
      ['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/fields', '/v1/jobs/{id}/result', '/v1/jobs/{id}/submit', '/v1/ocr', '/v1/ocr/receipt', '/v1/parse'],
    );
    // The result route documents each format's content type; the receipt answer its fields.
    assert.deepEqual(Object.keys(doc.paths['/v1/jobs/{id}/result'].get.responses['200'].content).sort(), [
      'application/json',
      'application/pdf',
      'application/xhtml+xml; charset=utf-8',
      'text/plain; charset=utf-8',
      'text/tab-separated-values; charset=utf-8',
    ]);
    assert.ok(doc.paths['/v1/ocr/receipt'].post.responses['200'].content['application/json'].schema.properties.fields);
    assert.ok(doc.paths['/v1/jobs'].post.requestBody.content['multipart/form-data']);
    assert.deepEqual(doc.components.schemas.Error.properties.error.properties.code.enum, Object.keys(ERROR_CATALOGUE));
    assert.match(doc.paths['/v1/jobs/{id}/submit'].post.responses['409'].description, /UPLOAD_MISSING/);
  });
});
