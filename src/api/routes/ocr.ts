// The synchronous convenience endpoint: submit and wait for the worker fleet up to
// SYNC_TIMEOUT_SECONDS. The API never runs OCR; it waits for the job to finish
// (src/api/jobs/wait.ts), and answers 202 with the job id when time runs out.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { AUTH_ERRORS, DEPENDENCY_ERRORS, IMAGE_BODY_ERRORS, JOB_OPTION_ERRORS, type RouteSpec } from '../route.ts';
import { OcrEngineName } from '../../jobs/schema.ts';
import { ImageFields, OcrResponse } from '../schemas.ts';
import type { JobCommands } from '../jobs/commands.ts';
import type { ResultCache } from '../jobs/result-cache.ts';
import type { JobWaiter } from '../jobs/wait.ts';
import type { ImageReceiver } from '../uploads.ts';
import type { JobStatus, OcrResult } from '../../jobs/index.ts';
import { receiveImage } from './form.ts';
import { ocrResponse } from './views.ts';

export interface OcrRoutesDeps {
  commands: JobCommands;
  results: ResultCache;
  waiter: JobWaiter;
  /** Largest image accepted, in bytes; the body limit adds 64 KiB for the form around it. */
  maxUploadBytes: number;
  /** How long one request waits for its job, in ms (SYNC_TIMEOUT_SECONDS x 1000). */
  syncTimeoutMs: number;
  /** Aborted when the API shuts down: waiters answer 202 at once. */
  shutdown: AbortSignal;
  /** Streams the image to Blob Storage under the upload caps; nothing of the body is held during the wait. */
  receiver: ImageReceiver;
}

export function ocrRoutes(deps: OcrRoutesDeps): RouteSpec[] {
  const { maxUploadBytes } = deps;
  return [
    {
      method: 'POST',
      url: '/v1/ocr',
      operationId: 'recognize',
      summary: 'Read an image and wait for the text',
      description:
        'Multipart form with a `file` part, or the raw image as the body (Content-Type image/* or application/octet-stream; languages, pageSegmentation and engine in the query). Answers 200 with the result, or 202 with the job id to poll when the wait runs out.',
      tags: ['ocr'],
      auth: true,
      querystring: ImageFields,
      content: {
        'multipart/form-data': {
          schema: z.object({ file: z.string(), languages: z.string().optional(), pageSegmentation: z.string().optional(), engine: OcrEngineName.optional() }),
        },
        'image/*': { schema: { type: 'string', format: 'binary' } },
      },
      bodyLimit: maxUploadBytes + 64 * 1024,
      responses: {
        200: { description: 'The result.', schema: OcrResponse },
        202: { description: 'Still running; poll the Location.', schema: OcrResponse },
      },
      errors: [...AUTH_ERRORS, ...JOB_OPTION_ERRORS, ...IMAGE_BODY_ERRORS, 'JOB_FAILED', ...DEPENDENCY_ERRORS],
      handler: syncHandler(deps, ocrResponse),
    },
  ];
}

/** Builds the 200 body from the finished job (and the 202 body, without a result, when the wait runs out). */
export type SyncAnswer = (jobId: string, status: JobStatus, cached: boolean, result?: OcrResult) => unknown;

/**
 * The sync flow every "submit and wait" endpoint shares (POST /v1/ocr, POST /v1/ocr/receipt): store the image,
 * accept the job (a cache hit answers at once), wait for it, then answer 200 with `answer`'s body, 422 JOB_FAILED,
 * or 202 with the job id when the wait runs out.
 */
export function syncHandler(
  { commands, results, waiter, syncTimeoutMs, shutdown, receiver }: OcrRoutesDeps,
  answer: SyncAnswer,
): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  return async (request, reply) => {
    const upload = await receiveImage(request, receiver);
    const accepted = await commands.acceptStored(upload.stored, upload.request, 'sync', principalOf(request.caller));
    // A cache hit is a job of the caller's own, already succeeded (see acceptImage).
    if (accepted.cached) return reply.send(answer(accepted.job.id, 'succeeded', true, accepted.result));
    // Stop waiting when the client goes away or the API shuts down (the client then gets 202 and polls).
    const gone = new AbortController();
    reply.raw.once('close', () => gone.abort());
    const job = await waiter.finished(accepted.job, syncTimeoutMs, AbortSignal.any([gone.signal, shutdown]));
    reply.header('location', `/v1/jobs/${job.id}`);
    if (job.status === 'failed') {
      throw new ApiError('JOB_FAILED', job.errorMessage ?? 'The job failed.', { jobId: job.id, reason: job.errorCode ?? 'OCR_FAILED' });
    }
    if (job.status === 'succeeded') {
      return reply.send(answer(job.id, job.status, false, await results.resultOf(job)));
    }
    return reply.code(202).send(answer(job.id, job.status, false));
  };
}
