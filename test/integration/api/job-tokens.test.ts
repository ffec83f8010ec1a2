// Stateless upload URLs against Azurite and the Service Bus stand-in: POST /v1/jobs (JSON)
// records nothing, submit verifies the signed job token before it creates the record, and a
// forged, mismatched or expired token is refused with its documented code and writes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CATALOGUE, type ErrorCode } from '../../../src/api/errors.ts';
import { KEY, countRecords, footprint, queued, startApp, startStack, type Stack, type TestApp } from './helpers.ts';
import { textImage } from './images.ts';

let stack: Stack;
let api: TestApp;
const auth = { 'x-api-key': KEY };
const other = { 'x-api-key': 'key-other-9876543210' };

before(async () => {
  stack = await startStack();
  api = await startApp(stack);
});

after(async () => {
  await api?.close();
  await stack?.stop();
});

interface Created {
  job: { id: string; status: string };
  upload: { url: string; method: string; headers: Record<string, string>; token: string; expiresAt: string };
}

async function create(app: TestApp = api, payload: Record<string, unknown> = {}): Promise<Created> {
  const response = await app.app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload });
  assert.equal(response.statusCode, 201, response.body);
  return response.json<Created>();
}

function submit(id: string, body?: Record<string, unknown>, headers: Record<string, string> = auth, app: TestApp = api) {
  return app.app.inject({ method: 'POST', url: `/v1/jobs/${id}/submit`, headers, ...(body ? { payload: body } : {}) });
}

function assertError(response: { statusCode: number; json(): unknown }, code: ErrorCode): void {
  const body = response.json() as { error: { code: string } };
  assert.equal(body.error?.code, code, `expected ${code}, got ${JSON.stringify(body)}`);
  assert.equal(response.statusCode, ERROR_CATALOGUE[code].status);
}

/** The token with one claim changed and the original signature kept. */
function forge(token: string, change: Record<string, unknown>): string {
  const [version, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  return `${version}.${Buffer.from(JSON.stringify({ ...claims, ...change })).toString('base64url')}.${signature}`;
}

void describe('stateless upload URLs', () => {
  void it('issues an upload URL and a token without writing a record, and GET of that id is 404 until submit', async () => {
    const before = await countRecords(stack, 'test');
    const { job, upload } = await create();
    assert.equal(job.status, 'awaiting_upload');
    assert.match(upload.token, /^v1\.[\w-]+\.[\w-]+$/);
    assert.equal(upload.headers['x-ms-meta-ocrjobtoken'], upload.token);
    assert.equal(await countRecords(stack, 'test'), before);
    assertError(await api.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: auth }), 'JOB_NOT_FOUND');
  });

  void it('leaves no record for an upload URL that is used but never submitted, only its upload blob', async () => {
    const before = await footprint(stack, 'test');
    const { upload } = await create();
    assert.equal((await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: await textImage(['NEVER SUBMITTED']) })).status, 201);
    assert.deepEqual(await footprint(stack, 'test'), { ...before, uploads: before.uploads + 1 });
  });

  void it('creates the record at submit with the token in the body, with the owner and options the token carries', async () => {
    const image = await textImage(['TOKEN IN BODY']);
    const { job, upload } = await create(api, { fileName: 'body.png', sizeBytes: image.length, contentType: 'image/png', languages: ['eng'] });
    // Without the metadata header: the token comes only from the submit body.
    await fetch(upload.url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: image });
    const submitted = await submit(job.id, { token: upload.token });
    assert.deepEqual([submitted.statusCode, submitted.json().status], [202, 'queued'], submitted.body);
    const record = await stack.records.get('test', job.id);
    assert.deepEqual([record?.owner, record?.fileName, record?.expectedBytes, record?.status], ['tester', 'body.png', image.length, 'queued']);
    const again = await submit(job.id, { token: upload.token });
    assert.deepEqual([again.statusCode, again.json().status], [202, 'queued']);
  });

  const refusals: { name: string; code: ErrorCode; token: (created: Created) => string }[] = [
    { name: 'a token whose owner was changed', code: 'JOB_TOKEN_INVALID', token: (c) => forge(c.upload.token, { owner: 'other' }) },
    { name: 'a token whose declared size was changed', code: 'JOB_TOKEN_INVALID', token: (c) => forge(c.upload.token, { size: 5 }) },
    { name: 'a token whose expiry was pushed back', code: 'JOB_TOKEN_INVALID', token: (c) => forge(c.upload.token, { exp: Date.now() + 86_400_000 }) },
    { name: 'a token with a made-up signature', code: 'JOB_TOKEN_INVALID', token: (c) => `${c.upload.token.split('.').slice(0, 2).join('.')}.AAAA` },
    { name: 'a token that is not a token', code: 'JOB_TOKEN_INVALID', token: () => 'hello' },
  ];
  for (const c of refusals) {
    void it(`refuses a submit with ${c.name} as ${c.code} and writes nothing`, async () => {
      const created = await create();
      await fetch(created.upload.url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: await textImage(['FORGED']) });
      const before = await footprint(stack, 'test');
      assertError(await submit(created.job.id, { token: c.token(created) }), c.code);
      assert.deepEqual(await footprint(stack, 'test'), before);
    });
  }

  void it('refuses a token PUT as the upload metadata that was forged, as JOB_TOKEN_INVALID', async () => {
    const created = await create();
    const forged = forge(created.upload.token, { languages: ['deu'] });
    await fetch(created.upload.url, {
      method: 'PUT',
      headers: { ...created.upload.headers, 'x-ms-meta-ocrjobtoken': forged },
      body: await textImage(['META']),
    });
    const before = await footprint(stack, 'test');
    assertError(await submit(created.job.id), 'JOB_TOKEN_INVALID');
    assert.deepEqual(await footprint(stack, 'test'), before);
  });

  void it("refuses another job's genuine token as JOB_TOKEN_INVALID", async () => {
    const first = await create();
    const second = await create();
    await fetch(second.upload.url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: await textImage(['SWAPPED']) });
    assertError(await submit(second.job.id, { token: first.upload.token }), 'JOB_TOKEN_INVALID');
    assert.equal(await stack.records.get('test', second.job.id), undefined);
  });

  void it("answers another key's submit with a genuine token exactly as a missing job", async () => {
    const created = await create();
    await fetch(created.upload.url, { method: 'PUT', headers: created.upload.headers, body: await textImage(['NOT YOURS']) });
    assertError(await submit(created.job.id, { token: created.upload.token }, other), 'JOB_NOT_FOUND');
    assertError(await submit(created.job.id, undefined, other), 'JOB_NOT_FOUND');
    assert.equal(await stack.records.get('test', created.job.id), undefined);
  });

  void it('refuses a submit after the token expired as JOB_TOKEN_EXPIRED and records nothing', async () => {
    const shortLived = await startApp(stack, { uploadUrlTtlSeconds: 1 });
    try {
      const created = await create(shortLived);
      await fetch(created.upload.url, { method: 'PUT', headers: created.upload.headers, body: await textImage(['TOO LATE']) });
      await new Promise((r) => setTimeout(r, Date.parse(created.upload.expiresAt) - Date.now() + 50));
      const messages = queued(stack);
      assertError(await submit(created.job.id, { token: created.upload.token }, auth, shortLived), 'JOB_TOKEN_EXPIRED');
      assertError(await submit(created.job.id, undefined, auth, shortLived), 'JOB_TOKEN_EXPIRED');
      assert.equal(await stack.records.get('test', created.job.id), undefined);
      assert.equal(queued(stack), messages);
    } finally {
      await shortLived.close();
    }
  });

  void it('returns a job it recorded to a repeated submit after the token expired', async () => {
    const shortLived = await startApp(stack, { uploadUrlTtlSeconds: 1 });
    try {
      const created = await create(shortLived);
      await fetch(created.upload.url, { method: 'PUT', headers: created.upload.headers, body: await textImage(['SUBMITTED IN TIME']) });
      assert.equal((await submit(created.job.id, { token: created.upload.token }, auth, shortLived)).statusCode, 202);
      await new Promise((r) => setTimeout(r, Date.parse(created.upload.expiresAt) - Date.now() + 50));
      const again = await submit(created.job.id, { token: created.upload.token }, auth, shortLived);
      assert.deepEqual([again.statusCode, again.json().id], [202, created.job.id], again.body);
    } finally {
      await shortLived.close();
    }
  });

  void it('refuses an upload of another type than the declared contentType and records nothing', async () => {
    const created = await create(api, { contentType: 'image/jpeg' });
    await fetch(created.upload.url, { method: 'PUT', headers: created.upload.headers, body: await textImage(['PNG NOT JPEG']) });
    assertError(await submit(created.job.id), 'IMAGE_TYPE_UNSUPPORTED');
    assert.equal(await stack.records.get('test', created.job.id), undefined);
  });
});
