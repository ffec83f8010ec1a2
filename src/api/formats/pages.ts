// A result's lines grouped by page, with each page's size: the one walk every renderer
// (text, TSV, hOCR) shares. A single image is one page of result.image's size; a multi-page
// document (PDF, TIFF) has result.pages and a page number on each line (src/jobs/schema.ts).
import type { OcrLine, OcrResult } from '../../jobs/index.ts';

export interface RenderedPage {
  /** 1-based. */
  page: number;
  /** Pixels, as the worker read the page. */
  width: number;
  height: number;
  lines: OcrLine[];
}

/** Pages in order; every line on the page it names (page 1 when it names none), in the result's reading order. */
export function pagesOf(result: OcrResult): RenderedPage[] {
  const pages: RenderedPage[] = result.pages?.map((p) => ({ page: p.page, width: p.width, height: p.height, lines: [] })) ?? [
    { page: 1, width: result.image.width, height: result.image.height, lines: [] },
  ];
  const byNumber = new Map(pages.map((p) => [p.page, p]));
  for (const line of result.lines) {
    const number = line.page ?? 1;
    let page = byNumber.get(number);
    // A line on a page the result does not list still shows (size unknown: 0 x 0) rather than being lost.
    if (!page) {
      page = { page: number, width: 0, height: 0, lines: [] };
      byNumber.set(number, page);
      pages.push(page);
    }
    page.lines.push(line);
  }
  return pages.sort((a, b) => a.page - b.page);
}
