// GET /v1/jobs/{id}/result?format=json|text|hocr|tsv|pdf (issue 15, item 5): a succeeded job's result
// alone, as JSON (the default, the object GET /v1/jobs/{id} carries in `result`) or rendered by
// the pure renderers in ../formats (plain text, hOCR, tesseract-style TSV), page by page; pdf is the
// job's input with the text laid over it invisibly (../formats/pdf.ts), so it also reads the input blob.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BlobMissingError, BlobTooLargeError } from '../../jobs/blobs.ts';
import { inputBlobPath, type OcrResult } from '../../jobs/schema.ts';
import { principalOf, type Principal } from '../auth.ts';
import type { ImageStore } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { RENDERERS, ResultFormat } from '../formats/index.ts';
import { SearchablePdfCache } from '../formats/pdf-cache.ts';
import { PDF_CONTENT_TYPE, SearchablePdfError, renderSearchablePdf } from '../formats/pdf.ts';
import type { JobCommands } from '../jobs/commands.ts';
import { finishedResult } from '../jobs/finished-result.ts';
import type { ResultCache } from '../jobs/result-cache.ts';
import type { RouteSpec } from '../route.ts';
import { JobParams } from '../schemas.ts';
import { OcrResult as OcrResultSchema } from '../../jobs/schema.ts';

const ResultQuery = z.object({ format: ResultFormat }).strict();

const textSchema = (description: string): Record<string, unknown> => ({ type: 'string', description });

/** Where format=pdf reads the job's input (`inputs/<jobId>`), and the most bytes it reads (the API's upload limit). */
export interface ResultInputs {
  blobs: Pick<ImageStore, 'readUpload'>;
  maxBytes: number;
}

/** The input is gone: 410 JOB_INPUT_GONE; larger than the API reads: 422 SEARCHABLE_PDF_UNAVAILABLE; any other error as it is. */
function inputError(error: unknown, id: string, maxBytes: number): Error {
  if (error instanceof BlobMissingError)
    return new ApiError('JOB_INPUT_GONE', `The input of job ${id} is no longer stored; its result still is.`, { jobId: id });
  if (error instanceof BlobTooLargeError)
    return new ApiError('SEARCHABLE_PDF_UNAVAILABLE', undefined, {
      jobId: id,
      reason: `the input is larger than this API's upload limit of ${maxBytes} bytes`,
    });
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The searchable PDF of a succeeded job: its input is the one the result was read from (a job answered from the
 * result cache shares the input of the job that was OCRed). 410 JOB_INPUT_GONE when that input was deleted. A PDF
 * built before comes from `pdfs` (../formats/pdf-cache.ts) once the input is seen to be still stored.
 */
async function searchablePdf(
  commands: JobCommands,
  inputs: ResultInputs,
  pdfs: SearchablePdfCache,
  id: string,
  caller: Principal,
  result: OcrResult,
): Promise<{ pdf: Uint8Array; built: boolean }> {
  const job = await commands.get(id, caller);
  const path = inputBlobPath(job.resultOf ?? job.id);
  const key = `${id}\n${result.completedAt}`;
  if (pdfs.peek(key)) {
    // Still stored? readUpload reads the blob's properties before its bytes and refuses more than maxBytes: with 0 it is a HEAD.
    const gone = await inputs.blobs.readUpload(path, 0).then(
      () => undefined,
      (error: unknown) => (error instanceof BlobTooLargeError ? undefined : inputError(error, id, inputs.maxBytes)),
    );
    if (gone) {
      pdfs.delete(key);
      throw gone;
    }
  }
  return await pdfs.get(key, async () => {
    const input = await inputs.blobs.readUpload(path, inputs.maxBytes).catch((error: unknown) => {
      throw inputError(error, id, inputs.maxBytes);
    });
    try {
      return await renderSearchablePdf(result, input);
    } catch (error) {
      if (error instanceof SearchablePdfError) throw new ApiError('SEARCHABLE_PDF_UNAVAILABLE', undefined, { jobId: id, reason: error.message });
      throw error;
    }
  });
}

export function jobResultRoute({
  commands,
  results,
  inputs,
  pdfs = new SearchablePdfCache(),
}: {
  commands: JobCommands;
  results: ResultCache;
  inputs: ResultInputs;
  /** Searchable PDFs built before (default: 64 MiB of them, this replica's memory). */
  pdfs?: SearchablePdfCache;
}): RouteSpec {
  return {
    method: 'GET',
    url: '/v1/jobs/:id/result',
    operationId: 'getJobResult',
    summary: "Read a finished job's result as JSON, text, hOCR, TSV or a searchable PDF",
    description:
      'format=json (default): the result object. text: text/plain, pages separated by a form feed. hocr: hOCR 1.2 XHTML, one ocr_page per page ' +
      '(bbox, ppageno), one ocr_line per line (bbox, x_wconf) and inside it one ocrx_word per word (bbox, x_wconf; and x_quad x1 y1 ... x4 y4, ' +
      "the 4-point box clockwise from the top left of the text, when it is not the bbox's corners, as for slanted text). tsv: tesseract TSV columns " +
      '(level, page_num, block_num, par_num, line_num, word_num, left, top, width, height, conf, text) with a level-1 row per page, a level-4 row per ' +
      'line (with its confidence and text) and under it a level-5 row per word. A result without words (stored before words existed) has line ' +
      'rows and spans only. Boxes are axis-aligned (TSV does not carry the JSON quads), in pixels of the page as read. pdf: application/pdf, the input pages with the text over them invisibly (at the boxes of the words when the result has ' +
      'words, else of the lines), searchable and selectable; a PDF input keeps its own pages and is returned unchanged when every page came from ' +
      "its own text layer; the text is in a glyphless font with a ToUnicode map, so every script (Chinese, Greek, accented Latin...) copies and searches as in the result; a PDF built once is kept in the replica's memory for the next request (X-Pdf-Cache: hit or miss). The input must still be stored: " +
      '410 JOB_INPUT_GONE when it is not, 422 SEARCHABLE_PDF_UNAVAILABLE when a PDF input cannot be edited (encrypted). A job still queued or ' +
      'processing, or one that expired, is 409 JOB_NO_RESULT; a failed job is 422 JOB_FAILED. Only the key that created the job (or an admin key) can read it.',
    tags: ['jobs'],
    auth: true,
    params: JobParams,
    querystring: ResultQuery,
    responses: {
      200: {
        description: 'The result in the asked format.',
        schema: OcrResultSchema,
        alternatives: {
          [RENDERERS.text.contentType]: textSchema('Plain text; pages separated by a form feed (U+000C).'),
          [RENDERERS.hocr.contentType]: textSchema('hOCR 1.2 (XHTML); a line or word whose quad is not its bbox also has x_quad x1 y1 x2 y2 x3 y3 x4 y4.'),
          [RENDERERS.tsv.contentType]: textSchema('Tab-separated rows under the header line, one per page and per line.'),
          [PDF_CONTENT_TYPE]: { type: 'string', format: 'binary', description: 'A searchable PDF: the input pages with an invisible text layer.' },
        },
      },
    },
    errors: [
      'API_KEY_MISSING',
      'API_KEY_INVALID',
      'RATE_LIMITED',
      'INVALID_REQUEST',
      'JOB_NOT_FOUND',
      'JOB_NO_RESULT',
      'JOB_FAILED',
      'JOB_INPUT_GONE',
      'SEARCHABLE_PDF_UNAVAILABLE',
      'STORAGE_UNAVAILABLE',
    ],
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const { id } = request.params as z.infer<typeof JobParams>;
      const { format } = request.query as z.infer<typeof ResultQuery>;
      const result = await finishedResult(commands, results, id, principalOf(request.caller));
      if (format === 'json') return reply.send(result);
      if (format === 'pdf') {
        const { pdf, built } = await searchablePdf(commands, inputs, pdfs, id, principalOf(request.caller), result);
        return (
          reply
            .type(PDF_CONTENT_TYPE)
            // Job ids are lowercase letters, digits and dashes (JobParams): safe in a quoted filename.
            .headers({ 'x-content-type-options': 'nosniff', 'content-disposition': `inline; filename="${id}.pdf"`, 'x-pdf-cache': built ? 'miss' : 'hit' })
            .send(Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength))
        );
      }
      const renderer = RENDERERS[format];
      // The text is whatever the uploaded image said: a browser opening the hOCR must not run or fetch anything.
      return reply
        .type(renderer.contentType)
        .headers({ 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'" })
        .send(renderer.render(result));
    },
  };
}
