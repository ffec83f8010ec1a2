// Reading an image from a request: one `file` part of a multipart form (plus the
// text fields), or a raw image body. Limits come from @fastify/multipart's
// `fileSize` (413 IMAGE_TOO_LARGE) and the route's bodyLimit (413 PAYLOAD_TOO_LARGE).
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.ts';
import { ImageFields, splitLanguages } from '../schemas.ts';
import type { JobRequest } from '../jobs/checks.ts';

export interface ImageUpload {
  bytes: Buffer;
  request: JobRequest;
}

function fieldsToRequest(raw: Record<string, unknown>, where: string, fileName?: string): JobRequest {
  const parsed = ImageFields.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message }));
    throw new ApiError('INVALID_REQUEST', `${issues[0]?.path}: ${issues[0]?.message}`, { issues });
  }
  const { languages, pageSegmentation, webhookUrl } = parsed.data;
  return {
    languages: splitLanguages(languages),
    options: pageSegmentation ? { pageSegmentation } : undefined,
    webhookUrl,
    fileName,
  };
}

export async function readMultipartImage(request: FastifyRequest): Promise<ImageUpload> {
  let bytes: Buffer | undefined;
  let fileName: string | undefined;
  const fields: Record<string, unknown> = {};
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file') {
        part.file.resume();
        throw new ApiError('MULTIPART_INVALID', `The file part must be named "file", not "${part.fieldname}".`);
      }
      bytes = await part.toBuffer();
      fileName = part.filename || undefined;
    } else {
      fields[part.fieldname] = part.value;
    }
  }
  if (!bytes) throw new ApiError('MULTIPART_INVALID', 'The form has no file part named "file".');
  return { bytes, request: fieldsToRequest(fields, 'form', fileName) };
}

export function readRawImage(request: FastifyRequest): ImageUpload {
  const body = request.body;
  if (!Buffer.isBuffer(body)) throw new ApiError('EMPTY_BODY');
  return { bytes: body, request: fieldsToRequest((request.query ?? {}) as Record<string, unknown>, 'query') };
}

export async function readImage(request: FastifyRequest): Promise<ImageUpload> {
  if (request.isMultipart()) return await readMultipartImage(request);
  if (request.body === undefined || request.body === null) throw new ApiError('EMPTY_BODY');
  return readRawImage(request);
}
