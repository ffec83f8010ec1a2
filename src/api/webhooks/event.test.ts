import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobRecord, OcrResult } from '../../jobs/index.ts';
import { jobRecord, ocrResult } from '../../jobs/testing/fixtures.ts';
import { jobView } from '../routes/views.ts';
import { webhookEvent } from './event.ts';

const finished: JobRecord = jobRecord({
  status: 'succeeded',
  attempts: 1,
  updatedAt: '2024-01-01T00:00:03.000Z',
  finishedAt: '2024-01-01T00:00:03.000Z',
  webhookUrl: 'https://hooks.example.com/ocr',
});

const result: OcrResult = ocrResult({ completedAt: '2024-01-01T00:00:03.000Z' });

void describe('the webhook event of a finished job', () => {
  const cases: [name: string, record: JobRecord, result: OcrResult | undefined, expected: Partial<ReturnType<typeof webhookEvent>>][] = [
    [
      'a succeeded job sends job.succeeded with its result under its own id',
      finished,
      result,
      { event: 'job.succeeded', result: { ...result, jobId: finished.id } },
    ],
    [
      'a failed job sends job.failed with its error code and message',
      { ...finished, status: 'failed', errorCode: 'IMAGE_CORRUPT', errorMessage: 'not an image' },
      undefined,
      { event: 'job.failed', error: { code: 'IMAGE_CORRUPT', message: 'not an image' } },
    ],
    [
      'an expired job sends job.expired with its error',
      { ...finished, status: 'expired', errorCode: 'UPLOAD_MISSING', errorMessage: 'no upload' },
      undefined,
      { event: 'job.expired', error: { code: 'UPLOAD_MISSING', message: 'no upload' } },
    ],
    ['a cache hit says cached', { ...finished, resultOf: 'job-00000000' }, result, { event: 'job.succeeded', cached: true }],
  ];
  for (const [name, record, given, expected] of cases) {
    void it(name, () => {
      const event = webhookEvent(record, given);
      assert.equal(event.jobId, record.id);
      assert.equal(event.status, record.status);
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(event[key as keyof typeof event], value, key);
    });
  }
});

void describe('the webhook state in the JobView', () => {
  void it('is absent until the job finished', () => {
    const view = jobView({ ...finished, status: 'processing', finishedAt: undefined }, undefined);
    assert.equal(view.webhook, true);
    assert.equal(view.webhookDelivery, undefined);
  });

  void it('shows the state, attempts, last error and delivery time of the record', () => {
    const webhook = { state: 'delivered', attempts: 3, lastError: 'receiver answered 500', deliveredAt: '2024-01-01T00:01:00.000Z' } as const;
    assert.deepEqual(jobView({ ...finished, webhook }, result).webhookDelivery, webhook);
  });
});
