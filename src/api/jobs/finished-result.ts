// The result of a job the caller may read, for the endpoints that need one (GET /v1/jobs/{id}/result,
// GET /v1/jobs/{id}/fields): a job without a result is refused with the reason, never answered empty.
import type { OcrResult } from '../../jobs/index.ts';
import type { Principal } from '../auth.ts';
import { ApiError } from '../errors.ts';
import type { JobCommands } from './commands.ts';
import type { ResultCache } from './result-cache.ts';

/** 404 JOB_NOT_FOUND for another key's job, 422 JOB_FAILED (details.reason) for a failed one, 409 JOB_NO_RESULT (details.status) until it succeeded. */
export async function finishedResult(commands: JobCommands, results: ResultCache, id: string, caller: Principal): Promise<OcrResult> {
  const job = await commands.get(id, caller);
  if (job.status === 'failed') {
    throw new ApiError('JOB_FAILED', job.errorMessage ?? 'The job failed.', { jobId: id, reason: job.errorCode ?? 'OCR_FAILED' });
  }
  const result = job.status === 'succeeded' ? await results.resultOf(job) : undefined;
  if (!result) throw new ApiError('JOB_NO_RESULT', `Job ${id} is ${job.status}; it has no result.`, { jobId: id, status: job.status });
  return result;
}
