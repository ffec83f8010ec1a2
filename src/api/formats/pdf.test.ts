// format=pdf: the searchable PDF of a result and its input, read back with pdfjs (the PDF reader the worker
// uses): the pages and their sizes, where the invisible text sits and that it is the result's text.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PDFDocument, degrees } from 'pdf-lib';
import sharp, { type Sharp } from 'sharp';
import type { OcrResult } from '../../jobs/index.ts';
import { buildLayeredPdf } from '../../../test/fixtures/pdf-layers.ts';
import { renderText } from '../../../test/fixtures/render-text.ts';
import { SearchablePdfError, pixelsToPdf, renderSearchablePdf, runsOf } from './pdf.ts';
import { pngStream } from './pdf-png.ts';
import { splitDocument } from '../../worker/ocr/documents.ts';

const base: Omit<OcrResult, 'text' | 'lines' | 'image'> = {
  jobId: 'job-00000000-pdf',
  meanConfidence: 90,
  languages: ['eng'],
  timings: { downloadMs: 1, preprocessMs: 1, recognizeMs: 1, totalMs: 3 },
  worker: 'w',
  completedAt: '2026-01-01T00:00:00.000Z',
};

const near = (a: number, b: number, tolerance = 1.5): boolean => Math.abs(a - b) <= tolerance;

interface ReadPage {
  size: [number, number];
  /** Runs: pdfjs's items, those touching on a baseline joined (a line run's words, and the space items pdfjs puts between words). */
  items: { str: string; x: number; y: number; width: number }[];
  /** pdfjs's items as they are, without the whitespace ones. */
  words: { str: string; x: number; y: number; width: number }[];
  images: number;
}

type ReadItem = ReadPage['items'][number];
/** pdfjs splits a run at its spaces (a space item between words): items that touch on one baseline are joined back into the run. */
const joinTouching = (items: ReadItem[]): ReadItem[] =>
  items.reduce<ReadItem[]>((runs, item) => {
    const last = runs.at(-1);
    if (last && near(last.y, item.y, 0.01) && near(last.x + last.width, item.x, 0.01))
      runs[runs.length - 1] = { ...last, str: last.str + item.str, width: item.x + item.width - last.x };
    else runs.push(item);
    return runs;
  }, []);

/** Every page of a PDF as pdfjs reads it: size in points, text runs (origin and width in points), images drawn. */
async function readPdf(bytes: Uint8Array): Promise<ReadPage[]> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const document = await pdfjs.getDocument({ data: new Uint8Array(bytes), verbosity: 0, isEvalSupported: false }).promise;
  const pages: ReadPage[] = [];
  for (let number = 1; number <= document.numPages; number++) {
    const page = await document.getPage(number);
    const { items } = await page.getTextContent();
    const { fnArray } = await page.getOperatorList();
    const all = items.flatMap((item) => ('str' in item ? [{ str: item.str, x: item.transform[4], y: item.transform[5], width: item.width }] : []));
    pages.push({
      size: [page.view[2]! - page.view[0]!, page.view[3]! - page.view[1]!],
      items: joinTouching(all).filter((item) => item.str.trim() !== ''),
      words: all.filter((item) => item.str.trim() !== ''),
      images: fnArray.filter((fn) => fn === pdfjs.OPS.paintImageXObject).length,
    });
  }
  await document.destroy();
  return pages;
}

void describe('pixels to PDF points', () => {
  const box = { x: 10, y: 20, width: 100, height: 200 };
  // A page shown 50 x 100 px (or 100 x 50 px when turned); the corners of the shown page map to the crop box's corners.
  const cases: [string, number, [number, number], [number, number][], [number, number][]][] = [
    [
      'an upright page maps top-left to the top-left corner',
      0,
      [50, 100],
      [
        [0, 0],
        [50, 100],
      ],
      [
        [10, 220],
        [110, 20],
      ],
    ],
    [
      'a page turned 90 degrees shows its bottom-left corner at the top left',
      90,
      [100, 50],
      [
        [0, 0],
        [100, 50],
      ],
      [
        [10, 20],
        [110, 220],
      ],
    ],
    [
      'a page turned 180 degrees shows its bottom-right corner at the top left',
      180,
      [50, 100],
      [
        [0, 0],
        [50, 100],
      ],
      [
        [110, 20],
        [10, 220],
      ],
    ],
    [
      'a page turned 270 degrees shows its top-right corner at the top left',
      270,
      [100, 50],
      [
        [0, 0],
        [100, 50],
      ],
      [
        [110, 220],
        [10, 20],
      ],
    ],
  ];
  for (const [name, rotate, [w, h], pixels, points] of cases) {
    void it(name, () => {
      const toPdf = pixelsToPdf(box, rotate, w, h);
      assert.deepEqual(
        pixels.map(([x, y]) => toPdf(x, y)),
        points,
      );
    });
  }
});

void describe('runs of invisible text', () => {
  const line = { text: 'TOTAL 9.00', confidence: 90, bbox: { x0: 10, y0: 20, x1: 110, y1: 40 } };
  const word = (text: string, x0: number, x1: number) => ({
    text,
    confidence: 90,
    bbox: { x0, y0: 20, x1, y1: 40 },
    quad: [
      [x0, 20],
      [x1, 20],
      [x1, 40],
      [x0, 40],
    ] as [number, number][],
  });
  const cases: [string, OcrResult['lines'], string[]][] = [
    ['a line without words is one run at its box', [line], ['TOTAL 9.00']],
    ['a line with words is a run per word', [{ ...line, words: [word('TOTAL', 10, 60), word('9.00', 70, 110)] }], ['TOTAL', '9.00']],
  ];
  for (const [name, lines, texts] of cases)
    void it(name, () =>
      assert.deepEqual(
        runsOf(lines).map((r) => r.text),
        texts,
      ),
    );
  void it("a line's run is the corners of its box, clockwise from the top left", () =>
    assert.deepEqual(runsOf([line])[0]?.quad, [
      [10, 20],
      [110, 20],
      [110, 40],
      [10, 40],
    ]));
});

/** Page 1 of a PDF drawn by pdfjs at 1 px per pt, as greyscale pixels. */
async function drawnPage(bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number }> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const document = await pdfjs.getDocument({ data: new Uint8Array(bytes), verbosity: 0, isEvalSupported: false }).promise;
  const page = await document.getPage(1);
  const viewport = page.getViewport({ scale: 1 });
  const factory = document.canvasFactory as { create(w: number, h: number): { canvas: { toBuffer(type: 'image/png'): Buffer }; context: unknown } };
  const canvas = factory.create(Math.round(viewport.width), Math.round(viewport.height));
  await page.render({ canvasContext: canvas.context as never, viewport, canvas: canvas.canvas as never }).promise;
  const png = canvas.canvas.toBuffer('image/png');
  await document.destroy();
  const { data, info } = await sharp(png).flatten({ background: '#ffffff' }).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

void describe('PNG data a PDF takes as it is', () => {
  const variants: [string, (image: Sharp) => Sharp, number | undefined][] = [
    ['a grey PNG is taken with 1 colour', (image) => image.removeAlpha().toColourspace('b-w').png(), 1],
    ['an RGB PNG is taken with 3 colours', (image) => image.removeAlpha().png(), 3],
    ['a PNG with alpha is not', (image) => image.ensureAlpha().png(), undefined],
    ['a palette PNG is not', (image) => image.png({ palette: true }), undefined],
    ['an interlaced PNG is not', (image) => image.removeAlpha().png({ progressive: true }), undefined],
    ['a JPEG is not', (image) => image.jpeg(), undefined],
  ];
  for (const [name, encode, colors] of variants) {
    void it(name, async () => {
      const bytes = await encode(sharp(await renderText(['PNG DATA']))).toBuffer();
      assert.equal(pngStream(bytes)?.colors, colors);
    });
  }

  for (const [name, encode] of variants.slice(0, 4)) {
    void it(`the page drawn from ${name.replace(/ is (taken|not).*/u, '')} shows the image`, async () => {
      const bytes = await encode(sharp(await renderText(['PNG DATA 123']))).toBuffer();
      const { width = 0, height = 0 } = await sharp(bytes).metadata();
      const result: OcrResult = { ...base, image: { width, height, format: 'png' }, text: '', lines: [] };
      const drawn = await drawnPage(await renderSearchablePdf(result, bytes));
      const original = await sharp(bytes).flatten({ background: '#ffffff' }).greyscale().raw().toBuffer();
      assert.deepEqual([drawn.width, drawn.height], [width, height]);
      // Mean difference per pixel (0-255): the same picture, give or take resampling at the edges of glyphs.
      const difference = original.reduce((sum, value, i) => sum + Math.abs(value - drawn.data[i]!), 0) / original.length;
      assert.ok(difference < 3, `mean difference ${difference.toFixed(2)}`);
    });
  }
});

void describe('the searchable PDF', () => {
  void it('of a PNG is one page of its size with each line invisible over its box', async () => {
    const png = await renderText(['HELLO SEARCHABLE WORLD', 'TOTAL 12.50']);
    const { width = 0, height = 0 } = await sharp(png).metadata();
    const lines = [
      { text: 'HELLO SEARCHABLE WORLD', confidence: 91, bbox: { x0: 32, y0: 40, x1: 480, y1: 72 } },
      { text: 'TOTAL 12.50', confidence: 90, bbox: { x0: 32, y0: 91, x1: 260, y1: 123 } },
    ];
    const result: OcrResult = { ...base, image: { width, height, format: 'png' }, text: 'HELLO SEARCHABLE WORLD\nTOTAL 12.50', lines };
    const [page, ...rest] = await readPdf(await renderSearchablePdf(result, png));
    assert.equal(rest.length, 0);
    // A PNG without a density is 72 dpi: one pixel is one point.
    assert.deepEqual(page?.size, [width, height]);
    assert.equal(page?.images, 1);
    assert.deepEqual(
      page?.items.map((i) => i.str),
      lines.map((l) => l.text),
    );
    for (const [i, item] of page.items.entries()) {
      const { x0, x1, y1 } = lines[i]!.bbox;
      const baseline = height - (y1 - 0.2 * (y1 - lines[i]!.bbox.y0));
      assert.ok(near(item.x, x0) && near(item.y, baseline) && near(item.width, x1 - x0, 3), JSON.stringify({ item, box: lines[i]!.bbox }));
    }
  });

  void it('of a multi-page TIFF is a page per image page, each with its own lines', async () => {
    const pages = await Promise.all([['PAGE ONE TEXT'], ['PAGE TWO TEXT']].map((lines) => renderText(lines, { width: 400 })));
    const tiff = await sharp(pages, { join: { animated: true } })
      .tiff()
      .toBuffer();
    const { height = 0 } = await sharp(pages[0]).metadata();
    const result: OcrResult = {
      ...base,
      image: { width: 400, height, format: 'tiff' },
      text: 'PAGE ONE TEXT\fPAGE TWO TEXT',
      pages: [1, 2].map((page) => ({ page, width: 400, height, text: `PAGE ${page === 1 ? 'ONE' : 'TWO'} TEXT`, meanConfidence: 90 })),
      lines: ['ONE', 'TWO'].map((n, i) => ({ text: `PAGE ${n} TEXT`, confidence: 90, bbox: { x0: 32, y0: 40, x1: 300, y1: 72 }, page: i + 1 })),
    };
    const read = await readPdf(await renderSearchablePdf(result, tiff));
    assert.deepEqual(
      read.map((p) => [p.size, p.images, p.items.map((i) => i.str)]),
      [
        [[400, height], 1, ['PAGE ONE TEXT']],
        [[400, height], 1, ['PAGE TWO TEXT']],
      ],
    );
  });

  void it('of a PDF read wholly from its text layer is the PDF itself', async () => {
    const pdf = await buildLayeredPdf([{ text: ['one page of real text in the PDF itself, long enough'] }]);
    const result: OcrResult = {
      ...base,
      image: { width: 1700, height: 2200, format: 'pdf' },
      text: 'x',
      pages: [{ page: 1, width: 1700, height: 2200, text: 'x', meanConfidence: 100, source: 'text-layer' }],
      lines: [{ text: 'x', confidence: 100, bbox: { x0: 0, y0: 0, x1: 10, y1: 10 }, page: 1 }],
    };
    assert.equal(Buffer.compare(Buffer.from(await renderSearchablePdf(result, pdf)), pdf), 0);
  });

  void it('of a mixed PDF keeps its pages and adds text only to the OCRed one', async () => {
    const pdf = await buildLayeredPdf([{ text: ['real text on the first page of this document'] }, { scan: ['SCANNED TOTAL 9.00'] }]);
    const result: OcrResult = {
      ...base,
      image: { width: 1700, height: 2200, format: 'pdf' },
      text: 'real text on the first page of this document\fSCANNED TOTAL 9.00',
      pages: [
        { page: 1, width: 1700, height: 2200, text: 'real text on the first page of this document', meanConfidence: 100, source: 'text-layer' },
        { page: 2, width: 1700, height: 2200, text: 'SCANNED TOTAL 9.00', meanConfidence: 90, source: 'ocr' },
      ],
      lines: [
        { text: 'real text on the first page of this document', confidence: 100, bbox: { x0: 200, y0: 200, x1: 1000, y1: 250 }, page: 1 },
        { text: 'SCANNED TOTAL 9.00', confidence: 90, bbox: { x0: 100, y0: 150, x1: 700, y1: 200 }, page: 2 },
      ],
    };
    const read = await readPdf(await renderSearchablePdf(result, pdf));
    assert.deepEqual(
      read.map((p) => [p.size, p.images, p.items.map((i) => i.str)]),
      [
        [[612, 792], 0, ['real text on the first page of this document']],
        [[612, 792], 1, ['SCANNED TOTAL 9.00']],
      ],
    );
    // 1700 px across 612 pt: the box's left edge at 100 px is 36 pt.
    assert.ok(near(read[1]!.items[0]!.x, 36), JSON.stringify(read[1]!.items[0]));
  });

  for (const rotate of [90, 180, 270]) {
    void it(`puts the text upright over its box on a page turned ${rotate} degrees`, async () => {
      const document = await PDFDocument.load(await buildLayeredPdf([{ scan: ['TURNED'] }]));
      document.getPage(0).setRotation(degrees(rotate));
      const turned = Buffer.from(await document.save());
      // Shown at 1 px per pt: 792 x 612 when turned a quarter, 612 x 792 when upside down.
      const [width, height] = rotate === 180 ? [612, 792] : [792, 612];
      const lines = [{ text: 'TURNED', confidence: 90, bbox: { x0: 100, y0: 50, x1: 400, y1: 80 } }];
      const result: OcrResult = { ...base, image: { width, height, format: 'png' }, text: 'TURNED', lines };
      const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
      const read = await pdfjs.getDocument({ data: new Uint8Array(await renderSearchablePdf(result, turned)), verbosity: 0, isEvalSupported: false }).promise;
      const page = await read.getPage(1);
      const viewport = page.getViewport({ scale: 1 });
      const [item] = (await page.getTextContent()).items.filter((i) => 'str' in i && i.str === 'TURNED');
      assert.ok(item && 'transform' in item);
      // The run's matrix as shown: running left to right (a > 0, b = 0) from the box's left edge on its baseline (a fifth up from the bottom).
      const [a, b, , , e, f] = pdfjs.Util.transform(viewport.transform, item.transform) as number[];
      assert.ok(a! > 0 && near(b!, 0, 0.01), JSON.stringify({ a, b }));
      assert.ok(near(e!, 100) && near(f!, 80 - 0.2 * 30), JSON.stringify({ e, f }));
      await read.destroy();
    });
  }

  void it('writes every script into the text layer: each word comes back exactly, over its box', async () => {
    const png = await renderText(['Grüße aus München', '合计 TOTAL €9,50', 'Ωμέγα 𠀀𝄞 Ä'], { width: 600 });
    const { width = 0, height = 0 } = await sharp(png).metadata();
    // Each line's words, laid out at 20 px a character from x = 20, 40 px lines: the boxes the words must come back in.
    const lines = ['Grüße aus München', '合计 TOTAL €9,50', 'Ωμέγα 𠀀𝄞 Ä'].map((text, i) => {
      const [y0, y1] = [20 + 50 * i, 60 + 50 * i];
      let x = 20;
      const words = text.split(' ').map((word) => {
        const x0 = x;
        x += 20 * [...word].length;
        const bbox = { x0, y0, x1: x, y1 };
        x += 20;
        return { text: word, confidence: 90, bbox, quad: runsOf([{ text: word, confidence: 90, bbox }])[0]!.quad };
      });
      return { text, confidence: 90, bbox: { x0: 20, y0, x1: x - 20, y1 }, words };
    });
    const result: OcrResult = { ...base, image: { width, height, format: 'png' }, text: lines.map((l) => l.text).join('\n'), lines };
    const [page] = await readPdf(await renderSearchablePdf(result, png));
    const words = lines.flatMap((l) => l.words);
    assert.deepEqual(
      page?.words.map((i) => i.str),
      words.map((w) => w.text),
    );
    // Copied or searched, each line is its text (pdfjs puts a space between words apart on a baseline).
    assert.deepEqual(
      page.items.map((i) => i.str),
      lines.map((l) => l.text),
    );
    for (const [i, item] of page.words.entries()) {
      const { x0, y0, x1, y1 } = words[i]!.bbox;
      // 72 dpi: points are pixels, y up from the bottom; the baseline a fifth of the box above its bottom.
      const baseline = height - (y1 - 0.2 * (y1 - y0));
      assert.ok(near(item.x, x0) && near(item.y, baseline) && near(item.width, x1 - x0), JSON.stringify({ item, box: words[i]!.bbox }));
    }
  });

  void it('is read by the worker like any scan: its invisible text is not taken for a text layer, each page is rendered at its size', async () => {
    const png = await renderText(['合计 TOTAL 9.00 Grüße'], { width: 400 });
    const { width = 0, height = 0 } = await sharp(png).metadata();
    const lines = [
      { text: '合计 TOTAL 9.00 Grüße and enough text to pass the text-layer glyph count', confidence: 90, bbox: { x0: 10, y0: 10, x1: 380, y1: 40 } },
    ];
    const pdf = Buffer.from(await renderSearchablePdf({ ...base, image: { width, height, format: 'png' }, text: lines[0]!.text, lines }, png));
    const { format, pages } = await splitDocument(pdf, { maxPages: 5, pdfDpi: 72, maxPixels: 10_000_000, pdfTextLayer: true });
    assert.equal(format, 'pdf');
    assert.equal(pages.length, 1);
    assert.ok(Buffer.isBuffer(pages[0]), 'the page is an image to OCR');
    const size = await sharp(pages[0]).metadata();
    assert.deepEqual([size.width, size.height], [width, height]);
  });

  void it('leaves control characters out and keeps one space between words', async () => {
    const png = await renderText(['TOTAL'], { width: 400 });
    const { width = 0, height = 0 } = await sharp(png).metadata();
    const lines = [{ text: 'TOTAL\u0001 \t 9.00\n', confidence: 90, bbox: { x0: 10, y0: 10, x1: 200, y1: 40 } }];
    const [page] = await readPdf(await renderSearchablePdf({ ...base, image: { width, height, format: 'png' }, text: lines[0]!.text, lines }, png));
    assert.deepEqual(
      page?.items.map((i) => i.str),
      ['TOTAL 9.00'],
    );
  });

  void it('refuses a PDF that does not have the pages of the result', async () => {
    const pdf = await buildLayeredPdf([{ scan: ['ONE PAGE'] }]);
    const result: OcrResult = {
      ...base,
      image: { width: 100, height: 100, format: 'pdf' },
      text: 'A\fB',
      pages: [1, 2].map((page) => ({ page, width: 100, height: 100, text: 'A', meanConfidence: 90 })),
      lines: [{ text: 'A', confidence: 90, bbox: { x0: 1, y0: 1, x1: 9, y1: 9 }, page: 2 }],
    };
    await assert.rejects(renderSearchablePdf(result, pdf), SearchablePdfError);
  });
});
