// Error classes that decide how a message is settled (the BullMQ way: the class,
// not the call site, says what happens next).
//
// - PermanentJobError: retrying cannot help (a corrupt image stays corrupt). The job is
//   marked failed and the message is dead-lettered at once, with the code as the
//   dead-letter reason and the message as a description a person can act on.
// - TransientJobError: the world may be different on the next delivery (a blob not yet
//   visible, a storage hiccup, an OCR worker that crashed). The message is abandoned, so
//   the broker redelivers it; on the last allowed delivery the job is marked failed first,
//   and the broker then dead-letters it (MaxDeliveryCountExceeded).
//
// - OcrTimeoutError: a transient error that counts towards the job's timeouts: after
//   WORKER_RETRY_MAX_TIMEOUTS of them (default 2) the image is treated as one this pipeline
//   cannot OCR in time, and the job fails instead of costing another full time budget.
//
// Any other error is a bug or an outage we did not foresee: treated as transient.
import type { JobErrorCode } from '../jobs/schema.ts';

/** What both job errors carry: a stable code for records and dead-letter reasons; the message is the readable reason. */
abstract class JobError extends Error {
  readonly code: JobErrorCode;
  constructor(code: JobErrorCode, reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.code = code;
  }
}

export class PermanentJobError extends JobError {
  override name = 'PermanentJobError';
}

export class TransientJobError extends JobError {
  override name = 'TransientJobError';
}

/** Recognition ran out of the job's time budget (WORKER_MAX_JOB_SECONDS): transient, but counted per job. */
export class OcrTimeoutError extends TransientJobError {
  override name = 'OcrTimeoutError';
}

/** The code and readable reason of any error, for records, logs and dead-letter descriptions. */
export function describeError(error: unknown): { code: JobErrorCode; reason: string; permanent: boolean; timeout: boolean } {
  if (error instanceof JobError)
    return { code: error.code, reason: error.message, permanent: error instanceof PermanentJobError, timeout: error instanceof OcrTimeoutError };
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { code: 'OCR_FAILED', reason, permanent: false, timeout: false };
}
