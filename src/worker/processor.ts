// The processor: one delivered message in, one settlement out. It knows nothing about
// Service Bus; the consumer turns the settlement into complete / abandon / deadLetter.
// Every dependency is injected, so the whole decision table is testable without a broker.
//
//   parse -> partition is ours -> image path from the job id -> record: processing -> download (byte limit)
//         -> SHA-256 equals the hash recorded at submit -> preprocess (pixel limit)
//         -> recognize (time limit) -> write result once -> record: succeeded -> dedupe key
//
// Integrity: the worker reads only the blob derived from the job id (`inputs/<jobId>`, which no
// upload URL covers) and OCRs only bytes whose SHA-256 is the one recorded at submit, so a result
// and its dedupe key always belong to the same bytes: no result can be filed under another image's hash.
// Isolation: the message's `pipeline` names the records partition the API wrote; the worker acts only on
// its own partition (WorkerConfig.partition), so a message for another pipeline or namespace (a shared or
// misrouted queue, a forged message) is dead-lettered as PIPELINE_MISMATCH without reading or writing any record.
//
// Failures (see errors.ts): permanent -> record failed, dead-letter now; transient -> with retries
// (deps.retries, src/worker/retries.ts): schedule the next attempt after its backoff, record queued
// with nextAttemptAt, then complete this message; at the last attempt, or after too many OCR
// timeouts, record failed and dead-letter. Without retries, or when the retry cannot be scheduled:
// abandon, and on the last delivery the broker allows, record failed first.
import { BlobMissingError, BlobTooLargeError, type JobBlobs } from '../jobs/blobs.ts';
import type { OcrEngineName } from '../contract/image.ts';
import { dedupeKey, sha256Hex } from '../jobs/dedupe.ts';
import { parseJobMessage, retryStateOf, type RetryState } from '../jobs/queue.ts';
import { JobNotFoundError, type JobRecords } from '../jobs/records.ts';
import { isTerminal, messageImagePath, type JobErrorCode, type JobMessage, type JobRecord, type OcrResult } from '../jobs/schema.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import { PermanentJobError, TransientJobError, describeError } from './errors.ts';
import type { OcrEngine, Recognition } from './ocr/engine.ts';
import { scaleLines } from './ocr/geometry.ts';
import type { TextLayerPage } from './ocr/documents.ts';
import type { PreparedImage } from './ocr/preprocess.ts';
import { decideRetry, type RetryDecision, type RetryPolicy } from './retries.ts';
import { withStageTimeout, type StageTimeouts } from './stage-timeout.ts';

/** What the processor needs to know about a delivered message. */
export interface Delivery {
  body: unknown;
  /** Service Bus delivery count: 0 on the first delivery. */
  deliveryCount: number;
  /** The message's application properties: a scheduled retry carries its attempt there (RETRY_PROPERTIES). */
  properties?: Record<string, unknown>;
}

export type Outcome = 'succeeded' | 'duplicate' | 'retried' | 'dead_lettered' | 'abandoned' | 'failed_after_retries';

export type Settlement =
  | { action: 'complete'; outcome: 'succeeded' | 'duplicate'; jobId: string; result?: OcrResult }
  /** The next attempt is scheduled for `retryAt` and the record is queued: this message is done. */
  | { action: 'complete'; outcome: 'retried'; jobId: string; code: JobErrorCode; reason: string; attempt: number; retryAt: string; result?: never }
  | { action: 'deadLetter'; outcome: 'dead_lettered' | 'failed_after_retries'; jobId?: string; code: JobErrorCode; reason: string }
  | { action: 'abandon'; outcome: 'abandoned' | 'failed_after_retries'; jobId?: string; code: JobErrorCode; reason: string };

export interface ProcessorDeps {
  records: Pick<JobRecords, 'get' | 'transition' | 'rememberResult'>;
  blobs: Pick<JobBlobs, 'readUpload' | 'writeResult'>;
  prepare: (image: Buffer) => Promise<PreparedImage>;
  /**
   * Splits a document into page images (src/worker/ocr/documents.ts: PDF, multi-page TIFF); absent or one
   * page: the upload is the one image. Runs inside the preprocess stage's time limit.
   */
  split?: (image: Buffer) => Promise<{ format: string; pages: (Buffer | TextLayerPage)[] }>;
  engine: Pick<OcrEngine, 'recognize'>;
  /** Languages this worker has loaded (OCR_LANGUAGES). */
  languages: readonly string[];
  maxImageBytes: number;
  maxJobMs: number;
  /** The queue's MaxDeliveryCount: the delivery with count maxDeliveryCount - 1 is the last one. */
  maxDeliveryCount: number;
  workerName: string;
  /** The engine and models that read the job (ocr/engines.ts engineInfo), shown as the result's `engine`; absent: not said. */
  engineInfo?: { name: string; model: string };
  /**
   * The engine the dedupe key of a job naming none names, as the API's key does: OCR_ENGINE when OCR_REQUEST_ENGINES is set
   * (the operator sets it on both; config.ts dedupeEngine); undefined: the key names no engine, as before engines.
   */
  dedupeEngine?: OcrEngineName | undefined;
  /**
   * The records partition this worker serves (pipelinePartition: `<namespace>.<pipeline>`, or the pipeline alone).
   * Messages whose `pipeline` differs are dead-lettered as PIPELINE_MISMATCH, touching no record.
   */
  partition: string;
  /** Time for startedAt, completedAt and finishedAt (epoch ms); default systemClock. */
  clock?: Clock;
  /** Observes OCR time (seconds), for the duration histogram. */
  onRecognized?: (seconds: number) => void;
  /**
   * Called right after the job's terminal record (succeeded or failed) is written, before anything else: the
   * job-finished notice to the API replica that waits for it (src/worker/notify.ts). Must not throw or block.
   */
  onFinished?: (job: JobMessage, delivery: Delivery) => void;
  /** Retries with backoff; absent: transient failures are abandoned for the broker to redeliver at once. */
  retries?: Retries;
  /** Limits of the download, preprocess and store stages in ms (src/worker/stage-timeout.ts); absent: none of their own. */
  stageTimeouts?: StageTimeouts;
}

export interface Retries {
  policy: RetryPolicy;
  /**
   * Sends `job` again as attempt `next.attempt`, visible at `at`; resolves to a function that cancels that message.
   * `properties`: the failed message's application properties, so what they carry for the job (a sync job's notice URL) goes along.
   */
  schedule: (job: JobMessage, next: RetryState, at: Date, properties?: Record<string, unknown>) => Promise<() => Promise<void>>;
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number;
}

export type Processor = (delivery: Delivery) => Promise<Settlement>;

export function createProcessor(deps: ProcessorDeps): Processor {
  const clock = deps.clock ?? systemClock;
  const stages: Stages = { ...deps, isoNow: () => new Date(clock()).toISOString() };
  return async function processDelivery(delivery: Delivery): Promise<Settlement> {
    let job: JobMessage;
    let retry: RetryState;
    try {
      job = parseJobMessage(delivery.body);
      retry = retryStateOf(delivery.properties);
    } catch (error) {
      const reason = `the message is not a version-1 OCR job: ${error instanceof Error ? error.message.slice(0, 500) : String(error)}`;
      return { action: 'deadLetter', outcome: 'dead_lettered', code: 'INVALID_MESSAGE', reason };
    }
    // Before anything reads or writes: the settlement of another partition's job is not ours to record.
    const foreign = checkPartition(stages, job);
    if (foreign) return foreign;
    // Runs of this job so far: earlier scheduled attempts plus broker redeliveries of this message (a lost lock, a crash).
    const attempt = retry.attempt + delivery.deliveryCount;
    // onFinished learns which delivery finished the job (its properties name where to send the notice).
    const own: Stages = deps.onFinished ? { ...stages, finished: (finished) => deps.onFinished?.(finished, delivery) } : stages;
    try {
      return await run(own, job, attempt);
    } catch (error) {
      return settleFailure(own, job, { delivery: delivery.deliveryCount + 1, retry, properties: delivery.properties }, error);
    }
  };
}

/** The dependencies every stage sees, with the clock turned into ISO-8601 timestamps. */
interface Stages extends ProcessorDeps {
  isoNow: () => string;
  /** onFinished for this delivery: called right after the terminal record write. */
  finished?: (job: JobMessage) => void;
}

/** One job, happy path: every failure is thrown as an error class (errors.ts) for settleFailure to settle. */
async function run(stages: Stages, job: JobMessage, attempt: number): Promise<Settlement> {
  const started = performance.now();
  checkLanguages(stages, job);
  const imagePath = derivedImagePath(job);
  const record = await startProcessing(stages, job, attempt);
  if (!record) return { action: 'complete', outcome: 'duplicate', jobId: job.jobId };
  const image = await download(stages, imagePath);
  verifyContent(job, record, image);
  const candidate = await recognise(stages, job, image, started);
  const result = await store(stages, job, candidate);
  return { action: 'complete', outcome: 'succeeded', jobId: job.jobId, result };
}

/** A dead-letter settlement for a message of another records partition, or undefined when the partition is ours. */
function checkPartition(stages: Stages, job: JobMessage): Settlement | undefined {
  if (job.pipeline === stages.partition) return undefined;
  const reason =
    `the message is for records partition ${JSON.stringify(job.pipeline.slice(0, 200))}, not this worker's ${JSON.stringify(stages.partition)} ` +
    '(<namespace>.<pipeline> from OCR_NAMESPACE and OCR_PIPELINE): refused without touching any job record; ' +
    'check that no other pipeline sends to this queue';
  return { action: 'deadLetter', outcome: 'dead_lettered', jobId: job.jobId, code: 'PIPELINE_MISMATCH', reason };
}

/** A job asking for a language this worker has not loaded can never succeed here. */
function checkLanguages(stages: Stages, job: JobMessage): void {
  const missing = job.languages.filter((language) => !stages.languages.includes(language));
  if (missing.length === 0) return;
  throw new PermanentJobError(
    'INVALID_MESSAGE',
    `languages ${missing.join(', ')} are not installed on this worker (it has ${stages.languages.join(', ')}): add them to the pipeline's spec.languages`,
  );
}

/** The image is always read from the blob derived from the job id; a message naming another blob is refused. */
function derivedImagePath(job: JobMessage): string {
  const path = messageImagePath(job);
  if (path !== undefined) return path;
  throw new PermanentJobError(
    'BLOB_PATH_MISMATCH',
    `the message names blob ${JSON.stringify(job.blobPath?.slice(0, 200))}, not the image of job ${job.jobId}: refused without reading it`,
  );
}

/**
 * Refuses bytes that are not the ones hashed at submit (the message's contentHash, which must also be
 * the record's): they are never OCRed, so no result and no dedupe entry can tie that hash to other bytes.
 */
function verifyContent(job: JobMessage, record: JobRecord, image: Buffer): void {
  if (record.contentHash !== undefined && record.contentHash !== job.contentHash)
    throw new PermanentJobError(
      'CONTENT_MISMATCH',
      `the message's content hash ${job.contentHash} is not the one recorded at submit (${record.contentHash}): refused without OCR`,
    );
  const actual = sha256Hex(image);
  if (actual !== job.contentHash)
    throw new PermanentJobError(
      'CONTENT_MISMATCH',
      `the image's SHA-256 is ${actual}, not ${job.contentHash} as recorded at submit: it changed after submit; refused without OCR, submit a new job`,
    );
}

/**
 * Moves the record to processing and returns it. undefined: the job is already finished (a redelivery),
 * so the message is a duplicate. A record still awaiting its upload is worth another delivery.
 */
async function startProcessing(stages: Stages, job: JobMessage, attempt: number): Promise<JobRecord | undefined> {
  const moved = await stages.records
    .transition(job.pipeline, job.jobId, {
      to: 'processing',
      from: ['queued', 'processing'],
      patch: { attempts: attempt, startedAt: stages.isoNow(), nextAttemptAt: undefined },
    })
    .catch((error: unknown) => {
      if (error instanceof JobNotFoundError)
        throw new PermanentJobError('INVALID_MESSAGE', `job ${job.jobId} has no record in pipeline ${job.pipeline}`, { cause: error });
      throw error;
    });
  if (moved) return moved;
  const record = await stages.records.get(job.pipeline, job.jobId);
  if (!record) throw new PermanentJobError('INVALID_MESSAGE', `job ${job.jobId} has no record in pipeline ${job.pipeline}`);
  if (isTerminal(record.status)) return undefined;
  throw new TransientJobError('UPLOAD_MISSING', `job ${job.jobId} is still ${record.status}`);
}

/** The job's image at `path` (derived from the job id), at most maxImageBytes. */
async function download(stages: Stages, path: string): Promise<Buffer> {
  try {
    return await withStageTimeout('download', stages.stageTimeouts?.download, (signal) => stages.blobs.readUpload(path, stages.maxImageBytes, signal));
  } catch (error) {
    if (error instanceof BlobTooLargeError)
      throw new PermanentJobError('IMAGE_TOO_LARGE', `image is larger than this worker's limit of ${stages.maxImageBytes} bytes (WORKER_MAX_IMAGE_BYTES)`, {
        cause: error,
      });
    // The upload may not be visible yet, or was removed: worth a few more tries.
    if (error instanceof BlobMissingError)
      throw new TransientJobError('UPLOAD_MISSING', `no image at ${path}: upload it before the job is enqueued`, { cause: error });
    throw error;
  }
}

/**
 * Preprocesses and recognises the image; the result to store, with boxes in original pixels and
 * the stage timings (ms) measured from `started` (performance.now() when the job began).
 * Recognition gets what is left of maxJobMs, at least 1 s.
 */
interface PageRead {
  prepared: Pick<PreparedImage, 'original' | 'scale'>;
  recognition: Recognition;
  /** Set for a PDF page read from its text layer (nothing rendered or recognised). */
  source?: 'text-layer';
}

/** A page already read from a PDF's text layer (src/worker/ocr/pdf-text-layer.ts): boxes are in its pixels already. */
const textLayerRead = (page: TextLayerPage): PageRead => ({
  prepared: { original: { width: page.width, height: page.height, format: 'pdf' }, scale: 1 },
  recognition: { text: page.text, lines: page.lines, meanConfidence: 100 },
  source: page.source,
});

/** Preprocesses and recognises each page in turn; each page gets what is left of maxJobMs, at least 1 s. */
async function readPages(
  stages: Stages,
  job: JobMessage,
  sources: readonly (Buffer | TextLayerPage)[],
  started: number,
): Promise<{ pages: PageRead[]; preprocessMs: number; recognizeMs: number }> {
  const pages: PageRead[] = [];
  let preprocessMs = 0;
  let recognizeMs = 0;
  for (const source of sources) {
    if (!Buffer.isBuffer(source)) {
      pages.push(textLayerRead(source));
      continue;
    }
    const before = performance.now();
    const prepared = await withStageTimeout('preprocess', stages.stageTimeouts?.preprocess, () => stages.prepare(source));
    const preprocessed = performance.now();
    const remainingMs = Math.max(1_000, stages.maxJobMs - (preprocessed - started));
    const recognition = await stages.engine.recognize(
      prepared,
      { pageSegmentation: job.options.pageSegmentation, languages: job.languages, engine: job.options.engine },
      remainingMs,
    );
    preprocessMs += preprocessed - before;
    recognizeMs += performance.now() - preprocessed;
    pages.push({ prepared, recognition });
  }
  return { pages, preprocessMs, recognizeMs };
}

/** One image: as always. Several pages: text joined by form feeds, lines numbered by page, and `pages` with each page's size and text. */
function combinePages(pages: readonly PageRead[], format: string): Pick<OcrResult, 'text' | 'lines' | 'meanConfidence' | 'image' | 'pages'> {
  const [first] = pages;
  // One page read from a PDF's text layer still lists `pages`, where its source shows.
  if (pages.length === 1 && first && !first.source) {
    return {
      text: first.recognition.text,
      lines: scaleLines(first.recognition.lines, first.prepared.scale),
      meanConfidence: first.recognition.meanConfidence,
      image: first.prepared.original,
    };
  }
  const meanConfidence = pages.reduce((sum, p) => sum + p.recognition.meanConfidence, 0) / Math.max(1, pages.length);
  return {
    text: pages.map((p) => p.recognition.text).join('\f'),
    lines: pages.flatMap((p, i) => scaleLines(p.recognition.lines, p.prepared.scale).map((line) => ({ ...line, page: i + 1 }))),
    meanConfidence,
    image: { width: first?.prepared.original.width ?? 0, height: first?.prepared.original.height ?? 0, format },
    pages: pages.map((p, i) => ({
      page: i + 1,
      width: p.prepared.original.width,
      height: p.prepared.original.height,
      text: p.recognition.text,
      meanConfidence: p.recognition.meanConfidence,
      ...(format === 'pdf' ? { source: p.source ?? ('ocr' as const) } : {}),
    })),
  };
}

/** The result's engine: the one that read its pages (the job's own when it asked for one), else the worker's as configured. */
function engineOf(stages: Stages, pages: readonly PageRead[]): Pick<OcrResult, 'engine'> {
  const engine = pages.find((p) => p.recognition.engine)?.recognition.engine ?? stages.engineInfo;
  return engine ? { engine } : {};
}

/**
 * Splits the upload into pages, preprocesses and recognises each; the result to store, with boxes in original
 * pixels and the stage timings (ms) measured from `started` (performance.now() when the job began).
 */
async function recognise(stages: Stages, job: JobMessage, image: Buffer, started: number): Promise<OcrResult> {
  const downloaded = performance.now();
  const document = stages.split
    ? await withStageTimeout('preprocess', stages.stageTimeouts?.preprocess, () => stages.split!(image))
    : { format: 'image', pages: [image] };
  const splitMs = performance.now() - downloaded;
  const { pages, preprocessMs, recognizeMs } = await readPages(stages, job, document.pages, started);
  const recognized = performance.now();
  stages.onRecognized?.(recognizeMs / 1000);
  return {
    jobId: job.jobId,
    ...combinePages(pages, document.format),
    languages: job.languages,
    timings: {
      downloadMs: Math.round(downloaded - started),
      preprocessMs: Math.round(splitMs + preprocessMs),
      recognizeMs: Math.round(recognizeMs),
      totalMs: Math.round(recognized - started),
    },
    worker: stages.workerName,
    ...engineOf(stages, pages),
    completedAt: stages.isoNow(),
  };
}

/** Writes the result once, moves the record to succeeded and remembers it for dedupe; the stored result. */
async function store(stages: Stages, job: JobMessage, candidate: OcrResult): Promise<OcrResult> {
  // Write-once: after a redelivery the first stored result wins and is the one we report.
  const { result } = await withStageTimeout('store', stages.stageTimeouts?.store, (signal) => stages.blobs.writeResult(candidate, signal));
  await stages.records.transition(job.pipeline, job.jobId, {
    to: 'succeeded',
    from: ['queued', 'processing'],
    patch: { finishedAt: result.completedAt },
  });
  stages.finished?.(job);
  // Keyed by the job's engine, or for a job naming none by the pipeline's (when the API keys it so too): the key the API looks up.
  await stages.records.rememberResult(job.pipeline, dedupeKey(job.contentHash, job.languages, job.options, stages.dedupeEngine), job.jobId);
  return result;
}

/** Which run this is: the broker's delivery of this message (1-based) and the job's retry state. */
interface Try {
  delivery: number;
  retry: RetryState;
  /** The message's application properties (Delivery.properties). */
  properties?: Record<string, unknown> | undefined;
}

/**
 * The error class decides: permanent -> record failed, dead-letter. Transient with retries: the
 * retry decision (settleRetry). Transient without retries, or when the retry could not be scheduled:
 * on the last delivery record failed and abandon (the broker dead-letters it), otherwise abandon.
 * If the failure cannot be recorded, abandon so the next delivery tries again.
 */
async function settleFailure(stages: Stages, job: JobMessage, tried: Try, error: unknown): Promise<Settlement> {
  const { code, reason: errorReason, permanent, timeout } = describeError(error);
  let reason = errorReason;
  try {
    if (permanent) {
      await markFailed(stages, job, code, reason);
      return { action: 'deadLetter', outcome: 'dead_lettered', jobId: job.jobId, code, reason };
    }
    if (stages.retries) {
      const decision = decideRetry(stages.retries.policy, tried.retry, timeout, stages.retries.random);
      const settled = await settleRetry(stages, stages.retries, job, decision, { code, reason }, tried.properties);
      if ('action' in settled) return settled;
      reason = `${reason}; the retry could not be scheduled, so the broker redelivers it now: ${settled.scheduleError}`;
    }
    if (tried.delivery >= stages.maxDeliveryCount) {
      // The broker dead-letters this message when we abandon it; the record says why first.
      await markFailed(stages, job, 'DELIVERY_LIMIT_EXCEEDED', `gave up after ${tried.delivery} deliveries; last error ${code}: ${reason}`);
      return { action: 'abandon', outcome: 'failed_after_retries', jobId: job.jobId, code, reason };
    }
  } catch (recordError) {
    // Could not record the failure or the retry (storage down): let the next delivery try again.
    const described = describeError(recordError);
    return {
      action: 'abandon',
      outcome: 'abandoned',
      jobId: job.jobId,
      code: described.code,
      reason: `could not record the failure ${code}: ${described.reason}`,
    };
  }
  return { action: 'abandon', outcome: 'abandoned', jobId: job.jobId, code, reason };
}

/**
 * Carries out a retry decision. No attempt left (or too many timeouts): record failed, dead-letter.
 * Otherwise: schedule the next attempt first, then record queued with nextAttemptAt and the error, then
 * this message is completed: a crash in between leaves a duplicate message at worst, never no message
 * (the job id keeps a duplicate harmless). When the record cannot be written the scheduled message is
 * cancelled and the error thrown (the caller abandons). `scheduleError`: nothing was sent.
 */
async function settleRetry(
  stages: Stages,
  retries: Retries,
  job: JobMessage,
  decision: RetryDecision,
  last: { code: JobErrorCode; reason: string },
  properties?: Record<string, unknown>,
): Promise<Settlement | { scheduleError: string }> {
  if (decision.kind !== 'retry') {
    const code = decision.kind === 'timedOut' ? last.code : 'DELIVERY_LIMIT_EXCEEDED';
    const reason = `${decision.reason}; last error ${last.code}: ${last.reason}`;
    await markFailed(stages, job, code, reason);
    return { action: 'deadLetter', outcome: 'failed_after_retries', jobId: job.jobId, code, reason };
  }
  const at = new Date(Date.parse(stages.isoNow()) + decision.delayMs);
  let cancel: () => Promise<void>;
  try {
    cancel = await retries.schedule(job, decision.next, at, properties);
  } catch (error) {
    return { scheduleError: describeError(error).reason };
  }
  let moved: JobRecord | undefined;
  try {
    moved = await stages.records.transition(job.pipeline, job.jobId, {
      to: 'queued',
      from: ['processing', 'queued'],
      patch: { nextAttemptAt: at.toISOString(), queuedAt: at.toISOString(), lastErrorCode: last.code, lastErrorMessage: last.reason },
    });
  } catch (error) {
    await cancel().catch(() => {});
    throw error;
  }
  if (!moved && isTerminal((await stages.records.get(job.pipeline, job.jobId))?.status ?? 'failed')) {
    // Another delivery finished the job meanwhile: the retry is not needed.
    await cancel().catch(() => {});
    return { action: 'complete', outcome: 'duplicate', jobId: job.jobId };
  }
  const retryAt = at.toISOString();
  return { action: 'complete', outcome: 'retried', jobId: job.jobId, code: last.code, reason: last.reason, attempt: decision.next.attempt, retryAt };
}

async function markFailed(stages: Stages, job: JobMessage, code: JobErrorCode, reason: string): Promise<void> {
  try {
    await stages.records.transition(job.pipeline, job.jobId, {
      to: 'failed',
      from: ['queued', 'processing'],
      patch: { errorCode: code, errorMessage: reason, finishedAt: stages.isoNow() },
    });
    stages.finished?.(job);
  } catch (error) {
    if (!(error instanceof JobNotFoundError)) throw error; // nothing to mark
  }
}
