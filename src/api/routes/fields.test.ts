import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OcrResult } from '../../jobs/index.ts';
import { ReceiptResponse } from '../schemas.ts';
import { receiptResponse } from './fields.ts';

const result = (lines: string[]): OcrResult => ({
  jobId: 'job-00000000-receipt',
  text: lines.join('\n'),
  lines: lines.map((text, i) => ({ text, confidence: 90, bbox: { x0: 0, y0: i * 10, x1: 100, y1: i * 10 + 8 } })),
  meanConfidence: 90,
  languages: ['eng'],
  image: { width: 100, height: 100, format: 'png' },
  timings: { downloadMs: 1, preprocessMs: 1, recognizeMs: 1, totalMs: 3 },
  worker: 'w',
  completedAt: '2026-01-01T00:00:00.000Z',
});

void describe('receiptResponse', () => {
  const cases: { name: string; result?: OcrResult; expected: unknown }[] = [
    { name: 'a job still running has no result and no fields', expected: undefined },
    {
      name: 'a receipt result has its receipt fields and no ID numbers',
      result: result(['ACME TRADING SDN BHD', 'DATE: 01/02/2024', 'TOTAL RM 5.00']),
      expected: {
        receipt: {
          company: { value: 'ACME TRADING SDN BHD', lines: [0], confidence: 0.9 },
          date: { value: '2024-02-01', lines: [1], confidence: 0.9 },
          total: { value: '5.00', currency: 'RM', lines: [2], confidence: 0.9 },
        },
        ids: {},
      },
    },
    {
      name: 'a PAN with a holder-type letter that does not exist is absent, never reported',
      result: result(['PERMANENT ACCOUNT NUMBER', 'ABCXE1234F']),
      expected: { receipt: { company: { value: 'PERMANENT ACCOUNT NUMBER', lines: [0], confidence: 0.54 } }, ids: {} },
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const body = receiptResponse('job-00000001-receipt', c.result ? 'succeeded' : 'queued', false, c.result);
      assert.deepEqual(body.fields, c.expected);
      // Every answer is one the OpenAPI schema describes.
      assert.ok(ReceiptResponse.safeParse(body).success, JSON.stringify(ReceiptResponse.safeParse(body).error?.issues));
    });
  }
});
