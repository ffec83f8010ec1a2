// Which PDF pages are read from their text layer, decided from their operator lists, and how text items
// become lines. The operator numbers are pdfjs's own OPS table, so the walk is checked against what
// pdfjs emits; whole PDFs go through it in test/integration/worker/documents.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OPS } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { OcrWord } from '../../jobs/schema.ts';
import {
  MIN_TEXT_LAYER_GLYPHS,
  fontAdvances,
  groupLines,
  pageInk,
  readTextLayer,
  textLayerLines,
  usesTextLayer,
  type PageInk,
  type TextLayerPage,
} from './pdf-text-layer.ts';

const glyphs = (text: string): unknown[] => [[...text].map((c) => ({ unicode: c, isSpace: c === ' ' }))];
const PAGE_AREA = 612 * 792;
type Op = [keyof typeof OPS, unknown[] | null];

const inkOf = (ops: Op[]): PageInk =>
  pageInk(
    ops.map(([name]) => OPS[name]),
    ops.map(([, args]) => args),
    OPS,
    PAGE_AREA,
  );

const LONG = 'The quick brown fox jumps over the lazy dog again';
const fullPageImage: Op[] = [
  ['save', null],
  ['transform', [612, 0, 0, 792, 0, 0]],
  ['paintImageXObject', ['img1', 1275, 1650]],
  ['restore', null],
];

void describe('what a page draws', () => {
  const cases: [string, Op[], PageInk][] = [
    ['visible text counts its non-space glyphs', [['showText', glyphs(LONG)]], { visibleGlyphs: 40, largestImage: 0 }],
    [
      'invisible text (render mode 3) does not count',
      [
        ['setTextRenderingMode', [3]],
        ['showText', glyphs(LONG)],
      ],
      { visibleGlyphs: 0, largestImage: 0 },
    ],
    [
      'clip-only text (render mode 7) does not count',
      [
        ['setTextRenderingMode', [7]],
        ['showText', glyphs(LONG)],
      ],
      { visibleGlyphs: 0, largestImage: 0 },
    ],
    [
      'a restore brings back the visible mode saved before it',
      [
        ['save', null],
        ['setTextRenderingMode', [3]],
        ['showText', glyphs(LONG)],
        ['restore', null],
        ['showText', glyphs('ABC DEF')],
      ],
      { visibleGlyphs: 6, largestImage: 0 },
    ],
    ['an image scaled to the whole page covers all of it', fullPageImage, { visibleGlyphs: 0, largestImage: 1 }],
    [
      'an image scaled to a quarter of the page covers a quarter',
      [
        ['save', null],
        ['transform', [306, 0, 0, 396, 0, 0]],
        ['paintImageXObject', ['img1', 10, 10]],
        ['restore', null],
      ],
      { visibleGlyphs: 0, largestImage: 0.25 },
    ],
    [
      "a form XObject's matrix scales the image drawn inside it, and ends with the form",
      [
        [
          'paintFormXObjectBegin',
          [
            [2, 0, 0, 2, 0, 0],
            [0, 0, 306, 396],
          ],
        ],
        ['transform', [306, 0, 0, 396, 0, 0]],
        ['paintImageXObject', ['img1', 10, 10]],
        ['paintFormXObjectEnd', null],
        ['transform', [306, 0, 0, 396, 0, 0]],
        ['paintInlineImageXObject', [{}]],
      ],
      { visibleGlyphs: 0, largestImage: 1 },
    ],
  ];
  for (const [name, ops, ink] of cases) void it(name, () => assert.deepEqual(inkOf(ops), ink));
});

void describe('which pages are read from their text layer', () => {
  const cases: [string, PageInk, boolean][] = [
    ['a page of text with no image is', { visibleGlyphs: 400, largestImage: 0 }, true],
    ['a page of text with a small logo is', { visibleGlyphs: 400, largestImage: 0.05 }, true],
    [`a page with ${MIN_TEXT_LAYER_GLYPHS} visible glyphs is`, { visibleGlyphs: MIN_TEXT_LAYER_GLYPHS, largestImage: 0 }, true],
    [`a page with ${MIN_TEXT_LAYER_GLYPHS - 1} visible glyphs (a stamp) is not`, { visibleGlyphs: MIN_TEXT_LAYER_GLYPHS - 1, largestImage: 0 }, false],
    ['a scan with an invisible OCR layer (no visible glyphs) is not', { visibleGlyphs: 0, largestImage: 1 }, false],
    ['a scan with lots of visible text over or under it is not', { visibleGlyphs: 400, largestImage: 0.9 }, false],
  ];
  for (const [name, ink, uses] of cases) void it(name, () => assert.equal(usesTextLayer(ink), uses));
});

void describe('text items into lines', () => {
  const box = (text: string, x0: number, y0: number, x1: number, y1: number) => ({ text, turn: 0, x0, y0, x1, y1 });
  const cases: [string, ReturnType<typeof box>[], string[][]][] = [
    ['items on one baseline are one line, read left to right', [box('world', 120, 10, 200, 30), box('hello', 10, 11, 100, 31)], [['hello', 'world']]],
    ['lines are read top to bottom', [box('second', 10, 50, 100, 70), box('first', 10, 10, 100, 30)], [['first'], ['second']]],
    [
      'a gap of more than 3 em on a baseline starts another line (a column)',
      [box('left', 10, 10, 100, 30), box('right', 400, 10, 480, 30)],
      [['left'], ['right']],
    ],
    ['a superscript within half a line height stays on its line', [box('x', 10, 10, 30, 30), box('2', 32, 4, 40, 20)], [['x', '2']]],
  ];
  for (const [name, items, lines] of cases)
    void it(name, () =>
      assert.deepEqual(
        groupLines(items).map((line) => line.map((p) => p.text)),
        lines,
      ),
    );

  void it('boxes are in viewport pixels and words are spaced by their gaps', () => {
    // 200 DPI: 1 pt = 200/72 px; y flips (pdfjs viewport of a 612 x 792 page).
    const scale = 200 / 72;
    const viewport = { width: 612 * scale, height: 792 * scale, convertToViewportPoint: (x: number, y: number) => [x * scale, (792 - y) * scale] };
    const item = (str: string, x: number, width: number) => ({ str, width, height: 24, transform: [24, 0, 0, 24, x, 700] });
    const lines = textLayerLines([item('INVOICE', 72, 100), item(' ', 172, 6), item('4711', 184, 50)], viewport);
    const [x0, y0, x1, y1] = [200, Math.round((792 - 700 - 0.8 * 24) * scale), Math.round(234 * scale), Math.round((792 - 700 + 0.2 * 24) * scale)];
    const quad = [
      [x0, y0],
      [x1, y0],
      [x1, y1],
      [x0, y1],
    ];
    const word = (text: string, left: number, right: number) => {
      const [wx0, wx1] = [Math.round(left * scale), Math.round(right * scale)];
      return {
        text,
        confidence: 100,
        bbox: { x0: wx0, y0, x1: wx1, y1 },
        quad: [
          [wx0, y0],
          [wx1, y0],
          [wx1, y1],
          [wx0, y1],
        ],
      };
    };
    assert.deepEqual(lines, [
      { text: 'INVOICE 4711', confidence: 100, bbox: { x0, y0, x1, y1 }, quad, words: [word('INVOICE', 72, 172), word('4711', 184, 234)] },
    ]);
  });

  void describe('words', () => {
    // 1 px per pt, y flipped on a 200 pt high page; items 10 pt high with baselines at y = 100.
    const viewport = { width: 400, height: 200, convertToViewportPoint: (x: number, y: number) => [x, 200 - y] };
    const item = (str: string, x: number, width: number) => ({ str, width, height: 10, transform: [10, 0, 0, 10, x, 100] });
    /** Each word's text and its left and right edge in pixels. */
    const cases: [string, ReturnType<typeof item>[], [string, number, number][]][] = [
      [
        'an item is a word, its edges the edges of the item',
        [item('TOTAL', 10, 50), item('9.00', 70, 40)],
        [
          ['TOTAL', 10, 60],
          ['9.00', 70, 110],
        ],
      ],
      [
        "words inside one item share its advance evenly by character ('TOTAL 12.50': 11 characters of 10 pt)",
        [item('TOTAL 12.50', 10, 110)],
        [
          ['TOTAL', 10, 60],
          ['12.50', 70, 120],
        ],
      ],
      ['items that touch without a space are one word', [item('Gr', 10, 20), item('üße', 30, 30)], [['Grüße', 10, 60]]],
      [
        'a run of whitespace inside an item separates words once',
        [item('A \t B', 10, 50)],
        [
          ['A', 10, 20],
          ['B', 50, 60],
        ],
      ],
    ];
    for (const [name, items, expected] of cases)
      void it(name, () => {
        const [line] = textLayerLines(items, viewport);
        assert.deepEqual(
          line?.words?.map((w) => [w.text, w.bbox.x0, w.bbox.x1]),
          expected,
        );
        assert.equal(line?.text, expected.map(([text]) => text).join(' '));
        // Upright words: the quad is the box's corners, top and bottom those of the line (from 0.8 em above the baseline to 0.2 below).
        for (const w of line?.words ?? []) {
          assert.deepEqual([w.bbox.y0, w.bbox.y1, w.confidence], [92, 102, 100]);
          assert.deepEqual(w.quad, [
            [w.bbox.x0, 92],
            [w.bbox.x1, 92],
            [w.bbox.x1, 102],
            [w.bbox.x0, 102],
          ]);
        }
      });
  });

  void it('text running down the page is a line of its own, its quad starting at the top-right corner of the page as read', () => {
    // Text turned a quarter clockwise on a 100 x 100 page without y flip: the baseline runs down at x = 50, glyphs rising to the right.
    const viewport = { width: 100, height: 100, convertToViewportPoint: (x: number, y: number) => [x, y] };
    const item = { str: 'DOWN', width: 40, height: 10, transform: [0, 10, 10, 0, 50, 20] };
    const [line] = textLayerLines([item], viewport);
    // Reading frame: along the baseline from (50, 20) to (50, 60), up is +x: the text's top edge is x = 58, its bottom x = 48.
    assert.deepEqual(line?.quad, [
      [58, 20],
      [58, 60],
      [48, 60],
      [48, 20],
    ]);
    assert.deepEqual(line?.bbox, { x0: 48, y0: 20, x1: 58, y1: 60 });
    // Its one word turns with it.
    assert.deepEqual(
      line?.words?.map((w) => [w.text, w.quad]),
      [['DOWN', line.quad]],
    );
  });
});

void describe('glyph advances from the operator list', () => {
  const glyph = (unicode: string, width: number) => ({ unicode, width, isSpace: unicode === ' ' });
  void it('are kept per font, a ligature sharing its advance among its characters, a character shown alone keeping its own', () => {
    const ops: Op[] = [
      ['setFont', ['g_f1', 12]],
      ['showText', [[glyph('W', 944), glyph('fi', 500), glyph(' ', 278)]]],
      ['setFont', ['g_f2', 12]],
      ['nextLineSetSpacingShowText', [0, 0, [glyph('W', 600), -120, glyph('i', 600)]]],
      ['setFont', ['g_f1', 12]],
      ['showSpacedText', [[glyph('i', 222)]]],
    ];
    const advances = fontAdvances(
      ops.map(([name]) => OPS[name]),
      ops.map(([, args]) => args),
      OPS,
    );
    assert.deepEqual(
      [...advances].map(([name, font]) => [name, Object.fromEntries(font)]),
      [
        ['g_f1', { W: 944, f: 250, i: 222, ' ': 278 }],
        ['g_f2', { W: 600, i: 600 }],
      ],
    );
  });

  void it("share an item's advance among its words by the font's advances, the mean for a character the font did not show", () => {
    const viewport = { width: 400, height: 200, convertToViewportPoint: (x: number, y: number) => [x, 200 - y] };
    const advances = new Map([
      [
        'F',
        new Map([
          ['W', 1000],
          ['i', 250],
          [' ', 250],
        ]),
      ],
    ]);
    // 'Wi Wi?' over 130 px: W 1000, i 250, space 250, W 1000, i 250, ? the mean 500; 3250 units in all, 0.04 px each.
    const [line] = textLayerLines([{ str: 'Wi Wi?', width: 130, height: 10, transform: [10, 0, 0, 10, 10, 100], fontName: 'F' }], viewport, advances);
    assert.deepEqual(
      line?.words?.map((w) => [w.text, w.bbox.x0, w.bbox.x1]),
      [
        ['Wi', 10, 60],
        ['Wi?', 70, 140],
      ],
    );
  });
});

void describe('words of a generated PDF read through pdfjs', () => {
  void it('come back in order with boxes where pdf-lib drew them: at item edges and inside an item alike (glyph advances from the operator list)', async () => {
    const document = await PDFDocument.create();
    const font = await document.embedFont(StandardFonts.Helvetica);
    const page = document.addPage([612, 792]);
    // Line 1 drawn word by word (each word its own item), line 2 as one string (its words inside one item).
    const first = ['Invoice', '4711', 'paid', 'by', 'transfer'];
    let x = 72;
    const drawn: [string, number, number][] = [];
    for (const word of first) {
      page.drawText(word, { x, y: 700, size: 16, font });
      drawn.push([word, x, x + font.widthOfTextAtSize(word, 16)]);
      x += font.widthOfTextAtSize(`${word} `, 16) + 8;
    }
    const second = 'Total amount due 12.50 EUR';
    page.drawText(second, { x: 72, y: 660, size: 16, font });
    const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
    const read = await pdfjs.getDocument({ data: await document.save(), verbosity: 0, isEvalSupported: false }).promise;
    try {
      const shown = await read.getPage(1);
      const text: TextLayerPage | undefined = await readTextLayer(shown, shown.getViewport({ scale: 1 }), pdfjs.OPS);
      assert.ok(text);
      assert.deepEqual(
        text.lines.map((l) => l.words?.map((w) => w.text)),
        [first, second.split(' ')],
      );
      for (const [i, [word, x0, x1]] of drawn.entries()) {
        const box: OcrWord['bbox'] = text.lines[0]!.words![i]!.bbox;
        assert.ok(Math.abs(box.x0 - x0) <= 1.5 && Math.abs(box.x1 - x1) <= 1.5, `${word}: ${JSON.stringify(box)} against ${x0}-${x1}`);
        // 16 pt text on the baseline at 700 pt: from 0.8 em above it to 0.2 em below, y down from the top of the 792 pt page.
        assert.deepEqual([box.y0, box.y1], [Math.round(792 - 700 - 12.8), Math.round(792 - 700 + 3.2)]);
      }
      let at = 0;
      for (const [i, word] of second.split(' ').entries()) {
        const start = second.indexOf(word, at);
        at = start + word.length;
        // Tj does not kern; pdf-lib's widthOfTextAtSize does: the glyphs are summed one by one.
        const advance = (text: string): number => [...text].reduce((sum, c) => sum + font.widthOfTextAtSize(c, 16), 0);
        const exact = [72 + advance(second.slice(0, start)), 72 + advance(second.slice(0, at))];
        const box: OcrWord['bbox'] = text.lines[1]!.words![i]!.bbox;
        // Shared by the glyphs' advances in the font: where pdf-lib put them, to the rounding of the box.
        assert.ok(Math.abs(box.x0 - exact[0]!) <= 1 && Math.abs(box.x1 - exact[1]!) <= 1, `${word}: ${JSON.stringify(box)} against ${exact.join('-')}`);
      }
    } finally {
      await read.destroy();
    }
  });
});
