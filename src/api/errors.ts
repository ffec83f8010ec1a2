// The one catalogue of error codes the API answers with. Every error response is
// `{error: {code, message, details?}}` with a code from this table, including
// Fastify's own errors (bad JSON, body too large, unknown route), which are
// mapped in `toApiError`. docs/api.md lists every entry; a test keeps the two equal.

export interface ErrorEntry {
  status: number;
  message: string;
  /** What the caller should do about it; shown in docs/api.md. */
  action: string;
}

export const ERROR_CATALOGUE = {
  // Authentication and limits
  API_KEY_MISSING: {
    status: 401,
    message: 'This endpoint needs an API key.',
    action: 'Send the key in the `x-api-key` header or as `Authorization: Bearer <key>`.',
  },
  API_KEY_INVALID: { status: 401, message: 'The API key is not valid.', action: 'Check the key for typos; ask the pipeline owner for a current key.' },
  RATE_LIMITED: {
    status: 429,
    message: 'Too many requests for this API key.',
    action: 'Wait for the number of seconds in the `Retry-After` header, then retry.',
  },
  AUTH_RATE_LIMITED: {
    status: 429,
    message: 'Too many failed authentications from this address.',
    action: 'Fix the API key; wait for the number of seconds in the `Retry-After` header before the next attempt.',
  },
  UPLOADS_PER_KEY_LIMITED: {
    status: 429,
    message: 'This API key already has as many uploads in progress as it may.',
    action: 'Wait for an upload of this key to finish (see `Retry-After`), or send large images through the upload URL.',
  },
  API_BUSY: {
    status: 503,
    message: 'This API replica is receiving as many uploads as it can.',
    action: 'Retry after the number of seconds in the `Retry-After` header; another replica may take it.',
  },
  QUEUE_BACKLOG_FULL: {
    status: 503,
    message: 'The queue already holds as many jobs as this pipeline accepts (spec.api.maxBacklog).',
    action: 'Retry after the number of seconds in the `Retry-After` header; reading results and images already read still works.',
  },
  // Request shape
  INVALID_REQUEST: { status: 400, message: 'The request does not match the schema.', action: 'Fix the fields listed in `details.issues` and send it again.' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.', action: 'Send a JSON object with `Content-Type: application/json`.' },
  EMPTY_BODY: { status: 400, message: 'The request body is empty.', action: 'Send a JSON object, a multipart form with a `file` part, or the image bytes.' },
  MULTIPART_INVALID: {
    status: 400,
    message: 'The multipart form is not usable.',
    action: 'Send exactly one file part named `file` and only the documented text fields.',
  },
  LANGUAGE_NOT_ALLOWED: { status: 400, message: 'This pipeline does not serve that language.', action: 'Use one of the languages in `details.allowed`.' },
  ENGINE_NOT_ALLOWED: {
    status: 400,
    message: 'This pipeline does not let jobs ask for that OCR engine.',
    action: "Use one of the engines in `details.allowed` (the pipeline's spec.ocr.requestEngines), or leave the engine out.",
  },
  ENGINE_LANGUAGE_UNSUPPORTED: {
    status: 400,
    message: 'That OCR engine cannot read a language of the job.',
    action: 'paddle reads eng and chi_sim only: ask for tesseract, or leave the other languages (`details.unsupported`) out.',
  },
  WEBHOOKS_DISABLED: {
    status: 400,
    message: 'Webhooks are not configured on this pipeline.',
    action: 'Poll GET /v1/jobs/{id} instead, or ask the operator to set WEBHOOK_SECRET.',
  },
  WEBHOOK_URL_REFUSED: {
    status: 400,
    message: 'The webhook URL points where this pipeline does not send webhooks.',
    action:
      'Use an https URL on a public address; `details.reason` says what was refused ' +
      '(internal receivers need spec.api.webhooks.allowedHosts, WEBHOOK_ALLOWED_HOSTS).',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    message: 'The request body is larger than the limit.',
    action: 'Send a smaller body; large images go through POST /v1/jobs and the upload URL.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: 'The request content type is not accepted here.',
    action: 'Use application/json, multipart/form-data, or an image/* body where documented.',
  },
  // Images
  IMAGE_EMPTY: { status: 422, message: 'The image has no bytes.', action: 'Upload the image again; check that your client sends the file body.' },
  IMAGE_TOO_LARGE: { status: 413, message: 'The image is larger than the limit.', action: 'Shrink or recompress the image below `details.limitBytes`.' },
  IMAGE_TYPE_UNSUPPORTED: {
    status: 415,
    message: 'The image is not PNG, JPEG, TIFF or WebP.',
    action: 'Convert the image to one of the supported formats.',
  },
  IMAGE_TRUNCATED: { status: 422, message: 'The image ends before its format says it should.', action: 'Upload the complete file again.' },
  UPLOAD_MISSING: { status: 409, message: 'Nothing has been uploaded for this job yet.', action: 'PUT the image to the upload URL first, then submit.' },
  UPLOAD_SIZE_MISMATCH: {
    status: 422,
    message: 'The uploaded size differs from the declared sizeBytes.',
    action: 'Upload the whole file again (the job stays awaiting_upload), then submit.',
  },
  // Jobs
  JOB_NOT_FOUND: {
    status: 404,
    message: 'There is no job with this id.',
    action: 'Check the id; jobs are per pipeline, and a job answers only to the key that created it and to admin keys.',
  },
  JOB_FAILED: { status: 422, message: 'The job failed.', action: 'Read `details.reason`; fix the image and submit a new job.' },
  JOB_TOKEN_INVALID: {
    status: 403,
    message: 'The job token is not one this pipeline signed for this job.',
    action: 'Submit with the `upload.token` POST /v1/jobs returned for this job (or PUT with `upload.headers`); `details.reason` says what did not match.',
  },
  JOB_TOKEN_EXPIRED: {
    status: 410,
    message: 'The upload URL and its job token have expired.',
    action: 'Create a new job (POST /v1/jobs) and upload again; nothing was recorded for the expired one.',
  },
  JOB_IN_PROGRESS: {
    status: 409,
    message: 'The job is queued or processing; it cannot be deleted until it finishes.',
    action: 'Wait until the job is succeeded, failed or expired (GET /v1/jobs/{id}, or its webhook), then DELETE it again.',
  },
  JOB_NO_RESULT: {
    status: 409,
    message: 'The job has no result: it is still awaiting its upload, queued or processing, or it expired.',
    action:
      'Wait until GET /v1/jobs/{id} says succeeded (or its webhook arrives), then read the result or fields again; `details.status` says where it stands.',
  },
  JOB_INPUT_GONE: {
    status: 410,
    message: "The job's input is no longer stored, so its searchable PDF cannot be built.",
    action: 'Read the result as format=json, text, hocr or tsv, which need only the result; for a PDF, submit the image again.',
  },
  SEARCHABLE_PDF_UNAVAILABLE: {
    status: 422,
    message: "A searchable PDF cannot be built from this job's input.",
    action:
      'Read `details.reason` (an encrypted or damaged PDF that could be read but not edited); the result itself is there as format=json, text, hocr or tsv.',
  },
  // Platform
  ROUTE_NOT_FOUND: { status: 404, message: 'There is no such endpoint.', action: 'See /openapi.json for the endpoints this API serves.' },
  STORAGE_UNAVAILABLE: {
    status: 503,
    message: 'Blob or Table Storage could not be reached.',
    action: 'Retry with backoff; GET and submit are safe to repeat.',
  },
  QUEUE_UNAVAILABLE: {
    status: 503,
    message: 'The job queue could not be reached; nothing was queued.',
    action: 'Retry a multipart or /v1/ocr request with backoff; a submitted job is marked failed (ENQUEUE_FAILED), so create a new job.',
  },
  INTERNAL: {
    status: 500,
    message: 'Something went wrong inside the API.',
    action: 'Retry; if it persists, report the `x-request-id` header to the operator.',
  },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>, headers: Record<string, string> = {}) {
    super(message ?? ERROR_CATALOGUE[code].message);
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.details = details;
    this.headers = headers;
  }

  body(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

/** Fastify's and @fastify/multipart's own error codes, mapped into the catalogue. */
const FRAMEWORK_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'EMPTY_BODY',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_REQUEST',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_VALIDATION: 'INVALID_REQUEST',
  FST_ERR_NOT_FOUND: 'ROUTE_NOT_FOUND',
  FST_REQ_FILE_TOO_LARGE: 'IMAGE_TOO_LARGE',
  FST_PARTS_LIMIT: 'MULTIPART_INVALID',
  FST_FILES_LIMIT: 'MULTIPART_INVALID',
  FST_FIELDS_LIMIT: 'MULTIPART_INVALID',
  FST_PROTO_VIOLATION: 'MULTIPART_INVALID',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_MP_PREMATURE_CLOSE: 'MULTIPART_INVALID',
  FST_ERR_MAX_PARAM_LENGTH: 'INVALID_REQUEST',
  FST_ERR_BAD_URL: 'INVALID_REQUEST',
};

function isStorageError(error: Error): boolean {
  // @azure/data-tables and @azure/storage-blob both throw RestError (also for refused connections).
  return error.name === 'RestError';
}

/** Turns anything thrown while serving a request into a catalogue error. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (!(error instanceof Error)) return new ApiError('INTERNAL');
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code in FRAMEWORK_CODES) {
    const mapped = FRAMEWORK_CODES[code] as ErrorCode;
    // Keep Fastify's wording where it is more specific than ours (JSON parser position, limit).
    const detail = mapped === 'MALFORMED_JSON' || mapped === 'INVALID_REQUEST' ? error.message : undefined;
    return new ApiError(mapped, undefined, detail ? { reason: detail } : undefined);
  }
  // Errors of the job contract (src/jobs) that reach a route through a race.
  // @fastify/busboy ends a form whose closing boundary never arrives with a plain Error (no code):
  // 'Unexpected end of multipart data' for the form, 'Part terminated early ...' for the open part.
  if (/unexpected end of multipart data/i.test(error.message)) return new ApiError('MULTIPART_INVALID');
  if (error.name === 'BlobMissingError') return new ApiError('UPLOAD_MISSING');
  if (error.name === 'BlobTooLargeError') return new ApiError('IMAGE_TOO_LARGE');
  if (error.name === 'JobNotFoundError') return new ApiError('JOB_NOT_FOUND');
  if (isStorageError(error)) return new ApiError('STORAGE_UNAVAILABLE');
  return new ApiError('INTERNAL');
}
