// A job's engine (issue 15 item 1): the pipeline's OCR_REQUEST_ENGINES says which a job may ask for, and paddle reads
// eng and chi_sim only. An engine the job names is recorded in its options, so its token, message and dedupe key carry it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.ts';
import { CreateJobBody, ImageFields } from '../schemas.ts';
import { settleRequest, type PipelineLimits } from './checks.ts';

const base: PipelineLimits = { languages: ['eng', 'chi_sim', 'deu'], maxUploadBytes: 100, webhooks: false };
const both: PipelineLimits = { ...base, engines: ['paddle', 'tesseract'] };

void describe('the engine a job is read by', () => {
  const settled: { name: string; limits: PipelineLimits; languages?: string[]; engine?: 'tesseract' | 'paddle'; expected: string | undefined }[] = [
    {
      name: "a job naming none records none (records and messages stay as older workers read them; the pipeline's engine reads it)",
      limits: both,
      expected: undefined,
    },
    { name: 'a job asking for tesseract on a paddle pipeline gets tesseract', limits: both, languages: ['eng'], engine: 'tesseract', expected: 'tesseract' },
    { name: 'a Chinese job may ask for paddle', limits: both, languages: ['chi_sim'], engine: 'paddle', expected: 'paddle' },
    { name: 'a job may name the pipeline engine', limits: both, languages: ['eng'], engine: 'paddle', expected: 'paddle' },
    { name: 'without OCR_REQUEST_ENGINES a job may ask for either engine', limits: base, languages: ['eng'], engine: 'paddle', expected: 'paddle' },
  ];
  for (const c of settled) {
    void it(c.name, () => {
      const request = { ...(c.languages ? { languages: c.languages } : {}), ...(c.engine ? { options: { engine: c.engine } } : {}) };
      assert.equal(settleRequest(c.limits, request).options.engine, c.expected);
    });
  }

  const refused: {
    name: string;
    limits: PipelineLimits;
    languages?: string[];
    engine: 'tesseract' | 'paddle';
    code: string;
    details: Record<string, unknown>;
  }[] = [
    {
      name: 'an engine the pipeline does not offer',
      limits: { ...base, engines: ['tesseract'] },
      engine: 'paddle',
      code: 'ENGINE_NOT_ALLOWED',
      details: { engine: 'paddle', allowed: ['tesseract'] },
    },
    {
      name: 'paddle for a German job',
      limits: both,
      languages: ['eng', 'deu'],
      engine: 'paddle',
      code: 'ENGINE_LANGUAGE_UNSUPPORTED',
      details: { engine: 'paddle', unsupported: ['deu'] },
    },
    {
      name: 'paddle for a German job on a pipeline without OCR_REQUEST_ENGINES',
      limits: base,
      languages: ['deu'],
      engine: 'paddle',
      code: 'ENGINE_LANGUAGE_UNSUPPORTED',
      details: { engine: 'paddle', unsupported: ['deu'] },
    },
  ];
  for (const c of refused) {
    void it(`refuses ${c.name} with ${c.code} and says why in its details`, () => {
      const request = { ...(c.languages ? { languages: c.languages } : {}), options: { engine: c.engine } };
      assert.throws(
        () => settleRequest(c.limits, request),
        (error: unknown) =>
          error instanceof ApiError && error.code === c.code && error.status === 400 && assert.deepEqual(error.details, c.details) === undefined,
      );
    });
  }
});

void describe('the engine field in the request schemas', () => {
  const cases: { name: string; parse: () => { success: boolean }; ok: boolean }[] = [
    { name: 'POST /v1/jobs takes options.engine paddle', parse: () => CreateJobBody.safeParse({ options: { engine: 'paddle' } }), ok: true },
    { name: 'POST /v1/jobs refuses an engine the image does not carry', parse: () => CreateJobBody.safeParse({ options: { engine: 'easyocr' } }), ok: false },
    {
      name: 'POST /v1/jobs refuses engine outside options (unknown fields are refused)',
      parse: () => CreateJobBody.safeParse({ engine: 'paddle' }),
      ok: false,
    },
    { name: 'a form or query takes engine tesseract', parse: () => ImageFields.safeParse({ engine: 'tesseract' }), ok: true },
    { name: 'a form or query refuses an empty engine', parse: () => ImageFields.safeParse({ engine: '' }), ok: false },
  ];
  for (const c of cases) void it(c.name, () => assert.equal(c.parse().success, c.ok));
});
