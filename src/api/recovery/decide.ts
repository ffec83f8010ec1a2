// What recovery does with one job, decided without I/O: the record, the time now and the
// pipeline's deadlines in, one action out. docs/job-states.md is the same table in prose.
// The runner (runner.ts) finds candidates with bounded Table queries and applies the action;
// everything it decides about a job is here, so the table-driven tests in decide.test.ts
// cover every state, deadline and limit.
import { JobErrorCode, isTerminal, type JobRecord } from '../../jobs/index.ts';
import type { RecoverySettings } from '../config.ts';
import { z } from 'zod';
import { JobTokenClaims } from '../jobs/token.ts';

export type RecoveryAction =
  | { kind: 'none' }
  /** Send the job's message again (queued -> queued or processing -> queued, requeues + 1). */
  | { kind: 'requeue'; reason: string }
  | { kind: 'fail'; code: JobErrorCode; message: string }
  /** awaiting_upload -> expired, and its upload deleted. */
  | { kind: 'expire'; message: string }
  /** Past retention: delete the record, its blobs and its dedupe entry. */
  | { kind: 'retire' };

export type DeadlineSettings = Pick<
  RecoverySettings,
  'uploadDeadlineSeconds' | 'queuedDeadlineSeconds' | 'processingDeadlineSeconds' | 'maxRequeues' | 'retentionHours'
>;

const HOUR_MS = 3_600_000;

/** Milliseconds since the record's last change (updatedAt); NaN-safe: an unreadable timestamp counts as just written. */
export function ageMs(record: Pick<JobRecord, 'updatedAt'>, nowMs: number): number {
  const at = Date.parse(record.updatedAt);
  return Number.isNaN(at) ? 0 : nowMs - at;
}

/** Milliseconds since the job's scheduled retry was due (Infinity when none is scheduled). */
function waitedSinceRetryMs(record: Pick<JobRecord, 'nextAttemptAt'>, nowMs: number): number {
  const due = record.nextAttemptAt === undefined ? Number.NaN : Date.parse(record.nextAttemptAt);
  return Number.isNaN(due) ? Number.POSITIVE_INFINITY : nowMs - due;
}

export function decide(record: JobRecord, nowMs: number, settings: DeadlineSettings): RecoveryAction {
  const age = ageMs(record, nowMs);
  if (isTerminal(record.status)) return age > settings.retentionHours * HOUR_MS ? { kind: 'retire' } : { kind: 'none' };
  const requeues = record.requeues ?? 0;
  switch (record.status) {
    case 'awaiting_upload':
      if (age <= settings.uploadDeadlineSeconds * 1000) return { kind: 'none' };
      return { kind: 'expire', message: `nothing was submitted within ${settings.uploadDeadlineSeconds} s; create a new job` };
    case 'queued':
      // A job waiting for a scheduled retry (nextAttemptAt, src/worker/retries.ts) is not stale before its retry is due.
      if (Math.min(age, waitedSinceRetryMs(record, nowMs)) <= settings.queuedDeadlineSeconds * 1000) return { kind: 'none' };
      if (requeues >= settings.maxRequeues)
        return {
          kind: 'fail',
          code: 'QUEUE_TIMEOUT',
          message: `still queued ${settings.queuedDeadlineSeconds} s after being sent ${requeues + 1} times; submit it again`,
        };
      return { kind: 'requeue', reason: `queued unchanged for over ${settings.queuedDeadlineSeconds} s` };
    case 'processing':
      if (age <= settings.processingDeadlineSeconds * 1000) return { kind: 'none' };
      if (requeues >= settings.maxRequeues)
        return {
          kind: 'fail',
          code: 'PROCESSING_TIMEOUT',
          message: `still processing ${settings.processingDeadlineSeconds} s after its last change, ${requeues} times sent again; submit it again`,
        };
      return { kind: 'requeue', reason: `processing unchanged for over ${settings.processingDeadlineSeconds} s` };
    default:
      return { kind: 'none' };
  }
}

/**
 * The failure a dead-lettered message gives its job. A worker dead-letters with one of our codes as the reason
 * (src/worker/consumer.ts); the broker uses its own (MaxDeliveryCountExceeded, TTLExpiredException, ...), which
 * become DEAD_LETTERED with the broker's reason and description in the message.
 */
export function deadLetterFailure(reason: string | undefined, description: string | undefined): { code: JobErrorCode; message: string } {
  const known = JobErrorCode.safeParse(reason);
  const text = [reason ?? 'no reason given', description].filter((part) => part !== undefined && part !== '').join(': ');
  if (reason === 'MaxDeliveryCountExceeded') return { code: 'DELIVERY_LIMIT_EXCEEDED', message: `dead-lettered by the broker: ${text}` };
  if (known.success) return { code: known.data, message: description ?? `dead-lettered: ${reason}` };
  return { code: 'DEAD_LETTERED', message: `dead-lettered: ${text}` };
}

/** Seconds the oldest of these queued jobs has waited since it was queued (0 for none): the oldest-queued gauge. */
export function oldestQueuedSeconds(records: readonly Pick<JobRecord, 'queuedAt' | 'updatedAt'>[], nowMs: number): number {
  let oldest = 0;
  for (const record of records) {
    const at = Date.parse(record.queuedAt ?? record.updatedAt);
    if (!Number.isNaN(at)) oldest = Math.max(oldest, (nowMs - at) / 1000);
  }
  return oldest;
}

/** The longest an upload URL (and its job token) can live: UPLOAD_URL_TTL_SECONDS' maximum, 7 days. */
export const MAX_UPLOAD_URL_MS = 7 * 24 * 3_600_000;

/** A client upload as the sweep sees it: when it was last written, and the job token its PUT carried as metadata. */
export interface UploadBlob {
  lastModifiedMs: number;
  /** The `ocrjobtoken` metadata value, if any (src/api/jobs/commands.ts TOKEN_METADATA_HEADER). */
  token: string | undefined;
}

/** The two claims the sweep reads; the other claims are ignored (stripped), whatever they are. */
const TOKEN_EXPIRY = z.object({ pipeline: JobTokenClaims.shape.pipeline, exp: JobTokenClaims.shape.exp });

/** The claims of a v1 job token, read without checking its signature (deciding what to delete needs no trust); undefined when unreadable. */
export function peekTokenClaims(token: string | undefined): Pick<JobTokenClaims, 'pipeline' | 'exp'> | undefined {
  const body = token?.split('.')[1];
  if (body === undefined) return undefined;
  try {
    return TOKEN_EXPIRY.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
  } catch {
    return undefined;
  }
}

/**
 * Whether the sweep deletes a client upload. Its token names the pipeline and the expiry: an upload of this pipeline is
 * deleted once its token has expired (no submit can use it any more) and it is older than the upload deadline; another
 * pipeline's upload (a shared container) is left to that pipeline. Without a readable token the owner is unknown, so
 * the upload is deleted only once no upload URL any API issues could still be valid (7 days), or the deadline if longer.
 */
export function sweepUpload(upload: UploadBlob, partition: string, nowMs: number, uploadDeadlineSeconds: number): boolean {
  const age = nowMs - upload.lastModifiedMs;
  const claims = peekTokenClaims(upload.token);
  if (!claims) return age > Math.max(uploadDeadlineSeconds * 1000, MAX_UPLOAD_URL_MS);
  return claims.pipeline === partition && nowMs > claims.exp && age > uploadDeadlineSeconds * 1000;
}
