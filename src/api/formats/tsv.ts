// format=tsv: tesseract's TSV layout (`tesseract image out tsv`), with the same twelve columns:
// level, page_num, block_num, par_num, line_num, word_num, left, top, width, height, conf, text.
// Results carry lines, not words or blocks, so there are two levels: 1 (page, conf -1, no text)
// and 4 (line, with its confidence and text; tesseract leaves these to its level-5 word rows).
// Every line is in block 1, paragraph 1; line_num counts from 1 on each page; word_num is 0.
import type { OcrResult } from '../../jobs/index.ts';
import { pagesOf } from './pages.ts';

export const TSV_CONTENT_TYPE = 'text/tab-separated-values; charset=utf-8';
export const TSV_HEADER = 'level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext';

/** A tab or line break inside a line's text would break the row: it becomes a space. */
const cell = (text: string): string => text.replace(/[\t\r\n\f]+/gu, ' ');
const round = (n: number): number => Math.round(n);

export function renderTsv(result: OcrResult): string {
  const rows = [TSV_HEADER];
  for (const page of pagesOf(result)) {
    rows.push(['1', page.page, 0, 0, 0, 0, 0, 0, page.width, page.height, '-1', ''].join('\t'));
    for (const [i, line] of page.lines.entries()) {
      const { x0, y0, x1, y1 } = line.bbox;
      const box = [round(x0), round(y0), round(x1 - x0), round(y1 - y0)];
      rows.push(['4', page.page, 1, 1, i + 1, 0, ...box, line.confidence.toFixed(2), cell(line.text)].join('\t'));
    }
  }
  return `${rows.join('\n')}\n`;
}
