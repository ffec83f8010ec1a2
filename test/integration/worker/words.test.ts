// Structured output (issue 15, item 5): a real worker process (tesseract.js) on Azurite and the Service Bus
// stand-in reads rendered multi-word lines, and the stored result has each line's words in reading order, with
// boxes inside the line's box, quads at their boxes' corners (tesseract's boxes are upright) and every box inside
// its page. The stored result is then rendered as TSV and hOCR: one word row and one ocrx_word per word.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OcrLine, OcrResult } from '../../../src/jobs/index.ts';
import { renderHocr } from '../../../src/api/formats/hocr.ts';
import { renderTsv } from '../../../src/api/formats/tsv.ts';
import { renderTiff } from '../../fixtures/documents.ts';
import { renderText } from '../../fixtures/render-text.ts';
import { killAllWorkers, startPlatform, startWorker, submitJob, waitForStatus, type Platform, type WorkerProcess } from './harness.ts';

type Box = OcrLine['bbox'];
const inside = (inner: Box, outer: Box): boolean => inner.x0 >= outer.x0 && inner.y0 >= outer.y0 && inner.x1 <= outer.x1 && inner.y1 <= outer.y1;
const corners = ({ x0, y0, x1, y1 }: Box): [number, number][] => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
];
const squash = (text: string): string => text.toUpperCase().replace(/\s+/gu, ' ').trim();

/** Every line has words whose text is the line's, boxes that nest (word in line in page) and quads at the box corners. */
function assertWordsAndBoxes(result: OcrResult): void {
  const pageSize = (line: OcrLine) => result.pages?.[(line.page ?? 1) - 1] ?? result.image;
  for (const line of result.lines) {
    const where = JSON.stringify(line);
    const { width, height } = pageSize(line);
    assert.ok(inside(line.bbox, { x0: 0, y0: 0, x1: width, y1: height }), `line inside its ${width}x${height} page: ${where}`);
    assert.deepEqual(line.quad, corners(line.bbox), `line quad is its box's corners: ${where}`);
    assert.ok(line.words && line.words.length > 0, `line has words: ${where}`);
    assert.equal(line.words.map((w) => w.text).join(' '), line.text.replace(/\s+/gu, ' '), `words spell the line: ${where}`);
    let previousRight = -1;
    for (const word of line.words) {
      assert.ok(word.bbox.x0 < word.bbox.x1 && word.bbox.y0 < word.bbox.y1, `word box not empty: ${JSON.stringify(word)}`);
      assert.ok(inside(word.bbox, line.bbox), `word inside its line: ${JSON.stringify(word)} in ${JSON.stringify(line.bbox)}`);
      assert.deepEqual(word.quad, corners(word.bbox), `word quad is its box's corners: ${JSON.stringify(word)}`);
      assert.ok(word.confidence >= 0 && word.confidence <= 100);
      // Reading order on a left-to-right line: each word starts right of where the one before began.
      assert.ok(word.bbox.x0 > previousRight, `words in reading order: ${where}`);
      previousRight = word.bbox.x0;
    }
  }
}

/** The stored result as TSV and hOCR: a level 5 row and an ocrx_word per word, each word row inside its line row. */
function assertRenderedWords(result: OcrResult): void {
  const words = result.lines.reduce((sum, line) => sum + (line.words?.length ?? 0), 0);
  const rows = renderTsv(result)
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((row) => row.split('\t'));
  assert.equal(rows.filter((row) => row[0] === '5').length, words);
  let lineBox: number[] = [];
  for (const row of rows) {
    const [left, top, w, h] = row.slice(6, 10).map(Number) as [number, number, number, number];
    if (row[0] === '4') lineBox = [left, top, left + w, top + h];
    if (row[0] !== '5') continue;
    const [x0, y0, x1, y1] = lineBox as [number, number, number, number];
    assert.ok(left >= x0 && top >= y0 && left + w <= x1 && top + h <= y1, `word row ${row.join('|')} inside its line ${lineBox.join(',')}`);
  }
  assert.equal(renderHocr(result).match(/class="ocrx_word"/gu)?.length, words);
}

void describe('words and boxes from a real worker', () => {
  const queue = 'words';
  let platform: Platform;
  let worker: WorkerProcess;

  before(async () => {
    platform = await startPlatform();
    platform.createQueue(queue);
    worker = await startWorker(platform, queue, { WORKER_MAX_PAGES: '3' });
  });
  after(async () => {
    worker?.kill('SIGKILL');
    await worker?.exited;
    killAllWorkers();
    await platform?.close();
  });

  const cases: { name: string; image: () => Promise<Buffer>; lines: string[][] }[] = [
    {
      name: 'a receipt image comes back with each line split into its words, every word box inside its line box',
      image: () => renderText(['SUNRISE TRADING SDN BHD', 'TOTAL      RM 9.00']),
      lines: [['SUNRISE TRADING SDN BHD', 'TOTAL RM 9.00']],
    },
    {
      name: 'a 2-page TIFF comes back with the words of each page on that page, inside its size',
      image: () =>
        renderTiff([
          ['INVOICE NUMBER 4711', 'DUE 30 DAYS'],
          ['TOTAL DUE RM 12.50', 'THANK YOU'],
        ]),
      lines: [
        ['INVOICE NUMBER 4711', 'DUE 30 DAYS'],
        ['TOTAL DUE RM 12.50', 'THANK YOU'],
      ],
    },
  ];
  for (const c of cases) {
    void it(c.name, async () => {
      const jobId = await submitJob(platform, queue, await c.image());
      const record = await waitForStatus(platform, jobId, ['succeeded', 'failed']);
      assert.equal(record.status, 'succeeded', `${record.errorCode} ${record.errorMessage}`);
      const result = await platform.blobs.readResult(jobId);
      assert.ok(result);
      // What each page says, line by line, and the words of each line in order.
      const byPage = c.lines.map((_, i) => result.lines.filter((l) => (l.page ?? 1) === i + 1));
      assert.deepEqual(
        byPage.map((lines) => lines.map((l) => squash(l.text))),
        c.lines,
        JSON.stringify(result.lines),
      );
      assert.deepEqual(
        byPage.map((lines) => lines.map((l) => l.words?.map((w) => squash(w.text)))),
        c.lines.map((lines) => lines.map((l) => l.split(' '))),
      );
      assertWordsAndBoxes(result);
      assertRenderedWords(result);
    });
  }
});
