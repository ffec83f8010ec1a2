// Putting a job on the Service Bus queue. The message id is the job id, so the
// duplicate detection of a real namespace (when enabled) drops a double submit.
import type { ServiceBusSender } from '@azure/service-bus';
import { z } from 'zod';
import { JobMessage, inputBlobPath, type JobRecord } from './schema.ts';

/**
 * Application property names of a retry (src/worker/retries.ts). They travel beside the unchanged
 * version-1 body, so a worker that predates retries still accepts a retried message (its strict body
 * schema would refuse new body fields) and simply treats it as a first attempt.
 */
export const RETRY_PROPERTIES = { attempt: 'ocrAttempt', timeouts: 'ocrTimeouts' } as const;

/** Where a job stands in its retries: absent properties are a first attempt with no timeouts. */
export const RetryState = z
  .object({
    /** 1 for the message the API sent; each scheduled retry carries the next number. */
    attempt: z.number().int().min(1).max(1000).default(1),
    /** OCR timeouts (OcrTimeoutError) of the earlier attempts of this job. */
    timeouts: z.number().int().min(0).max(1000).default(0),
  })
  .strict();
export type RetryState = z.infer<typeof RetryState>;

/** The retry state of a received message's application properties; throws a ZodError when they are malformed. */
export function retryStateOf(properties: Record<string, unknown> | undefined): RetryState {
  return RetryState.parse({ attempt: properties?.[RETRY_PROPERTIES.attempt], timeouts: properties?.[RETRY_PROPERTIES.timeouts] });
}

/**
 * Schedules the job's next attempt: the same body, visible at `at`. The message id names the attempt
 * (`<jobId>.a<attempt>`), so a namespace with duplicate detection does not drop it as a copy of the
 * first message. Returns a function that cancels the scheduled message. Gives up after `timeoutMs` (default 5 s):
 * the SDK retries even a refusal (a key without Send answers UnauthorizedAccess, which it calls retryable) for
 * far longer than a message lock lasts.
 */
export async function scheduleJobRetry(
  sender: ServiceBusSender,
  message: JobMessage,
  retry: RetryState,
  at: Date,
  timeoutMs = 5_000,
  options: EnqueueOptions = {},
): Promise<() => Promise<void>> {
  const body = JobMessage.parse(message);
  const state = RetryState.parse(retry);
  const scheduled = sender.scheduleMessages(
    {
      messageId: `${body.jobId}.a${state.attempt}`,
      contentType: 'application/json',
      subject: 'ocr-job',
      body,
      applicationProperties: {
        v: body.v,
        pipeline: body.pipeline,
        [RETRY_PROPERTIES.attempt]: state.attempt,
        [RETRY_PROPERTIES.timeouts]: state.timeouts,
        // A sync job's waiting replica still wants its notice when a later attempt finishes the job.
        ...(options.notifyUrl ? { [NOTIFY_PROPERTY]: options.notifyUrl } : {}),
      },
    },
    at,
    { abortSignal: AbortSignal.timeout(timeoutMs) },
  );
  const [sequence] = await scheduled.catch((error: unknown) => {
    if (!(error instanceof Error && error.name === 'AbortError')) throw error;
    throw new Error(
      `Service Bus did not take the scheduled retry of job ${body.jobId} within ${timeoutMs / 1000} s; the worker needs Send on the queue as well as Listen`,
      { cause: error },
    );
  });
  if (sequence === undefined) throw new Error(`Service Bus returned no sequence number for the scheduled retry of job ${body.jobId}`);
  return async () => await sender.cancelScheduledMessages(sequence, { abortSignal: AbortSignal.timeout(timeoutMs) });
}

/**
 * The application property that names where the worker tells the waiting API replica that a sync job is finished
 * (`http://<pod IP>:<internal port>/internal/v1/jobs/<jobId>/done`, src/worker/notify.ts). A property, not a body
 * field: the body schema is strict, so a worker that predates notices would refuse a body carrying it, while it
 * ignores a property. The notice carries no result (the replica re-reads the record): a forged one only wakes a waiter.
 */
export const NOTIFY_PROPERTY = 'ocrNotify';

export interface EnqueueOptions {
  /** The waiting replica's notice URL (NOTIFY_PROPERTY); sync jobs only. */
  notifyUrl?: string | undefined;
}

export async function enqueueJob(sender: ServiceBusSender, message: JobMessage, options: EnqueueOptions = {}): Promise<void> {
  const body = JobMessage.parse(message);
  await sender.sendMessages({
    messageId: body.jobId,
    contentType: 'application/json',
    subject: 'ocr-job',
    body,
    applicationProperties: { v: body.v, pipeline: body.pipeline, ...(options.notifyUrl ? { [NOTIFY_PROPERTY]: options.notifyUrl } : {}) },
  });
}

/** Parses a received message body; throws a ZodError (a permanent failure) when it is not a job. */
export function parseJobMessage(body: unknown): JobMessage {
  const value: unknown =
    Buffer.isBuffer(body) || body instanceof Uint8Array ? JSON.parse(Buffer.from(body).toString('utf8')) : typeof body === 'string' ? JSON.parse(body) : body;
  return JobMessage.parse(value);
}

/** A job's queue message, from its record: what the API sends at submit and the recovery loop sends again. */
export function jobMessageOf(job: JobRecord, contentHash: string): JobMessage {
  return {
    v: 1,
    jobId: job.id,
    pipeline: job.pipeline,
    // Workers derive this path from the job id themselves; it stays for workers that still read it.
    blobPath: inputBlobPath(job.id),
    contentHash,
    languages: job.languages,
    options: job.options,
    ...(job.webhookUrl ? { webhookUrl: job.webhookUrl } : {}),
  };
}
