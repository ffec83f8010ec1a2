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
// Any other error is a bug or an outage we did not foresee: treated as transient.
import type { JobErrorCode } from '../jobs/schema.ts';

export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
  readonly code: JobErrorCode;
  constructor(code: JobErrorCode, reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.code = code;
  }
}

export class TransientJobError extends Error {
  override name = 'TransientJobError';
  readonly code: JobErrorCode;
  constructor(code: JobErrorCode, reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.code = code;
  }
}

/** The code and readable reason of any error, for records, logs and dead-letter descriptions. */
export function describeError(error: unknown): { code: JobErrorCode; reason: string; permanent: boolean } {
  if (error instanceof PermanentJobError) return { code: error.code, reason: error.message, permanent: true };
  if (error instanceof TransientJobError) return { code: error.code, reason: error.message, permanent: false };
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { code: 'OCR_FAILED', reason, permanent: false };
}
