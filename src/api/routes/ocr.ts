// The synchronous convenience endpoint: submit and wait for the worker fleet up to
// SYNC_TIMEOUT_SECONDS. The API never runs OCR; it re-reads the job record until
// the job finishes, and answers 202 with the job id when time runs out.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApiError } from '../errors.ts';
import type { RouteSpec } from '../route.ts';
import { ImageFields, OcrResponse } from '../schemas.ts';
import type { JobService } from '../service.ts';
import { readImage } from './form.ts';

export function ocrRoutes(service: JobService, maxUploadBytes: number, syncTimeoutMs: number, shutdown: AbortSignal): RouteSpec[] {
  return [
    {
      method: 'POST',
      url: '/v1/ocr',
      operationId: 'recognize',
      summary: 'Read an image and wait for the text',
      description: 'Multipart form with a `file` part, or the raw image as the body (Content-Type image/* or application/octet-stream; languages and pageSegmentation in the query). Answers 200 with the result, or 202 with the job id to poll when the wait runs out.',
      tags: ['ocr'],
      auth: true,
      querystring: ImageFields,
      content: {
        'multipart/form-data': { schema: z.object({ file: z.string(), languages: z.string().optional(), pageSegmentation: z.string().optional() }) },
        'image/*': { schema: { type: 'string', format: 'binary' } },
      },
      bodyLimit: maxUploadBytes + 64 * 1024,
      responses: {
        200: { description: 'The result.', schema: OcrResponse },
        202: { description: 'Still running; poll the Location.', schema: OcrResponse },
      },
      errors: ['API_KEY_MISSING', 'API_KEY_INVALID', 'RATE_LIMITED', 'INVALID_REQUEST', 'EMPTY_BODY', 'MULTIPART_INVALID', 'LANGUAGE_NOT_ALLOWED', 'WEBHOOKS_DISABLED', 'IMAGE_TOO_LARGE', 'PAYLOAD_TOO_LARGE', 'IMAGE_EMPTY', 'IMAGE_TYPE_UNSUPPORTED', 'IMAGE_TRUNCATED', 'UNSUPPORTED_MEDIA_TYPE', 'JOB_FAILED', 'STORAGE_UNAVAILABLE', 'QUEUE_UNAVAILABLE'],
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const upload = await readImage(request);
        const accepted = await service.acceptImage(upload.bytes, upload.request, 'sync', true);
        if (!accepted.job) return reply.send({ jobId: accepted.jobId, status: 'succeeded', cached: true, result: accepted.result });
        // Stop waiting when the client goes away or the API shuts down (the client then gets 202 and polls).
        const gone = new AbortController();
        reply.raw.once('close', () => gone.abort());
        const job = await service.waitFor(accepted.job, syncTimeoutMs, AbortSignal.any([gone.signal, shutdown]));
        reply.header('location', `/v1/jobs/${job.id}`);
        if (job.status === 'failed') {
          throw new ApiError('JOB_FAILED', job.errorMessage ?? 'The job failed.', { jobId: job.id, reason: job.errorCode ?? 'OCR_FAILED' });
        }
        if (job.status === 'succeeded') {
          const result = await service.resultOf(job);
          return reply.send({ jobId: job.id, status: job.status, cached: false, ...(result ? { result } : {}) });
        }
        return reply.code(202).send({ jobId: job.id, status: job.status, cached: false });
      },
    },
  ];
}
