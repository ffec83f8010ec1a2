// format=tsv: tesseract's TSV layout (`tesseract image out tsv`), with the same twelve columns:
// level, page_num, block_num, par_num, line_num, word_num, left, top, width, height, conf, text.
// Results carry pages, lines and words, not blocks or paragraphs, so there are three levels: 1 (page,
// conf -1, no text), 4 (line) and 5 (word, under its line, word_num from 1 on each line, as tesseract
// writes them). Unlike tesseract, a line row also carries the line's confidence and text: a line without
// words (a result written before words existed, or an engine that gives none) has no other row to carry
// them. Whoever rebuilds the text from word rows reads level 5 only. Every line is in block 1,
// paragraph 1; line_num counts from 1 on each page; a line row's word_num is 0.
import type { OcrLine, OcrResult } from '../../jobs/index.ts';
import { pagesOf } from './pages.ts';

export const TSV_CONTENT_TYPE = 'text/tab-separated-values; charset=utf-8';
export const TSV_HEADER = 'level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext';

/** A tab or line break inside a line's text would break the row: it becomes a space. */
const cell = (text: string): string => text.replace(/[\t\r\n\f]+/gu, ' ');
const round = (n: number): number => Math.round(n);
/** left, top, width, height in whole pixels. */
const box = ({ x0, y0, x1, y1 }: OcrLine['bbox']): number[] => [round(x0), round(y0), round(x1 - x0), round(y1 - y0)];

export function renderTsv(result: OcrResult): string {
  const rows = [TSV_HEADER];
  for (const page of pagesOf(result)) {
    rows.push(['1', page.page, 0, 0, 0, 0, 0, 0, page.width, page.height, '-1', ''].join('\t'));
    for (const [i, line] of page.lines.entries()) {
      rows.push(['4', page.page, 1, 1, i + 1, 0, ...box(line.bbox), line.confidence.toFixed(2), cell(line.text)].join('\t'));
      for (const [j, word] of (line.words ?? []).entries()) {
        rows.push(['5', page.page, 1, 1, i + 1, j + 1, ...box(word.bbox), word.confidence.toFixed(2), cell(word.text)].join('\t'));
      }
    }
  }
  return `${rows.join('\n')}\n`;
}
