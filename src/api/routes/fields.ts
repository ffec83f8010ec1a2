// Structured fields from a finished result (issue 15, item 6): POST /v1/ocr/receipt (alias
// POST /v1/parse) reads an image like POST /v1/ocr and adds receipt fields and ID numbers;
// GET /v1/jobs/{id}/fields gives the same fields for a job that already succeeded. The rules
// live in src/fields (receipt.ts, ids.ts); here they only run on the result's lines.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { idFields } from '../../fields/ids.ts';
import { receiptFields } from '../../fields/receipt.ts';
import type { JobStatus, OcrResult } from '../../jobs/index.ts';
import { principalOf } from '../auth.ts';
import type { RouteSpec } from '../route.ts';
import { JobFieldsView, JobParams, ReceiptResponse, type DocumentFields } from '../schemas.ts';
import type { JobCommands } from '../jobs/commands.ts';
import { finishedResult } from '../jobs/finished-result.ts';
import type { ResultCache } from '../jobs/result-cache.ts';
import { ocrRoutes, syncHandler, type OcrRoutesDeps } from './ocr.ts';
import { ocrResponse } from './views.ts';

/** Receipt fields and ID numbers of a result, read from its lines (indexes in the fields point into result.lines). */
export function documentFields(result: OcrResult): DocumentFields {
  return { receipt: receiptFields(result.lines), ids: idFields(result.lines) };
}

/** The body of POST /v1/ocr/receipt: POST /v1/ocr's, plus the fields once there is a result. */
export function receiptResponse(jobId: string, status: JobStatus, cached: boolean, result?: OcrResult): ReceiptResponse {
  return { ...ocrResponse(jobId, status, cached, result), ...(result ? { fields: documentFields(result) } : {}) };
}

/** POST /v1/ocr/receipt and its alias POST /v1/parse: the request of POST /v1/ocr, the same wait, fields in the answer. */
export function receiptRoutes(deps: OcrRoutesDeps): RouteSpec[] {
  const [recognize] = ocrRoutes(deps);
  const receipt: RouteSpec = {
    ...recognize!,
    url: '/v1/ocr/receipt',
    operationId: 'recognizeReceipt',
    summary: 'Read a receipt or ID document and wait for its fields',
    description:
      'Takes what POST /v1/ocr takes (a multipart form with a `file` part, or the raw image as the body) and waits the same way. The answer adds ' +
      '`fields`: receipt fields (company, date as ISO 8601, address, total with its currency when printed) and ID numbers (PAN, Aadhaar with its ' +
      'Verhoeff check digit, driving licence, passport from its MRZ with check digits, UDYAM). Each field has its value, the indexes of the ' +
      'result lines it came from and a confidence 0-1; a field the text does not show, or a number that fails its check, is absent, never guessed.',
    responses: {
      200: { description: 'The result and its fields.', schema: ReceiptResponse },
      202: { description: 'Still running; poll the Location, then GET /v1/jobs/{id}/fields.', schema: ReceiptResponse },
    },
    handler: syncHandler(deps, receiptResponse),
  };
  return [receipt, { ...receipt, url: '/v1/parse', operationId: 'parse', summary: 'Alias of POST /v1/ocr/receipt' }];
}

export interface JobFieldsDeps {
  commands: JobCommands;
  results: ResultCache;
}

/** GET /v1/jobs/{id}/fields: the fields of a job that succeeded (submitted async, or a sync request that answered 202). */
export function jobFieldsRoute({ commands, results }: JobFieldsDeps): RouteSpec {
  return {
    method: 'GET',
    url: '/v1/jobs/:id/fields',
    operationId: 'getJobFields',
    summary: "Read a finished job's receipt fields and ID numbers",
    description:
      'The fields POST /v1/ocr/receipt answers with, for any job that succeeded. A job still queued or processing, or one that expired, is 409 ' +
      'JOB_NO_RESULT (details.status); a failed job is 422 JOB_FAILED (details.reason). Only the key that created the job (or an admin key) can read it.',
    tags: ['jobs'],
    auth: true,
    params: JobParams,
    responses: { 200: { description: 'The fields.', schema: JobFieldsView } },
    errors: ['API_KEY_MISSING', 'API_KEY_INVALID', 'RATE_LIMITED', 'INVALID_REQUEST', 'JOB_NOT_FOUND', 'JOB_NO_RESULT', 'JOB_FAILED', 'STORAGE_UNAVAILABLE'],
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const { id } = request.params as z.infer<typeof JobParams>;
      const result = await finishedResult(commands, results, id, principalOf(request.caller));
      return reply.send({ jobId: id, fields: documentFields(result) });
    },
  };
}
