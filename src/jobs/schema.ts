// The job contract shared by the API and the worker. Both sides import these
// schemas, so a field cannot be renamed on one side only.
import { z } from 'zod';
import { OCR_ENGINES } from '../contract/image.ts';

export const JOB_ID_PATTERN = /^[a-z0-9][a-z0-9-]{7,62}$/;
export const LANGUAGE_PATTERN = /^[a-z]{3}(_[a-z]+)?$/;

export const JobId = z.string().regex(JOB_ID_PATTERN, 'job id must be 8-63 lowercase letters, digits or dashes');
export const Language = z.string().regex(LANGUAGE_PATTERN, 'language must be a tesseract code such as eng, deu or chi_sim');
export const ContentHash = z.string().regex(/^[a-f0-9]{64}$/, 'content hash must be a SHA-256 hex digest');

/** How tesseract splits the page. `auto` is right for receipts and documents. */
export const PageSegmentation = z.enum(['auto', 'single_column', 'single_block', 'sparse_text']);
export type PageSegmentation = z.infer<typeof PageSegmentation>;

/** The OCR engines a job may ask for (src/contract/image.ts OCR_ENGINES); the pipeline's spec.ocr.requestEngines says which it allows. */
export const OcrEngineName = z.enum(OCR_ENGINES);
export type OcrEngineName = z.infer<typeof OcrEngineName>;

export const OcrOptions = z
  .object({
    pageSegmentation: PageSegmentation.default('auto'),
    engine: OcrEngineName.optional().describe(
      "The engine that reads the job: tesseract (every language of the pipeline) or paddle (eng and chi_sim only). Absent: the pipeline's engine " +
        "(spec.ocr.engine). 400 ENGINE_NOT_ALLOWED for an engine the pipeline's spec.ocr.requestEngines leaves " +
        'out, ENGINE_LANGUAGE_UNSUPPORTED for paddle with another language. result.engine says the engine that read it.',
    ),
  })
  .strict();
export type OcrOptions = z.infer<typeof OcrOptions>;

/**
 * The job states; docs/job-states.md is the table of who moves each one, its deadline and what
 * recovery (src/api/recovery/) does. `expired`: the upload never came before its deadline.
 */
export const JobStatus = z.enum(['awaiting_upload', 'queued', 'processing', 'succeeded', 'failed', 'expired']);
export type JobStatus = z.infer<typeof JobStatus>;

/** States nothing moves a job out of; only retention (or DELETE) removes them. */
export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'expired'];

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * The only status moves that exist; every write checks its move against this table.
 * queued -> queued is recovery sending the message again (it stamps updatedAt and requeues).
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  awaiting_upload: ['queued', 'failed', 'expired'],
  queued: ['queued', 'processing', 'succeeded', 'failed'],
  processing: ['processing', 'queued', 'succeeded', 'failed'],
  succeeded: [],
  failed: [],
  expired: [],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}

/** The queue message, versioned. Nothing else needs to travel: the image stays in Blob Storage. */
export const JobMessage = z
  .object({
    v: z.literal(1),
    jobId: JobId,
    /** The records partition of the job (pipelinePartition in records.ts: `<namespace>.<name>`, or the name alone). */
    pipeline: z.string().min(1),
    /**
     * Kept for workers that predate `messageImagePath`, which read the image from here. A
     * worker never trusts it: the image path is derived from `jobId`, and a message naming
     * any other blob fails the job (BLOB_PATH_MISMATCH). Optional, so a later version may drop it.
     */
    blobPath: z.string().min(1).optional(),
    /** SHA-256 (hex) of the image the API checked at submit; the worker OCRs only bytes with this hash. */
    contentHash: ContentHash,
    languages: z.array(Language).min(1),
    options: OcrOptions,
    webhookUrl: z.string().url().optional(),
  })
  .strict();
export type JobMessage = z.infer<typeof JobMessage>;

/**
 * The path a worker POSTs to when the job is finished, on the API's internal port: a sync job's message names
 * `http://<pod IP>:<internal port><this path>` in its NOTIFY_PROPERTY application property (src/jobs/queue.ts).
 */
export function completionPath(jobId: string): string {
  return `/internal/v1/jobs/${jobId}/done`;
}

export const BoundingBox = z
  .object({ x0: z.number(), y0: z.number(), x1: z.number(), y1: z.number() })
  .describe('Upright box in page pixels: (x0, y0) the top-left corner, (x1, y1) the bottom-right.');

/**
 * A 4-point box in page pixels, clockwise from the top-left corner of the text as read: [[x, y] x 4]. Unlike
 * `bbox` it follows slanted text (paddle's detector finds rotated rectangles); for an upright box the points are its corners.
 */
export const Quad = z
  .array(z.tuple([z.number(), z.number()]))
  .length(4)
  .describe(
    '4-point box in page pixels, [[x, y] x 4] clockwise from the top-left corner of the text as read. Follows slanted text (paddle); ' +
      "tesseract's boxes are upright, so its quads are the bbox's corners.",
  );
export type Quad = z.infer<typeof Quad>;

/** One word of a line, in reading order. */
export const OcrWord = z
  .object({
    text: z.string(),
    confidence: z.number().min(0).max(100).describe("The engine's confidence in this word, 0-100."),
    bbox: BoundingBox,
    quad: Quad,
  })
  .describe("One word of a line, in reading order; its boxes lie inside the line's.");
export type OcrWord = z.infer<typeof OcrWord>;

export const OcrLine = z.object({
  text: z.string(),
  confidence: z.number().min(0).max(100),
  bbox: BoundingBox,
  /** The line's 4-point box (see Quad); absent in results written before words and quads existed. */
  quad: Quad.optional().describe(
    "The line's 4-point box in page pixels, [[x, y] x 4] clockwise from the top-left corner of the text as read (upright for tesseract: " +
      "the bbox's corners); absent in results written before quads existed.",
  ),
  /** The line's words in reading order; absent in results written before words existed. */
  words: z.array(OcrWord).optional().describe("The line's words in reading order; absent in results written before words existed."),
  /** 1-based page of a multi-page document (PDF, TIFF); absent for a single image. */
  page: z.number().int().min(1).optional(),
});
export type OcrLine = z.infer<typeof OcrLine>;

/** One page of a multi-page document: its size in pixels as read, its text and mean confidence. */
export const OcrPage = z.object({
  page: z.number().int().min(1),
  width: z.number().int(),
  height: z.number().int(),
  text: z.string(),
  meanConfidence: z.number().min(0).max(100),
  /** Where the page's text came from: `ocr` (rendered and recognised) or `text-layer` (a PDF's embedded text, not OCRed). Absent means ocr. */
  source: z.enum(['ocr', 'text-layer']).optional(),
});
export type OcrPage = z.infer<typeof OcrPage>;

export const OcrTimings = z.object({
  downloadMs: z.number(),
  preprocessMs: z.number(),
  recognizeMs: z.number(),
  totalMs: z.number(),
});
export type OcrTimings = z.infer<typeof OcrTimings>;

export const OcrResult = z.object({
  jobId: JobId,
  text: z.string(),
  lines: z.array(OcrLine),
  meanConfidence: z.number().min(0).max(100),
  languages: z.array(Language),
  image: z.object({ width: z.number().int(), height: z.number().int(), format: z.string() }),
  /** Multi-page documents only: every page in order (text above is the pages' texts joined by form feeds). */
  pages: z.array(OcrPage).optional(),
  timings: OcrTimings,
  worker: z.string(),
  /** The engine and models that read the job: tesseract with best or fast, or paddle with PP-OCRv4; absent in older results. */
  engine: z
    .object({
      name: z.string().describe('tesseract or paddle.'),
      model: z.string().describe('tesseract: best (npm best_int models) or fast (Debian fast models); paddle: PP-OCRv4.'),
    })
    .optional()
    .describe("The engine and models that read the job (the pipeline's spec.ocr.engine and tesseractModel as resolved); absent in older results."),
  completedAt: z.string(),
});
export type OcrResult = z.infer<typeof OcrResult>;

/** Why a job failed: stable codes, shared by worker (dead-letter reasons) and API (job errors). */
export const JobErrorCode = z.enum([
  'IMAGE_EMPTY',
  'IMAGE_CORRUPT',
  'IMAGE_UNSUPPORTED',
  'IMAGE_TOO_LARGE',
  'IMAGE_TOO_MANY_PIXELS',
  /** A PDF or multi-page TIFF with more pages than the pipeline's worker.maxPages. */
  'DOCUMENT_TOO_MANY_PAGES',
  'UPLOAD_MISSING',
  'OCR_FAILED',
  'DELIVERY_LIMIT_EXCEEDED',
  'INVALID_MESSAGE',
  /** The API could not put the job on the queue after moving it to queued; create a new job. */
  'ENQUEUE_FAILED',
  /** The bytes the worker read do not have the SHA-256 recorded at submit: never OCRed, never cached. */
  'CONTENT_MISMATCH',
  /** The queue message names a blob other than the one derived from its job id. */
  'BLOB_PATH_MISMATCH',
  /** The queue message is for another records partition than the worker's own: dead-lettered, no record touched. */
  'PIPELINE_MISMATCH',
  /** The broker dead-lettered the job's message (its reason and description are in the message); recovery failed the job. */
  'DEAD_LETTERED',
  /** The job stayed processing past the pipeline's processing deadline too often; recovery failed it. */
  'PROCESSING_TIMEOUT',
  /** The job stayed queued past the pipeline's queued deadline although recovery sent it again; recovery failed it. */
  'QUEUE_TIMEOUT',
  /** Nothing was submitted before the pipeline's upload deadline; the job is expired and its upload deleted. */
  'UPLOAD_EXPIRED',
  /** A worker stage (download, preprocess, store) ran over its timeout (spec.jobs.stageTimeouts): retried like any transient error. */
  'STAGE_TIMEOUT',
]);
export type JobErrorCode = z.infer<typeof JobErrorCode>;

/**
 * Where a finished job's webhook stands (only on jobs with a webhookUrl): `pending` from the
 * terminal transition (written in the same Table transaction as its outbox row, src/jobs/outbox.ts)
 * until a 2xx answer (`delivered`) or until the attempts run out or the target is refused (`failed`).
 */
export const WebhookState = z.object({
  state: z.enum(['pending', 'delivered', 'failed']),
  /** Delivery attempts so far. */
  attempts: z.number().int().nonnegative(),
  /** Why the last attempt did not deliver ("receiver answered 503", a refusal, a network error). */
  lastError: z.string().optional(),
  /** When a receiver answered 2xx (ISO 8601). */
  deliveredAt: z.string().optional(),
});
export type WebhookState = z.infer<typeof WebhookState>;

export const JobRecord = z.object({
  id: JobId,
  /** The records partition (pipelinePartition in records.ts): `<namespace>.<name>`, or the name alone without a namespace. */
  pipeline: z.string().min(1),
  /**
   * The name of the API key that created the job (the API's `~anonymous` with authentication off);
   * only that key and admin keys can read or submit it. Absent on records written before owners
   * existed: those answer to admin keys only.
   */
  owner: z.string().min(1).optional(),
  status: JobStatus,
  languages: z.array(Language).min(1),
  options: OcrOptions,
  fileName: z.string().optional(),
  expectedBytes: z.number().int().nonnegative().optional(),
  contentHash: ContentHash.optional(),
  webhookUrl: z.string().url().optional(),
  /** The webhook's delivery state, from the job's terminal transition on (see WebhookState). */
  webhook: WebhookState.optional(),
  attempts: z.number().int().nonnegative(),
  /**
   * Set while a retry is scheduled (src/worker/retries.ts): when the job's next attempt becomes visible on the
   * queue (ISO 8601). The job is `queued` until then; `lastErrorCode`/`lastErrorMessage` say why it is retried.
   */
  nextAttemptAt: z.string().optional(),
  /** The transient error of the latest failed attempt, kept while the job is retried (errorCode is for failed jobs). */
  lastErrorCode: JobErrorCode.optional(),
  lastErrorMessage: z.string().optional(),
  errorCode: JobErrorCode.optional(),
  errorMessage: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  queuedAt: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /** When a cache hit answered this job, the job whose result it shares. */
  resultOf: JobId.optional(),
  /** How often recovery sent the job's message again (stale queued, or processing past its deadline); absent = never. */
  requeues: z.number().int().nonnegative().optional(),
});
export type JobRecord = z.infer<typeof JobRecord>;

/** Where the client PUTs its image through the upload URL. Client-writable until the URL expires: the worker never reads it. */
export function uploadBlobPath(jobId: string): string {
  return `uploads/${jobId}`;
}

/**
 * The job's image as the API checked and hashed it, written once by the API (if-none-match)
 * when the job is queued. No upload URL covers this name, so it cannot change after submit;
 * the worker reads only this blob.
 */
export function inputBlobPath(jobId: string): string {
  return `inputs/${jobId}`;
}

/**
 * The blob a worker reads for a message, derived from its job id; undefined when the message's
 * `blobPath` names any other blob (a forged or foreign message). `uploads/<jobId>` is accepted
 * for messages queued by an API that predates `inputs/`: the worker's SHA-256 check still
 * guarantees it OCRs exactly the bytes hashed at submit.
 */
export function messageImagePath(message: Pick<JobMessage, 'jobId' | 'blobPath'>): string | undefined {
  const derived = inputBlobPath(message.jobId);
  if (message.blobPath === undefined || message.blobPath === derived) return derived;
  if (message.blobPath === uploadBlobPath(message.jobId)) return message.blobPath;
  return undefined;
}

export function resultBlobPath(jobId: string): string {
  return `results/${jobId}.json`;
}
