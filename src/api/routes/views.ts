// What the HTTP answers look like: a job record (storage shape) mapped to the
// JobView the API documents, and the body of the sync endpoint. Pure mapping; the
// one read (a succeeded job's result) goes through the result cache.
import type { JobRecord, JobStatus, OcrResult } from '../../jobs/index.ts';
import type { ResultCache } from '../jobs/result-cache.ts';
import type { JobView, OcrResponse } from '../schemas.ts';

/** Milliseconds between two ISO timestamps, or undefined when either is missing; never negative. */
function msBetween(from: string | undefined, to: string | undefined): number | undefined {
  if (!from || !to) return undefined;
  return Math.max(0, Date.parse(to) - Date.parse(from));
}

/** The JobView of a record; `result` is shown only when the job succeeded, under the job's own id. */
export function jobView(job: JobRecord, result: OcrResult | undefined): JobView {
  const shown = job.status === 'succeeded' && result ? { ...result, jobId: job.id } : undefined;
  const queuedMs = msBetween(job.queuedAt, job.startedAt);
  const processingMs = msBetween(job.startedAt, job.finishedAt);
  const totalMs = msBetween(job.createdAt, job.finishedAt);
  return {
    id: job.id,
    status: job.status,
    ...(job.fileName ? { fileName: job.fileName } : {}),
    ...(job.expectedBytes !== undefined ? { sizeBytes: job.expectedBytes } : {}),
    languages: job.languages,
    options: job.options,
    webhook: job.webhookUrl !== undefined,
    ...(job.webhook ? { webhookDelivery: job.webhook } : {}),
    attempts: job.attempts,
    ...retryOf(job),
    cached: job.resultOf !== undefined,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.queuedAt ? { queuedAt: job.queuedAt } : {}),
    ...(job.startedAt ? { startedAt: job.startedAt } : {}),
    ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}),
    timings: {
      ...(queuedMs !== undefined ? { queuedMs } : {}),
      ...(processingMs !== undefined ? { processingMs } : {}),
      ...(totalMs !== undefined ? { totalMs } : {}),
    },
    ...(shown ? { result: shown } : {}),
    ...errorOf(job),
  };
}

/** The `retry` of a queued job waiting for its next attempt after a transient failure; nothing otherwise. */
function retryOf(job: JobRecord): Pick<JobView, 'retry'> {
  if (job.status !== 'queued' || job.nextAttemptAt === undefined) return {};
  return {
    retry: { nextAttemptAt: job.nextAttemptAt, lastError: { code: job.lastErrorCode ?? 'OCR_FAILED', message: job.lastErrorMessage ?? 'the attempt failed' } },
  };
}

/** The `error` of a job that failed or expired; nothing for other states. */
function errorOf(job: JobRecord): Pick<JobView, 'error'> {
  if (job.status !== 'failed' && job.status !== 'expired') return {};
  return { error: { code: job.errorCode ?? 'OCR_FAILED', message: job.errorMessage ?? 'the job failed' } };
}

/** The JobView of a record, reading a succeeded job's result from the cache unless the command already has it. */
export async function loadJobView(results: ResultCache, job: JobRecord, known?: OcrResult): Promise<JobView> {
  if (job.status !== 'succeeded') return jobView(job, undefined);
  return jobView(job, known ?? (await results.resultOf(job)));
}

/** The body of POST /v1/ocr. */
export function ocrResponse(jobId: string, status: JobStatus, cached: boolean, result?: OcrResult): OcrResponse {
  return { jobId, status, cached, ...(result ? { result } : {}) };
}
