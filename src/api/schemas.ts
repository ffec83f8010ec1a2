// Request and response schemas, in zod: the one source of validation (route.ts
// parses with them before each handler) and of the OpenAPI document (/openapi.json).
import { z } from 'zod';
import {
  JobErrorCode,
  JobId,
  JobStatus,
  LANGUAGE_PATTERN,
  Language,
  OcrEngineName,
  OcrOptions,
  OcrResult,
  PageSegmentation,
  WebhookState,
} from '../jobs/schema.ts';

const HttpUrl = z.url({ protocol: /^https?$/, error: 'must be an http or https URL' });

export const CreateJobBody = z
  .object({
    fileName: z.string().min(1).max(255).optional().describe('Shown back in the job; not used for type detection.'),
    sizeBytes: z.number().int().positive().optional().describe('Declared image size; submit checks the upload against it.'),
    contentType: z
      .enum(['image/png', 'image/jpeg', 'image/tiff', 'image/webp', 'application/pdf'])
      .optional()
      .describe('Declared image type; submit checks the bytes against it (IMAGE_TYPE_UNSUPPORTED when they differ).'),
    languages: z.array(Language).min(1).max(8).optional().describe('Tesseract languages; defaults to every language of the pipeline.'),
    options: OcrOptions.optional(),
    webhookUrl: HttpUrl.optional().describe('Receives a signed POST when the job finishes.'),
  })
  .strict();
export type CreateJobBody = z.infer<typeof CreateJobBody>;

const CONTENT_TYPES: ReadonlySet<string> = new Set(CreateJobBody.shape.contentType.unwrap().options);
const isLanguage = (value: unknown): boolean => typeof value === 'string' && LANGUAGE_PATTERN.test(value);

/** The fields the quick parse takes, each with the check of a plainly valid value (CreateJobBody's rules). */
const QUICK_FIELDS: ReadonlyMap<string, (value: unknown) => boolean> = new Map([
  ['fileName', (value: unknown) => typeof value === 'string' && value.length >= 1 && value.length <= 255],
  ['sizeBytes', (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value > 0],
  ['contentType', (value: unknown) => typeof value === 'string' && CONTENT_TYPES.has(value)],
  ['languages', (value: unknown) => Array.isArray(value) && value.length >= 1 && value.length <= 8 && value.every(isLanguage)],
]);

/**
 * CreateJobBody's parse for the bodies nearly every upload-URL request sends (only fileName,
 * sizeBytes, contentType and languages, each plainly valid), without zod's work (about 3% of the
 * API's CPU per upload URL, --cpu-prof; 80 ns instead of 450 on a busy machine). Anything else,
 * every body it cannot vouch for, returns undefined and goes through CreateJobBody itself, which
 * stays the one schema (and the OpenAPI document's). schemas.test.ts runs one table of good and
 * bad bodies through both.
 */
export function quickCreateJobBody(body: unknown): CreateJobBody | undefined {
  if (typeof body !== 'object' || body === null || Object.getPrototypeOf(body) !== Object.prototype) return undefined;
  const parsed: Record<string, unknown> = {};
  for (const key in body) {
    const value: unknown = (body as Record<string, unknown>)[key];
    if (!Object.hasOwn(body, key) || QUICK_FIELDS.get(key)?.(value) !== true) return undefined;
    // A copy of the array, as zod returns one.
    parsed[key] = Array.isArray(value) ? [...value] : value;
  }
  return parsed;
}

/** Text fields of the multipart form (POST /v1/jobs, POST /v1/ocr) and query of the raw-body POST /v1/ocr. */
export const ImageFields = z
  .object({
    languages: z.string().max(200).optional().describe('Comma-separated languages, e.g. "eng,deu".'),
    pageSegmentation: PageSegmentation.optional(),
    engine: OcrEngineName.optional().describe("tesseract or paddle (spec.ocr.requestEngines says which this pipeline allows); absent: the pipeline's engine."),
    webhookUrl: HttpUrl.optional(),
  })
  .strict();
export type ImageFields = z.infer<typeof ImageFields>;

export const JobParams = z.object({ id: JobId });

export const UploadInstructions = z.object({
  url: z.string().describe("SAS URL for exactly this job's blob; PUT the image bytes to it."),
  method: z.literal('PUT'),
  headers: z.record(z.string(), z.string()).describe('Headers the PUT must carry.'),
  expiresAt: z.string(),
  token: z.string().describe('Signed job token: send it as {"token": ...} with POST /v1/jobs/{id}/submit (the PUT headers carry it too).'),
});

export const SubmitJobBody = z
  .object({
    token: z.string().min(1).max(8192).optional().describe('The `upload.token` of POST /v1/jobs; without it, the token the PUT stored with the upload.'),
  })
  .strict();

export const JobTimings = z.object({
  queuedMs: z.number().optional().describe('From queued to a worker picking it up.'),
  processingMs: z.number().optional().describe('From a worker picking it up to finished.'),
  totalMs: z.number().optional().describe('From created to finished.'),
});

export const JobView = z.object({
  id: JobId,
  status: JobStatus,
  fileName: z.string().optional(),
  sizeBytes: z.number().optional(),
  languages: z.array(Language),
  options: OcrOptions,
  webhook: z.boolean().describe('True when the job has a webhook URL.'),
  webhookDelivery: WebhookState.optional().describe(
    'Where the webhook stands once the job finished: pending (attempts so far, lastError), delivered (deliveredAt) or failed ' +
      '(attempts ran out, or the target was refused; lastError says why). At least once, same x-ocr-delivery id on every attempt.',
  ),
  attempts: z.number().describe('Times a worker started this job (retries and redeliveries included).'),
  retry: z
    .object({
      nextAttemptAt: z.string().describe('When the next attempt becomes visible to the workers (ISO 8601).'),
      lastError: z.object({ code: JobErrorCode, message: z.string() }).describe('The transient failure of the latest attempt.'),
    })
    .optional()
    .describe(
      'Present while a queued job waits for its retry after a transient failure (spec.retries: exponential backoff with jitter, 5 attempts by default).',
    ),
  cached: z.boolean().describe('True when a previous identical job answered this one.'),
  createdAt: z.string(),
  updatedAt: z.string(),
  queuedAt: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  timings: JobTimings,
  result: OcrResult.optional(),
  error: z.object({ code: JobErrorCode, message: z.string() }).optional(),
});
export type JobView = z.infer<typeof JobView>;

export const CreateJobResponse = z.object({ job: JobView, upload: UploadInstructions.optional() });

export const OcrResponse = z.object({ jobId: JobId, status: JobStatus, cached: z.boolean(), result: OcrResult.optional() });
export type OcrResponse = z.infer<typeof OcrResponse>;

/** One extracted value (src/fields): where it came from and how sure; a field the lines do not support is absent, never guessed. */
const extracted = <T extends z.ZodType>(value: T, what: string) =>
  z.object({
    value: value.describe(what),
    lines: z.array(z.number().int().min(0)).describe('Indexes into result.lines of the lines the value came from.'),
    confidence: z.number().min(0).max(1).describe('0-1: the OCR confidence of those lines, lowered when a fallback rule found the value.'),
  });

export const ReceiptFieldsView = z
  .object({
    company: extracted(z.string(), "The merchant's name, without a registration number.").optional(),
    date: extracted(z.string(), 'ISO 8601 date (YYYY-MM-DD).').optional(),
    address: extracted(z.string(), "The merchant's address, its lines joined by spaces.").optional(),
    total: extracted(z.string(), 'The amount with two decimals, e.g. "9.00".')
      .extend({ currency: z.string().optional().describe('The currency as the receipt prints it (RM, USD, $, €, ...), when it shows one.') })
      .optional(),
  })
  .describe('Receipt fields (src/fields/receipt.ts); each absent when the text does not show it.');

export const IdFieldsView = z
  .object({
    pan: extracted(z.string(), 'Indian PAN, e.g. ABCPE1234F (holder-type letter checked).').optional(),
    aadhaar: extracted(z.string(), 'Aadhaar number as "1234 5678 9012"; only when its Verhoeff check digit is right.').optional(),
    drivingLicence: extracted(z.string(), 'Indian driving licence number (state code checked), e.g. "MH12 20110012345".').optional(),
    passport: extracted(
      z.object({
        number: z.string(),
        nationality: z.string().describe('ISO 3166-1 alpha-3 as printed in the MRZ.'),
        surname: z.string(),
        givenNames: z.string(),
        birthDate: z.string().describe('ISO 8601.'),
        expiryDate: z.string().describe('ISO 8601.'),
        sex: z.enum(['M', 'F', 'X']),
      }),
      "The passport's machine-readable zone; only when every MRZ check digit is right.",
    ).optional(),
    udyam: extracted(z.string(), 'UDYAM registration number, e.g. UDYAM-MH-01-0001234.').optional(),
  })
  .describe('Identity and business numbers (src/fields/ids.ts); each absent unless found and valid.');

export const DocumentFields = z.object({ receipt: ReceiptFieldsView, ids: IdFieldsView });
export type DocumentFields = z.infer<typeof DocumentFields>;

export const ReceiptResponse = OcrResponse.extend({
  fields: DocumentFields.optional().describe('Present with the result: receipt fields and ID numbers read from its lines.'),
});
export type ReceiptResponse = z.infer<typeof ReceiptResponse>;

export const JobFieldsView = z.object({ jobId: JobId, fields: DocumentFields });

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
});

export const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), latencyMs: z.number(), checkedAt: z.string(), error: z.string().optional() })),
});

/** Parses "eng,deu" into ["eng","deu"]. */
export function splitLanguages(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return list.length > 0 ? list : undefined;
}
