// GET /v1/jobs/{id}/result?format=json|text|hocr|tsv (issue 15, item 5): a succeeded job's result
// alone, as JSON (the default, the object GET /v1/jobs/{id} carries in `result`) or rendered by
// the pure renderers in ../formats (plain text, hOCR, tesseract-style TSV), page by page.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../auth.ts';
import { RENDERERS, ResultFormat } from '../formats/index.ts';
import type { JobCommands } from '../jobs/commands.ts';
import { finishedResult } from '../jobs/finished-result.ts';
import type { ResultCache } from '../jobs/result-cache.ts';
import type { RouteSpec } from '../route.ts';
import { JobParams } from '../schemas.ts';
import { OcrResult as OcrResultSchema } from '../../jobs/schema.ts';

const ResultQuery = z.object({ format: ResultFormat }).strict();

const textSchema = (description: string): Record<string, unknown> => ({ type: 'string', description });

export function jobResultRoute({ commands, results }: { commands: JobCommands; results: ResultCache }): RouteSpec {
  return {
    method: 'GET',
    url: '/v1/jobs/:id/result',
    operationId: 'getJobResult',
    summary: "Read a finished job's result as JSON, text, hOCR or TSV",
    description:
      'format=json (default): the result object. text: text/plain, pages separated by a form feed. hocr: hOCR 1.2 XHTML, one ocr_page per page ' +
      '(bbox, ppageno) and one ocr_line per line (bbox, x_wconf). tsv: tesseract TSV columns (level, page_num, block_num, par_num, line_num, ' +
      'word_num, left, top, width, height, conf, text) with a level-1 row per page and a level-4 row per line. Boxes are axis-aligned, in pixels of ' +
      'the page as read. A searchable PDF is not offered. A job still queued or processing, or one that expired, is 409 JOB_NO_RESULT; a failed ' +
      'job is 422 JOB_FAILED. Only the key that created the job (or an admin key) can read it.',
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
          [RENDERERS.hocr.contentType]: textSchema('hOCR 1.2 (XHTML).'),
          [RENDERERS.tsv.contentType]: textSchema('Tab-separated rows under the header line, one per page and per line.'),
        },
      },
    },
    errors: ['API_KEY_MISSING', 'API_KEY_INVALID', 'RATE_LIMITED', 'INVALID_REQUEST', 'JOB_NOT_FOUND', 'JOB_NO_RESULT', 'JOB_FAILED', 'STORAGE_UNAVAILABLE'],
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const { id } = request.params as z.infer<typeof JobParams>;
      const { format } = request.query as z.infer<typeof ResultQuery>;
      const result = await finishedResult(commands, results, id, principalOf(request.caller));
      if (format === 'json') return reply.send(result);
      const renderer = RENDERERS[format];
      // The text is whatever the uploaded image said: a browser opening the hOCR must not run or fetch anything.
      return reply
        .type(renderer.contentType)
        .headers({ 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'" })
        .send(renderer.render(result));
    },
  };
}
