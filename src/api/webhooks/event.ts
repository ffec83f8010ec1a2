// The body of a webhook: what a receiver gets when a job finishes. Built at delivery time from
// the job's record and result (the outbox row holds only where and what to send), so a
// redelivery carries the same content.
import type { JobRecord, OcrResult } from '../../jobs/index.ts';

export interface WebhookEvent {
  /** `job.<status>`: job.succeeded, job.failed, or another terminal status (job.expired). */
  event: string;
  jobId: string;
  status: JobRecord['status'];
  finishedAt: string | undefined;
  cached: boolean;
  result?: OcrResult;
  error?: { code: string; message: string };
}

export function webhookEvent(record: JobRecord, result: OcrResult | undefined): WebhookEvent {
  const succeeded = record.status === 'succeeded';
  return {
    event: `job.${record.status}`,
    jobId: record.id,
    status: record.status,
    finishedAt: record.finishedAt,
    cached: record.resultOf !== undefined,
    ...(succeeded && result ? { result: { ...result, jobId: record.id } } : {}),
    ...(!succeeded ? { error: { code: record.errorCode ?? 'OCR_FAILED', message: record.errorMessage ?? 'the job failed' } } : {}),
  };
}
