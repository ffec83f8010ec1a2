// Stage timeouts of one job (download, preprocess, store; recognition has the job's own
// budget, maxJobSeconds). A stage that overruns is aborted through its AbortSignal (the Blob
// SDK stops the request; sharp is given the same limit as its own timeout) and the job fails
// with STAGE_TIMEOUT as a transient error: it is retried with backoff. A slow preprocess
// counts as an OCR timeout too (the same image will be slow again), so repeated ones fail the
// job (WORKER_RETRY_MAX_TIMEOUTS); a slow download or store is storage's problem and does not.
import { OcrTimeoutError, TransientJobError } from './errors.ts';

export type Stage = 'download' | 'preprocess' | 'store';

/** Stage limits in ms; a missing entry means no limit of its own. */
export type StageTimeouts = Partial<Record<Stage, number>>;

export function stageTimeoutError(stage: Stage, ms: number): TransientJobError {
  const reason = `the ${stage} stage took longer than ${ms / 1000} s (spec.jobs.stageTimeouts.${stage}Seconds); the job will be retried`;
  return stage === 'preprocess' ? new OcrTimeoutError('STAGE_TIMEOUT', reason) : new TransientJobError('STAGE_TIMEOUT', reason);
}

/**
 * Runs `work` with an AbortSignal that fires after `ms` (undefined: no limit). Settles with the work's result, or rejects
 * with a STAGE_TIMEOUT error as soon as the time is up, whether or not the work honours the signal.
 */
export async function withStageTimeout<T>(stage: Stage, ms: number | undefined, work: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  if (ms === undefined) return await work(undefined);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      // Reject first: aborting makes the work reject at once, and the race must settle with the timeout, not the abort.
      reject(stageTimeoutError(stage, ms));
      controller.abort();
    }, ms);
  });
  const running = work(controller.signal);
  // The work may still reject after the timeout (aborted): that rejection is already answered.
  running.catch(() => undefined);
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}
