// DELETE /v1/jobs/{id} without HTTP: a finished job and everything stored for it go. The same
// owner check as GET (JobCommands.get): a job another key created does not exist for the caller.
// Order: blobs, dedupe entry, then the record (with its webhook outbox row) last, so a delete that
// fails half-way leaves the record, and repeating the DELETE finishes it.
import { dedupeKeysOf, isTerminal, type JobRecord } from '../../jobs/index.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Principal } from '../auth.ts';
import type { ImageStore, RecordStore } from '../deps.ts';
import { ApiError } from '../errors.ts';

export interface DeleteJobDeps {
  /** This pipeline's records partition (pipelinePartition). */
  partition: string;
  records: Pick<RecordStore, 'delete' | 'forgetResult'>;
  blobs: Pick<ImageStore, 'deleteJobBlobs'>;
  /** The owner-checked read GET uses (JobCommands.get): JOB_NOT_FOUND for a missing job or another key's. */
  get: (jobId: string, caller: Principal) => Promise<JobRecord>;
  log: Logger;
  /** Told each deleted job id, so this replica stops naming it for repeated cache hits (JobCommands.forget). */
  forget?: (jobId: string) => void;
}

/**
 * Deletes a job's upload, input, result, dedupe entry and record. A queued or processing job is refused
 * (JOB_IN_PROGRESS): a worker may be about to write its result, which would then outlive its record.
 * A job answered from the cache (resultOf) owns no result blob: the earlier job's result stays.
 */
export async function deleteJob(deps: DeleteJobDeps, jobId: string, caller: Principal): Promise<void> {
  const job = await deps.get(jobId, caller);
  if (!isTerminal(job.status) && job.status !== 'awaiting_upload') {
    throw new ApiError('JOB_IN_PROGRESS', `Job ${jobId} is ${job.status}; delete it once it has finished.`, { status: job.status });
  }
  await deps.blobs.deleteJobBlobs(jobId);
  if (job.contentHash !== undefined && job.resultOf === undefined) {
    // Each key its result may be remembered under (one per engine for a job that named none): each is forgotten only if it names this job.
    const keys = dedupeKeysOf(job.contentHash, job.languages, job.options);
    await Promise.all(keys.map(async (key) => await deps.records.forgetResult(deps.partition, key, jobId)));
  }
  await deps.records.delete(deps.partition, jobId);
  deps.forget?.(jobId);
  deps.log.info({ jobId, status: job.status }, 'Deleted job');
}
