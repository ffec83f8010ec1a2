// format=hocr: an hOCR 1.2 document (XHTML, http://kba.github.io/hocr-spec/1.2/) as tesseract
// writes it, at the depth the result has: one ocr_page per page (bbox of the page, ppageno
// 0-based) and one ocr_line per line (bbox; x_wconf, the line's confidence 0-100). Text and
// attribute values are escaped, so OCR output can never become markup.
import type { OcrResult } from '../../jobs/index.ts';
import { pagesOf } from './pages.ts';

export const HOCR_CONTENT_TYPE = 'application/xhtml+xml; charset=utf-8';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeXml = (text: string): string =>
  // Characters XML 1.0 does not allow (C0 controls except tab, newline, carriage return) are dropped.
  text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/gu, '').replace(/[&<>"']/gu, (c) => ESCAPES[c]!);

const bbox = (x0: number, y0: number, x1: number, y1: number): string => `bbox ${[x0, y0, x1, y1].map((n) => Math.round(n)).join(' ')}`;

export function renderHocr(result: OcrResult): string {
  const body: string[] = [];
  for (const page of pagesOf(result)) {
    body.push(`  <div class="ocr_page" id="page_${page.page}" title="${bbox(0, 0, page.width, page.height)}; ppageno ${page.page - 1}">`);
    for (const [i, line] of page.lines.entries()) {
      const { x0, y0, x1, y1 } = line.bbox;
      const title = `${bbox(x0, y0, x1, y1)}; x_wconf ${Math.round(line.confidence)}`;
      body.push(`   <span class="ocr_line" id="line_${page.page}_${i + 1}" title="${title}">${escapeXml(line.text)}</span>`);
    }
    body.push('  </div>');
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
    // No xml:lang: the result's languages are tesseract codes (eng, chi_sim), not the BCP 47 tags the attribute takes.
    '<html xmlns="http://www.w3.org/1999/xhtml">',
    ' <head>',
    '  <title></title>',
    '  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>',
    '  <meta name="ocr-system" content="ocr-platform"/>',
    '  <meta name="ocr-capabilities" content="ocr_page ocr_line"/>',
    ' </head>',
    ' <body>',
    ...body,
    ' </body>',
    '</html>',
    '',
  ].join('\n');
}
