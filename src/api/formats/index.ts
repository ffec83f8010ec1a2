// The formats GET /v1/jobs/{id}/result renders a result in: each a pure function of the
// OcrResult and a content type. json is the result as stored (the default).
import { z } from 'zod';
import type { OcrResult } from '../../jobs/index.ts';
import { HOCR_CONTENT_TYPE, renderHocr } from './hocr.ts';
import { TEXT_CONTENT_TYPE, renderText } from './text.ts';
import { TSV_CONTENT_TYPE, renderTsv } from './tsv.ts';

export const ResultFormat = z
  .enum(['json', 'text', 'hocr', 'tsv', 'pdf'])
  .default('json')
  .describe(
    'json: the result object (default); text: plain text, pages split by form feeds; hocr: hOCR 1.2 XHTML with lines and words (x_quad for a slanted box); ' +
      "tsv: tesseract TSV columns, a row per page, line and word; pdf: a searchable PDF of the job's input, its text in any script (./pdf.ts).",
  );
export type ResultFormat = z.infer<typeof ResultFormat>;

/** The text formats; json is sent as the object itself by the route, pdf (it needs the input too) by ./pdf.ts. */
export const RENDERERS: Record<Exclude<ResultFormat, 'json' | 'pdf'>, { contentType: string; render: (result: OcrResult) => string }> = {
  text: { contentType: TEXT_CONTENT_TYPE, render: renderText },
  hocr: { contentType: HOCR_CONTENT_TYPE, render: renderHocr },
  tsv: { contentType: TSV_CONTENT_TYPE, render: renderTsv },
};
