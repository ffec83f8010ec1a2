import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobRecord, OcrResult } from '../../jobs/index.ts';
import { jobView, ocrResponse } from './views.ts';

const record: JobRecord = {
  id: 'job-00000001',
  pipeline: 'test',
  status: 'succeeded',
  languages: ['eng'],
  options: { pageSegmentation: 'auto' },
  attempts: 1,
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:03.000Z',
  queuedAt: '2024-01-01T00:00:00.500Z',
  startedAt: '2024-01-01T00:00:01.000Z',
  finishedAt: '2024-01-01T00:00:03.000Z',
};

const result: OcrResult = {
  jobId: 'job-00000000',
  text: 'HELLO',
  lines: [],
  meanConfidence: 90,
  languages: ['eng'],
  image: { width: 1, height: 1, format: 'png' },
  timings: { downloadMs: 0, preprocessMs: 0, recognizeMs: 0, totalMs: 0 },
  worker: 'test',
  completedAt: '2024-01-01T00:00:03.000Z',
};

void describe('the JobView of a record', () => {
  void it('reports queued, processing and total time in ms from the record timestamps', () => {
    assert.deepEqual(jobView(record, undefined).timings, { queuedMs: 500, processingMs: 2_000, totalMs: 3_000 });
  });

  void it('shows when a queued job retries and why, and nothing once it runs again', () => {
    const waiting: JobRecord = {
      ...record,
      status: 'queued',
      nextAttemptAt: '2024-01-01T00:00:08.000Z',
      lastErrorCode: 'UPLOAD_MISSING',
      lastErrorMessage: 'no image at inputs/job-00000001',
    };
    assert.deepEqual(jobView(waiting, undefined).retry, {
      nextAttemptAt: '2024-01-01T00:00:08.000Z',
      lastError: { code: 'UPLOAD_MISSING', message: 'no image at inputs/job-00000001' },
    });
    assert.equal(jobView({ ...waiting, status: 'processing' }, undefined).retry, undefined);
    assert.equal(jobView({ ...record, status: 'queued' }, undefined).retry, undefined);
  });

  void it('leaves out timings whose timestamps are missing', () => {
    assert.deepEqual(jobView({ ...record, status: 'queued', startedAt: undefined, finishedAt: undefined }, undefined).timings, {});
  });

  void it("shows a shared result under the job's own id", () => {
    const view = jobView({ ...record, resultOf: 'job-00000000' }, result);
    assert.equal(view.result?.jobId, record.id);
    assert.equal(view.cached, true);
  });

  void it('shows no result unless the job succeeded', () => {
    assert.equal(jobView({ ...record, status: 'queued' }, result).result, undefined);
  });

  void it('shows why a failed job failed, with defaults when the record says nothing', () => {
    assert.deepEqual(jobView({ ...record, status: 'failed' }, undefined).error, { code: 'OCR_FAILED', message: 'the job failed' });
    assert.deepEqual(jobView({ ...record, status: 'failed', errorCode: 'ENQUEUE_FAILED', errorMessage: 'queue down' }, undefined).error, {
      code: 'ENQUEUE_FAILED',
      message: 'queue down',
    });
  });
});

void describe('the body of POST /v1/ocr', () => {
  void it('carries the result only when there is one', () => {
    assert.deepEqual(ocrResponse('job-00000001', 'queued', false), { jobId: 'job-00000001', status: 'queued', cached: false });
    assert.deepEqual(Object.keys(ocrResponse('job-00000001', 'succeeded', true, result)), ['jobId', 'status', 'cached', 'result']);
  });
});
