// A job may ask for either engine (issue 15 item 1), end to end with real processes: the API and a real worker
// (an eng, deu pipeline on tesseract, paddle allowed: OCR_REQUEST_ENGINES as the operator sets them), Azurite and the
// Service Bus stand-in. One pipeline reads one job with tesseract and one with paddle; each result says its engine,
// the worker loads paddle only when the first job asks for it, and the result cache never answers one engine's job
// with the other's result.
// Answers are read field by field with assertions; typing every shape here would only repeat schemas.ts.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '../../../src/contract/container.ts';
import { KEY, KEYS_FILE, processEnv, startStack, stopAll, type Stack } from './helpers.ts';
import { normalize, textImage } from './images.ts';
import { startApiProcess, startWorker, type Child } from './processes.ts';

const PIPELINE = 'engines';
let stack: Stack;
let worker: Child;
let api: Child;
let dir: string;

before(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), 'ocr-engines-'));
  await writeFile(join(dir, 'keys'), KEYS_FILE);
  const shared = { ...processEnv(stack, PIPELINE), [ENV.languages]: 'eng,deu', [ENV.requestEngines]: 'tesseract,paddle' };
  [worker, api] = await Promise.all([
    startWorker({ ...shared, [ENV.ocrEngine]: 'tesseract', [ENV.tesseractModel]: 'best', WORKER_MAX_JOB_SECONDS: '120' }),
    startApiProcess({ ...shared, API_KEYS_FILE: join(dir, 'keys'), SYNC_TIMEOUT_SECONDS: '120', API_POLL_INTERVAL_MS: '100' }),
  ]);
});

after(() => stopAll({ children: [api, worker], stack, dir }));

async function ocr(image: Buffer, fields: Record<string, string>): Promise<{ status: number; json: any }> {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.append(k, v);
  data.append('file', new Blob([image], { type: 'image/png' }), 'invoice.png');
  const response = await fetch(`${api.url}/v1/ocr`, { method: 'POST', headers: { 'x-api-key': KEY }, body: data, signal: AbortSignal.timeout(180_000) });
  return { status: response.status, json: await response.json() };
}

async function health(): Promise<any> {
  return await (await fetch(`${worker.url}/health`)).json();
}

void describe('a job asks for its engine', () => {
  void it('one pipeline reads a job with tesseract and one with paddle; each result says its engine; paddle loads on its first job', async () => {
    const image = await textImage(['INVOICE 4711', 'TOTAL 12.50']);
    const before = await health();
    assert.deepEqual(
      before.engines.map((e: any) => [e.name, e.loaded]),
      [
        ['tesseract', true],
        ['paddle', false],
      ],
      'paddle is not loaded before a job asks for it',
    );

    const tesseract = await ocr(image, { engine: 'tesseract', languages: 'eng' });
    assert.equal(tesseract.status, 200, JSON.stringify(tesseract.json));
    assert.deepEqual(tesseract.json.result.engine, { name: 'tesseract', model: 'best' });
    assert.match(normalize(tesseract.json.result.text), /TOTAL 12\.50/);

    const paddle = await ocr(image, { engine: 'paddle', languages: 'eng' });
    assert.equal(paddle.status, 200, JSON.stringify(paddle.json));
    assert.equal(paddle.json.cached, false, "the tesseract job's result does not answer a paddle job");
    assert.deepEqual(paddle.json.result.engine, { name: 'paddle', model: 'PP-OCRv4' });
    assert.match(normalize(paddle.json.result.text), /TOTAL 12\.50/);
    assert.deepEqual(
      (await health()).engines.map((e: any) => [e.name, e.loaded]),
      [
        ['tesseract', true],
        ['paddle', true],
      ],
    );

    const job: any = await (await fetch(`${api.url}/v1/jobs/${paddle.json.jobId}`, { headers: { 'x-api-key': KEY } })).json();
    assert.equal(job.options.engine, 'paddle', 'the job record keeps the engine it asked for');
  });

  void it("a job naming no engine is read by the pipeline's, records none, and is answered from the tesseract result, not paddle's", async () => {
    const image = await textImage(['INVOICE 4711', 'TOTAL 12.50']);
    const again = await ocr(image, { languages: 'eng' });
    assert.equal(again.status, 200, JSON.stringify(again.json));
    assert.equal(again.json.cached, true);
    assert.deepEqual(again.json.result.engine, { name: 'tesseract', model: 'best' });
    const job: any = await (await fetch(`${api.url}/v1/jobs/${again.json.jobId}`, { headers: { 'x-api-key': KEY } })).json();
    assert.deepEqual(job.options, { pageSegmentation: 'auto' });
  });

  void it('refuses paddle for a language it cannot read, and an engine it does not know, before any job exists', async () => {
    const image = await textImage(['RECHNUNG']);
    const german = await ocr(image, { engine: 'paddle', languages: 'eng,deu' });
    assert.deepEqual(
      [german.status, german.json.error.code, german.json.error.details],
      [400, 'ENGINE_LANGUAGE_UNSUPPORTED', { engine: 'paddle', unsupported: ['deu'] }],
    );
    // A job naming no languages is read with every language of the pipeline, deu among them.
    const unnamed = await ocr(image, { engine: 'paddle' });
    assert.deepEqual([unnamed.status, unnamed.json.error.code], [400, 'ENGINE_LANGUAGE_UNSUPPORTED']);
    const unknown = await ocr(image, { engine: 'easyocr' });
    assert.deepEqual([unknown.status, unknown.json.error.code], [400, 'INVALID_REQUEST']);
  });
});
