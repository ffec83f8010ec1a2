// Results that cannot be forged, end to end with real processes: the API (node src/api/main.ts),
// a real worker (node src/worker/main.ts, tesseract.js), Azurite and the Service Bus stand-in.
// The upload URL stays valid after submit; a client that PUTs other bytes through it after
// submitting changes neither what is OCRed nor what the result cache answers for the first
// image. Both jobs are submitted and overwritten before the worker starts, so the worker
// certainly runs after the overwrite.
// Answers are read field by field with assertions; typing every shape here would only repeat schemas.ts.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inputBlobPath, sha256Hex, uploadBlobPath } from '../../../src/jobs/index.ts';
import { waitFor } from '../../support/ports.ts';
import { KEY, KEYS_FILE, processEnv, startStack, stopAll, type Stack } from './helpers.ts';
import { normalize, textImage } from './images.ts';
import { startApiProcess, startWorker, type Child } from './processes.ts';

let stack: Stack;
let api: Child;
let worker: Child | undefined;
let dir: string;
let shared: Record<string, string>;

before(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), 'ocr-integrity-'));
  await writeFile(join(dir, 'keys'), KEYS_FILE);
  shared = processEnv(stack, 'integrity');
  api = await startApiProcess({ ...shared, API_KEYS_FILE: join(dir, 'keys'), SYNC_TIMEOUT_SECONDS: '60', API_POLL_INTERVAL_MS: '100' });
});

after(() => stopAll({ children: [api, worker], stack, dir }));

async function call(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: RequestInit['body'] } = {},
): Promise<{ status: number; json: any }> {
  const response = await fetch(api.url + path, {
    method,
    headers: { 'x-api-key': KEY, ...init.headers },
    body: init.body ?? null,
    signal: AbortSignal.timeout(90_000),
  });
  return { status: response.status, json: await response.json() };
}

async function pollUntilDone(jobId: string): Promise<any> {
  let job: any;
  await waitFor(
    `job ${jobId} to finish`,
    async () => {
      job = (await call('GET', `/v1/jobs/${jobId}`)).json;
      return job.status === 'succeeded' || job.status === 'failed';
    },
    120_000,
    { intervalMs: 200, detail: () => `last seen: ${JSON.stringify(job)}\nworker logs:\n${worker?.logs().slice(-3000)}` },
  );
  return job;
}

/** Creates a job, PUTs `first` through its upload URL, submits, then PUTs `then` through the same URL. */
async function submitThenOverwrite(first: Buffer, then: Buffer): Promise<string> {
  const created = await call('POST', '/v1/jobs', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fileName: 'invoice.png' }) });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const { job, upload } = created.json;
  assert.equal((await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: first })).status, 201);
  const submitted = await call('POST', `/v1/jobs/${job.id}/submit`);
  assert.deepEqual([submitted.status, submitted.json.status], [202, 'queued'], JSON.stringify(submitted.json));
  const again = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: then });
  assert.equal(again.status, 201, 'the upload URL still accepts a PUT after submit (the attack needs it)');
  return job.id;
}

async function blobBytes(path: string): Promise<Buffer> {
  return await stack.blobs.container.getBlockBlobClient(path).downloadToBuffer();
}

void describe('an upload overwritten after submit', () => {
  let invoice: Buffer;
  let forged: Buffer;
  let receipt: Buffer;
  let overwrittenWithImage: string;
  let overwrittenWithText: string;

  before(async () => {
    invoice = await textImage(['INVOICE 3141']);
    forged = await textImage(['FORGED 2718']);
    receipt = await textImage(['RECEIPT 1618']);
    overwrittenWithImage = await submitThenOverwrite(invoice, forged);
    // Also past the API's magic-byte allowlist: what replaces the image is not an image at all.
    overwrittenWithText = await submitThenOverwrite(receipt, Buffer.from('#!/bin/sh\necho not an image\n'));
    worker = await startWorker(shared);
  });

  void it('keeps the checked bytes in inputs/<jobId> while uploads/<jobId> holds the later PUT', async () => {
    assert.equal(sha256Hex(await blobBytes(inputBlobPath(overwrittenWithImage))), sha256Hex(invoice));
    assert.equal(sha256Hex(await blobBytes(uploadBlobPath(overwrittenWithImage))), sha256Hex(forged));
    assert.equal(sha256Hex(await blobBytes(inputBlobPath(overwrittenWithText))), sha256Hex(receipt));
  });

  void it('gives the job the text of the image it submitted, not of the later PUT', async () => {
    const done = await pollUntilDone(overwrittenWithImage);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.match(normalize(done.result.text), /INVOICE 3141/);
    assert.doesNotMatch(normalize(done.result.text), /FORGED|2718/);
    const text = await pollUntilDone(overwrittenWithText);
    assert.equal(text.status, 'succeeded', JSON.stringify(text));
    assert.match(normalize(text.result.text), /RECEIPT 1618/);
  });

  void it("answers a later client's invoice from the cache with the invoice's text", async () => {
    const answered = await call('POST', '/v1/ocr', { headers: { 'content-type': 'image/png' }, body: invoice });
    assert.equal(answered.status, 200, JSON.stringify(answered.json));
    assert.equal(answered.json.cached, true);
    // A job of the caller's own that shares the invoice job's result (issue 13: the earlier job's id is never handed out).
    assert.notEqual(answered.json.jobId, overwrittenWithImage);
    assert.equal((await stack.records.get('integrity', answered.json.jobId))?.resultOf, overwrittenWithImage);
    assert.match(normalize(answered.json.result.text), /INVOICE 3141/);
  });

  void it('reads the image put there later as itself, not from the cache', async () => {
    const answered = await call('POST', '/v1/ocr', { headers: { 'content-type': 'image/png' }, body: forged });
    assert.equal(answered.status, 200, JSON.stringify(answered.json));
    assert.equal(answered.json.cached, false);
    assert.match(normalize(answered.json.result.text), /FORGED 2718/);
  });
});
