// format=hocr: an hOCR 1.2 document (XHTML, http://kba.github.io/hocr-spec/1.2/) as tesseract
// writes it, at the depth the result has: one ocr_page per page (bbox of the page, ppageno
// 0-based), one ocr_line per line (bbox; x_wconf, the line's confidence 0-100) and, when the
// line has words, one ocrx_word per word inside it (bbox; x_wconf). hOCR's bbox is upright; a
// line or word whose 4-point quad is not its bbox's corners (paddle's slanted text, text running
// down a PDF page) also carries it as `x_quad x1 y1 x2 y2 x3 y3 x4 y4` (an engine-specific x_
// property, as hOCR allows: whole pixels, clockwise from the top-left corner of the text as read,
// as in the JSON result). An upright quad is left out: the bbox says it. A line without words (a result written
// before words existed, or an engine that gives none) holds its text directly. Text and
// attribute values are escaped, so OCR output can never become markup.
import type { OcrLine, OcrResult } from '../../jobs/index.ts';
import { pagesOf } from './pages.ts';

export const HOCR_CONTENT_TYPE = 'application/xhtml+xml; charset=utf-8';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeXml = (text: string): string =>
  // Characters XML 1.0 does not allow (C0 controls except tab, newline, carriage return) are dropped.
  text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/gu, '').replace(/[&<>"']/gu, (c) => ESCAPES[c]!);

const bbox = (x0: number, y0: number, x1: number, y1: number): string => `bbox ${[x0, y0, x1, y1].map((n) => Math.round(n)).join(' ')}`;

/** `; x_quad ...` when the quad (rounded) is not the bbox's corners clockwise from the top left; '' otherwise. */
export function quadProperty(item: Pick<OcrLine, 'bbox' | 'quad'>): string {
  if (item.quad?.length !== 4) return '';
  const points = item.quad.flat().map((n) => Math.round(n));
  const [x0, y0, x1, y1] = [item.bbox.x0, item.bbox.y0, item.bbox.x1, item.bbox.y1].map((n) => Math.round(n)) as [number, number, number, number];
  const corners = [x0, y0, x1, y0, x1, y1, x0, y1];
  return points.every((n, i) => n === corners[i]) ? '' : `; x_quad ${points.join(' ')}`;
}

const title = (item: Pick<OcrLine, 'bbox' | 'confidence' | 'quad'>): string =>
  `${bbox(item.bbox.x0, item.bbox.y0, item.bbox.x1, item.bbox.y1)}; x_wconf ${Math.round(item.confidence)}${quadProperty(item)}`;

/** One ocr_line: its words as ocrx_word spans (numbered on from `wordsBefore` on the page, as tesseract does), or its text when it has none. */
function lineElements(line: OcrLine, page: number, lineNumber: number, wordsBefore: number): string[] {
  const open = `   <span class="ocr_line" id="line_${page}_${lineNumber}" title="${title(line)}">`;
  if (!line.words?.length) return [`${open}${escapeXml(line.text)}</span>`];
  const words = line.words.map(
    (word, i) => `    <span class="ocrx_word" id="word_${page}_${wordsBefore + i + 1}" title="${title(word)}">${escapeXml(word.text)}</span>`,
  );
  return [open, ...words, '   </span>'];
}

export function renderHocr(result: OcrResult): string {
  const body: string[] = [];
  for (const page of pagesOf(result)) {
    body.push(`  <div class="ocr_page" id="page_${page.page}" title="${bbox(0, 0, page.width, page.height)}; ppageno ${page.page - 1}">`);
    let words = 0;
    for (const [i, line] of page.lines.entries()) {
      body.push(...lineElements(line, page.page, i + 1, words));
      words += line.words?.length ?? 0;
    }
    body.push('  </div>');
  }
  const capabilities = result.lines.some((line) => line.words?.length) ? 'ocr_page ocr_line ocrx_word ocrp_wconf' : 'ocr_page ocr_line';
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
    // No xml:lang: the result's languages are tesseract codes (eng, chi_sim), not the BCP 47 tags the attribute takes.
    '<html xmlns="http://www.w3.org/1999/xhtml">',
    ' <head>',
    '  <title></title>',
    '  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>',
    '  <meta name="ocr-system" content="ocr-platform"/>',
    `  <meta name="ocr-capabilities" content="${capabilities}"/>`,
    ' </head>',
    ' <body>',
    ...body,
    ' </body>',
    '</html>',
    '',
  ].join('\n');
}
