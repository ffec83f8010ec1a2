// Which PDF pages are read from their text layer, decided from their operator lists, and how text items
// become lines. The operator numbers are pdfjs's own OPS table, so the walk is checked against what
// pdfjs emits; whole PDFs go through it in test/integration/worker/documents.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OPS } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { MIN_TEXT_LAYER_GLYPHS, groupLines, pageInk, textLayerLines, usesTextLayer, type PageInk } from './pdf-text-layer.ts';

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
    assert.deepEqual(lines, [{ text: 'INVOICE 4711', confidence: 100, bbox: { x0, y0, x1, y1 }, quad }]);
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
  });
});
