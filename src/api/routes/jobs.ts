// The job endpoints: create (upload URL, or a small image in a multipart form),
// submit after the upload, read status and result. A job answers only to the key that
// created it and to admin keys; to others it does not exist (see ../auth.ts canAccess).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { AUTH_ERRORS, DEPENDENCY_ERRORS, IMAGE_BODY_ERRORS, JOB_OPTION_ERRORS, isFormBody, type RouteSpec } from '../route.ts';
import { OcrEngineName } from '../../jobs/schema.ts';
import { CreateJobBody, CreateJobResponse, JobParams, JobView, SubmitJobBody, quickCreateJobBody } from '../schemas.ts';
import type { JobCommands } from '../jobs/commands.ts';
import type { ResultCache } from '../jobs/result-cache.ts';
import { isRawImageBody, type ImageReceiver } from '../uploads.ts';
import { receiveMultipartImage } from './form.ts';
import { jobView, loadJobView } from './views.ts';

const MultipartJob = z.object({
  file: z.string().describe('The image (PNG, JPEG, TIFF or WebP).'),
  languages: z.string().optional().describe('Comma-separated languages.'),
  pageSegmentation: z.string().optional(),
  engine: OcrEngineName.optional().describe("tesseract or paddle; absent: the pipeline's engine."),
  webhookUrl: z.string().optional(),
});

function location(reply: FastifyReply, jobId: string): FastifyReply {
  return reply.header('location', `/v1/jobs/${jobId}`);
}

export interface JobRoutesDeps {
  commands: JobCommands;
  results: ResultCache;
  /** Largest image accepted, in bytes; the multipart body limit adds 64 KiB for the form around it. */
  maxUploadBytes: number;
  /** Streams multipart images to Blob Storage under the upload caps. */
  receiver: ImageReceiver;
}

export function jobRoutes(deps: JobRoutesDeps): RouteSpec[] {
  return [createJobRoute(deps), submitJobRoute(deps), getJobRoute(deps)];
}

/** POST /v1/jobs: a job awaiting its upload (JSON), or a small image stored and queued at once (multipart). */
function createJobRoute({ commands, results, maxUploadBytes, receiver }: JobRoutesDeps): RouteSpec {
  return {
    method: 'POST',
    url: '/v1/jobs',
    operationId: 'createJob',
    summary: 'Create a job',
    description:
      'JSON body: returns a job id, a short-lived URL for exactly one blob and a signed job token, and records nothing (GET of the id is 404 until it is submitted); PUT the image there with `upload.headers`, then POST /v1/jobs/{id}/submit with {"token": upload.token}. Multipart body (small images): the image is stored and queued in one call.',
    tags: ['jobs'],
    auth: true,
    body: CreateJobBody,
    quickBody: quickCreateJobBody,
    content: { 'multipart/form-data': { schema: MultipartJob } },
    bodyLimit: maxUploadBytes + 64 * 1024,
    responses: { 201: { description: 'The job (and, for JSON, where to upload).', schema: CreateJobResponse } },
    errors: [...AUTH_ERRORS, 'MALFORMED_JSON', ...JOB_OPTION_ERRORS, ...IMAGE_BODY_ERRORS, ...DEPENDENCY_ERRORS],
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      // A form reaches only this route's registration in the form parser's scope (app.ts registerMainRoutes).
      if (isFormBody(request.headers)) {
        const upload = await receiveMultipartImage(request, receiver);
        const accepted = await commands.acceptStored(upload.stored, upload.request, 'multipart', principalOf(request.caller));
        return location(reply, accepted.job.id)
          .code(201)
          .send({ job: await loadJobView(results, accepted.job, accepted.result) });
      }
      if (isRawImageBody(request.body))
        throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'POST /v1/jobs takes JSON or a multipart form; raw image bodies go to POST /v1/ocr.');
      const { job, upload } = await commands.createUploadJob(request.body as CreateJobBody, principalOf(request.caller));
      // A job awaiting its upload has no result to read: its view is made at once.
      return location(reply, job.id)
        .code(201)
        .send({ job: jobView(job, undefined), upload });
    },
  };
}

/** POST /v1/jobs/{id}/submit: checks the upload, then answers from the result cache or queues the job. */
function submitJobRoute({ commands, results }: JobRoutesDeps): RouteSpec {
  return {
    method: 'POST',
    url: '/v1/jobs/:id/submit',
    operationId: 'submitJob',
    summary: 'Submit an uploaded job',
    description:
      'Verifies the job token first (the `upload.token` of POST /v1/jobs, sent as {"token": ...}; without a body, the token the PUT stored with the upload): a forged or mismatched token is 403 JOB_TOKEN_INVALID, an expired one 410 JOB_TOKEN_EXPIRED. Then checks the upload (present, within the size limit, equal to sizeBytes and contentType when declared, a supported image by its magic bytes), and only then creates the job record: answered from the result cache when the same image was already read, otherwise queued. A failed check records nothing: upload again and submit again. Submitting a job that is recorded already returns it unchanged. Only the key that created the job (or an admin key) can submit it: for any other key it does not exist (404 JOB_NOT_FOUND).',
    tags: ['jobs'],
    auth: true,
    params: JobParams,
    body: SubmitJobBody,
    bodyOptional: true,
    responses: {
      200: { description: 'Finished: answered from the cache, or already done.', schema: JobView },
      202: { description: 'Queued (or already queued or processing).', schema: JobView },
    },
    errors: [
      'API_KEY_MISSING',
      'API_KEY_INVALID',
      'RATE_LIMITED',
      'INVALID_REQUEST',
      'MALFORMED_JSON',
      'JOB_NOT_FOUND',
      'JOB_TOKEN_INVALID',
      'JOB_TOKEN_EXPIRED',
      'UPLOAD_MISSING',
      'UPLOAD_SIZE_MISMATCH',
      'IMAGE_TOO_LARGE',
      'IMAGE_EMPTY',
      'IMAGE_TYPE_UNSUPPORTED',
      'IMAGE_TRUNCATED',
      'STORAGE_UNAVAILABLE',
      'QUEUE_UNAVAILABLE',
      'QUEUE_BACKLOG_FULL',
    ],
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const { id } = request.params as z.infer<typeof JobParams>;
      const token = (request.body as z.infer<typeof SubmitJobBody> | undefined)?.token;
      const accepted = await commands.submit(id, principalOf(request.caller), token);
      const status = accepted.job.status === 'queued' || accepted.job.status === 'processing' ? 202 : 200;
      return location(reply, id)
        .code(status)
        .send(await loadJobView(results, accepted.job, accepted.result));
    },
  };
}

/** GET /v1/jobs/{id}: status and timings, the result or the reason. */
function getJobRoute({ commands, results }: JobRoutesDeps): RouteSpec {
  return {
    method: 'GET',
    url: '/v1/jobs/:id',
    operationId: 'getJob',
    summary: 'Read a job',
    description:
      'Status and timings; the result when succeeded; the reason when failed. Only the key that created the job (or an admin key) can read it: for any other key it does not exist (404 JOB_NOT_FOUND).',
    tags: ['jobs'],
    auth: true,
    params: JobParams,
    responses: { 200: { description: 'The job.', schema: JobView } },
    errors: ['API_KEY_MISSING', 'API_KEY_INVALID', 'RATE_LIMITED', 'INVALID_REQUEST', 'JOB_NOT_FOUND', 'STORAGE_UNAVAILABLE'],
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const { id } = request.params as z.infer<typeof JobParams>;
      return reply.send(await loadJobView(results, await commands.get(id, principalOf(request.caller))));
    },
  };
}
