// Reading an image from a request: one `file` part of a multipart form (plus the
// text fields), or a raw image body, streamed to Blob Storage by src/api/uploads.ts under
// its per-key and per-replica caps. Limits: @fastify/multipart's `fileSize` and the
// receiver's count (413 IMAGE_TOO_LARGE); a raw body more than 64 KiB over the image
// limit is refused as a body (413 PAYLOAD_TOO_LARGE).
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.ts';
import { ImageFields, splitLanguages } from '../schemas.ts';
import type { JobRequest } from '../jobs/checks.ts';
import { isRawImageBody, type ImageReceiver, type StoredImage } from '../uploads.ts';

/** What a raw body may exceed the image limit by before it is refused as a body (the multipart routes' allowance for the form). */
export const RAW_BODY_SLACK_BYTES = 64 * 1024;

function fieldsToRequest(raw: Record<string, unknown>, where: string, fileName?: string): JobRequest {
  const parsed = ImageFields.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message }));
    throw new ApiError('INVALID_REQUEST', `${issues[0]?.path}: ${issues[0]?.message}`, { issues });
  }
  const { languages, pageSegmentation, engine, webhookUrl } = parsed.data;
  return {
    languages: splitLanguages(languages),
    options: pageSegmentation || engine ? { ...(pageSegmentation ? { pageSegmentation } : {}), ...(engine ? { engine } : {}) } : undefined,
    webhookUrl,
    fileName,
  };
}

/** An image streamed to `inputs/<jobId>` (src/api/uploads.ts) and the request that came with it. */
export interface ReceivedImage {
  stored: StoredImage;
  request: JobRequest;
}

/** Who an upload counts against for the per-key cap: the key's name, or the client address with auth off. */
function uploader(request: FastifyRequest): string {
  return request.caller ?? `ip:${request.ip}`;
}

/**
 * The `file` part of a multipart form, streamed as it arrives (text fields may come before or
 * after it). Anything refused after the file was stored deletes it again.
 */
export async function receiveMultipartImage(request: FastifyRequest, receiver: ImageReceiver): Promise<ReceivedImage> {
  const release = receiver.gate.acquire(uploader(request));
  let stored: StoredImage | undefined;
  try {
    let fileName: string | undefined;
    const fields: Record<string, unknown> = {};
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') {
          part.file.resume();
          throw new ApiError('MULTIPART_INVALID', `The file part must be named "file", not "${part.fieldname}".`);
        }
        const file = part.file;
        stored = await receiver.receive(file, { truncated: () => file.truncated });
        fileName = part.filename || undefined;
      } else {
        fields[part.fieldname] = part.value;
      }
    }
    if (!stored) throw new ApiError('MULTIPART_INVALID', 'The form has no file part named "file".');
    return { stored, request: fieldsToRequest(fields, 'form', fileName) };
  } catch (error) {
    if (stored && !stored.held) await receiver.discard(stored.jobId); // a held image was never written
    throw error;
  } finally {
    release();
  }
}

/** A raw image body (the request stream, unread), with languages, pageSegmentation and engine from the query. */
export async function receiveRawImage(request: FastifyRequest, receiver: ImageReceiver): Promise<ReceivedImage> {
  const body = request.body;
  if (!isRawImageBody(body)) throw new ApiError('EMPTY_BODY');
  const fields = fieldsToRequest((request.query ?? {}) as Record<string, unknown>, 'query');
  // The form around an image may add up to 64 KiB; a raw body beyond that is refused as a body (as Fastify's bodyLimit did).
  const bodyLimit = receiver.maxUploadBytes + RAW_BODY_SLACK_BYTES;
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > bodyLimit) throw new ApiError('PAYLOAD_TOO_LARGE');
  const release = receiver.gate.acquire(uploader(request));
  try {
    // Leave the request open when the read stops early, so the refusal still reaches the client (Node discards the rest).
    const stored = await receiver.receive(body.iterator({ destroyOnReturn: false }), { bodyLimit });
    return { stored, request: fields };
  } finally {
    release();
  }
}

/** POST /v1/ocr: a multipart form or a raw image body. */
export async function receiveImage(request: FastifyRequest, receiver: ImageReceiver): Promise<ReceivedImage> {
  if (request.isMultipart()) return await receiveMultipartImage(request, receiver);
  if (request.body === undefined || request.body === null) throw new ApiError('EMPTY_BODY');
  return await receiveRawImage(request, receiver);
}
