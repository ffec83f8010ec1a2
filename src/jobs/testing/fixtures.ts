// Test-only (src/**/testing/** is excluded from the image build, tsconfig.build.json).
// A job record and an OCR result with every required field, for tests that care about a few of them:
// a test names what it is about in `overrides` and takes the rest from here.
import type { JobRecord, OcrResult } from '../schema.ts';

/** The moment the fixtures' timestamps default to. */
export const FIXTURE_TIME = '2024-01-01T00:00:00.000Z';

/** A queued English job `job-00000001` of the pipeline `test`, created and last changed at FIXTURE_TIME. */
export function jobRecord(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    id: 'job-00000001',
    pipeline: 'test',
    status: 'queued',
    languages: ['eng'],
    options: { pageSegmentation: 'auto' },
    attempts: 0,
    createdAt: FIXTURE_TIME,
    updatedAt: FIXTURE_TIME,
    ...overrides,
  };
}

/** The result of a 1x1 PNG that read "HELLO" at confidence 90, with zero timings, for the job `job-00000000`. */
export function ocrResult(overrides: Partial<OcrResult> = {}): OcrResult {
  return {
    jobId: 'job-00000000',
    text: 'HELLO',
    lines: [],
    meanConfidence: 90,
    languages: ['eng'],
    image: { width: 1, height: 1, format: 'png' },
    timings: { downloadMs: 0, preprocessMs: 0, recognizeMs: 0, totalMs: 0 },
    worker: 'test',
    completedAt: FIXTURE_TIME,
    ...overrides,
  };
}
