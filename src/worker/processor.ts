// The processor: one delivered message in, one settlement out. It knows nothing about
// Service Bus; the consumer turns the settlement into complete / abandon / deadLetter.
// Every dependency is injected, so the whole decision table is testable without a broker.
//
//   parse -> record: processing -> download (byte limit) -> preprocess (pixel limit)
//         -> recognize (time limit) -> write result once -> record: succeeded -> dedupe key
//
// Failures (see errors.ts): permanent -> record failed, dead-letter now; transient ->
// abandon, and on the last delivery the broker allows, record failed first.
import { BlobMissingError, BlobTooLargeError, type JobBlobs } from '../jobs/blobs.ts';
import { dedupeKey } from '../jobs/dedupe.ts';
import { parseJobMessage } from '../jobs/queue.ts';
import { JobNotFoundError, type JobRecords } from '../jobs/records.ts';
import type { JobErrorCode, JobMessage, OcrLine, OcrResult } from '../jobs/schema.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import { PermanentJobError, TransientJobError, describeError } from './errors.ts';
import type { OcrEngine } from './ocr/engine.ts';
import type { PreparedImage } from './ocr/preprocess.ts';

/** What the processor needs to know about a delivered message. */
export interface Delivery {
  body: unknown;
  /** Service Bus delivery count: 0 on the first delivery. */
  deliveryCount: number;
}

export type Outcome = 'succeeded' | 'duplicate' | 'dead_lettered' | 'abandoned' | 'failed_after_retries';

export type Settlement =
  | { action: 'complete'; outcome: 'succeeded' | 'duplicate'; jobId: string; result?: OcrResult }
  | { action: 'deadLetter'; outcome: 'dead_lettered'; jobId?: string; code: JobErrorCode; reason: string }
  | { action: 'abandon'; outcome: 'abandoned' | 'failed_after_retries'; jobId?: string; code: JobErrorCode; reason: string };

export interface ProcessorDeps {
  records: Pick<JobRecords, 'get' | 'transition' | 'rememberResult'>;
  blobs: Pick<JobBlobs, 'readUpload' | 'writeResult'>;
  prepare: (image: Buffer) => Promise<PreparedImage>;
  engine: Pick<OcrEngine, 'recognize'>;
  /** Languages this worker has loaded (OCR_LANGUAGES). */
  languages: readonly string[];
  maxImageBytes: number;
  maxJobMs: number;
  /** The queue's MaxDeliveryCount: the delivery with count maxDeliveryCount - 1 is the last one. */
  maxDeliveryCount: number;
  workerName: string;
  /** Time for startedAt, completedAt and finishedAt (epoch ms); default systemClock. */
  clock?: Clock;
  /** Observes OCR time (seconds), for the duration histogram. */
  onRecognized?: (seconds: number) => void;
}

export type Processor = (delivery: Delivery) => Promise<Settlement>;

function scaleLines(lines: OcrLine[], scale: number): OcrLine[] {
  if (scale === 1) return lines;
  const r = (v: number): number => Math.round(v / scale);
  return lines.map((line) => ({ ...line, bbox: { x0: r(line.bbox.x0), y0: r(line.bbox.y0), x1: r(line.bbox.x1), y1: r(line.bbox.y1) } }));
}

export function createProcessor(deps: ProcessorDeps): Processor {
  const clock = deps.clock ?? systemClock;
  const isoNow = (): string => new Date(clock()).toISOString();

  async function download(job: JobMessage): Promise<Buffer> {
    try {
      return await deps.blobs.readUpload(job.blobPath, deps.maxImageBytes);
    } catch (error) {
      if (error instanceof BlobTooLargeError)
        throw new PermanentJobError('IMAGE_TOO_LARGE', `image is larger than this worker's limit of ${deps.maxImageBytes} bytes (WORKER_MAX_IMAGE_BYTES)`, {
          cause: error,
        });
      // The upload may not be visible yet, or was removed: worth a few more tries.
      if (error instanceof BlobMissingError)
        throw new TransientJobError('UPLOAD_MISSING', `no image at ${job.blobPath}: upload it before the job is enqueued`, { cause: error });
      throw error;
    }
  }

  async function run(job: JobMessage, attempt: number): Promise<Settlement> {
    const started = performance.now();
    const missing = job.languages.filter((language) => !deps.languages.includes(language));
    if (missing.length > 0) {
      throw new PermanentJobError(
        'INVALID_MESSAGE',
        `languages ${missing.join(', ')} are not installed on this worker (it has ${deps.languages.join(', ')}): add them to the pipeline's spec.languages`,
      );
    }

    const moved = await deps.records
      .transition(job.pipeline, job.jobId, {
        to: 'processing',
        from: ['queued', 'processing'],
        patch: { attempts: attempt, startedAt: isoNow() },
      })
      .catch((error: unknown) => {
        if (error instanceof JobNotFoundError)
          throw new PermanentJobError('INVALID_MESSAGE', `job ${job.jobId} has no record in pipeline ${job.pipeline}`, { cause: error });
        throw error;
      });
    if (!moved) {
      const record = await deps.records.get(job.pipeline, job.jobId);
      if (!record) throw new PermanentJobError('INVALID_MESSAGE', `job ${job.jobId} has no record in pipeline ${job.pipeline}`);
      if (record.status === 'succeeded' || record.status === 'failed') return { action: 'complete', outcome: 'duplicate', jobId: job.jobId };
      throw new TransientJobError('UPLOAD_MISSING', `job ${job.jobId} is still ${record.status}`);
    }

    const image = await download(job);
    const downloaded = performance.now();
    const prepared = await deps.prepare(image);
    const preprocessed = performance.now();
    const remainingMs = Math.max(1_000, deps.maxJobMs - (preprocessed - started));
    const recognition = await deps.engine.recognize(prepared, { pageSegmentation: job.options.pageSegmentation }, remainingMs);
    const recognized = performance.now();
    deps.onRecognized?.((recognized - preprocessed) / 1000);

    const candidate: OcrResult = {
      jobId: job.jobId,
      text: recognition.text,
      lines: scaleLines(recognition.lines, prepared.scale),
      meanConfidence: recognition.meanConfidence,
      languages: job.languages,
      image: prepared.original,
      timings: {
        downloadMs: Math.round(downloaded - started),
        preprocessMs: Math.round(preprocessed - downloaded),
        recognizeMs: Math.round(recognized - preprocessed),
        totalMs: Math.round(recognized - started),
      },
      worker: deps.workerName,
      completedAt: isoNow(),
    };
    // Write-once: after a redelivery the first stored result wins and is the one we report.
    const { result } = await deps.blobs.writeResult(candidate);
    await deps.records.transition(job.pipeline, job.jobId, {
      to: 'succeeded',
      from: ['queued', 'processing'],
      patch: { finishedAt: result.completedAt },
    });
    await deps.records.rememberResult(job.pipeline, dedupeKey(job.contentHash, job.languages, job.options), job.jobId);
    return { action: 'complete', outcome: 'succeeded', jobId: job.jobId, result };
  }

  async function markFailed(job: JobMessage, code: JobErrorCode, reason: string): Promise<void> {
    try {
      await deps.records.transition(job.pipeline, job.jobId, {
        to: 'failed',
        from: ['queued', 'processing'],
        patch: { errorCode: code, errorMessage: reason, finishedAt: isoNow() },
      });
    } catch (error) {
      if (!(error instanceof JobNotFoundError)) throw error; // nothing to mark
    }
  }

  return async function processDelivery(delivery: Delivery): Promise<Settlement> {
    let job: JobMessage;
    try {
      job = parseJobMessage(delivery.body);
    } catch (error) {
      const reason = `the message is not a version-1 OCR job: ${error instanceof Error ? error.message.slice(0, 500) : String(error)}`;
      return { action: 'deadLetter', outcome: 'dead_lettered', code: 'INVALID_MESSAGE', reason };
    }

    const attempt = delivery.deliveryCount + 1;
    try {
      return await run(job, attempt);
    } catch (error) {
      const { code, reason, permanent } = describeError(error);
      const lastDelivery = attempt >= deps.maxDeliveryCount;
      try {
        if (permanent) {
          await markFailed(job, code, reason);
          return { action: 'deadLetter', outcome: 'dead_lettered', jobId: job.jobId, code, reason };
        }
        if (lastDelivery) {
          // The broker dead-letters this message when we abandon it; the record says why first.
          await markFailed(job, 'DELIVERY_LIMIT_EXCEEDED', `gave up after ${attempt} deliveries; last error ${code}: ${reason}`);
          return { action: 'abandon', outcome: 'failed_after_retries', jobId: job.jobId, code, reason };
        }
      } catch (recordError) {
        // Could not record the failure (storage down): let the next delivery try again.
        const described = describeError(recordError);
        return {
          action: 'abandon',
          outcome: 'abandoned',
          jobId: job.jobId,
          code: described.code,
          reason: `could not mark the job failed: ${described.reason}`,
        };
      }
      return { action: 'abandon', outcome: 'abandoned', jobId: job.jobId, code, reason };
    }
  };
}
