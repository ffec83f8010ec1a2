import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OcrResult } from '../../jobs/index.ts';
import { renderHocr } from './hocr.ts';
import { pagesOf } from './pages.ts';
import { renderText } from './text.ts';
import { TSV_HEADER, renderTsv } from './tsv.ts';

const base: Omit<OcrResult, 'text' | 'lines'> = {
  jobId: 'job-00000000-formats',
  meanConfidence: 90,
  languages: ['eng'],
  image: { width: 400, height: 300, format: 'png' },
  timings: { downloadMs: 1, preprocessMs: 1, recognizeMs: 1, totalMs: 3 },
  worker: 'w',
  completedAt: '2026-01-01T00:00:00.000Z',
};

const single: OcrResult = {
  ...base,
  text: 'SHOP <A&B>\nTOTAL\t9.00',
  lines: [
    { text: 'SHOP <A&B>', confidence: 91.256, bbox: { x0: 10, y0: 20, x1: 110.4, y1: 40 } },
    { text: 'TOTAL\t9.00', confidence: 80, bbox: { x0: 10, y0: 50, x1: 90, y1: 70 } },
  ],
};

const twoPages: OcrResult = {
  ...base,
  image: { width: 600, height: 800, format: 'pdf' },
  text: 'PAGE ONE\fPAGE TWO\n',
  pages: [
    { page: 1, width: 600, height: 800, text: 'PAGE ONE', meanConfidence: 90 },
    { page: 2, width: 640, height: 820, text: 'PAGE TWO', meanConfidence: 88 },
  ],
  lines: [
    { text: 'PAGE ONE', confidence: 90, bbox: { x0: 1, y0: 2, x1: 3, y1: 4 }, page: 1 },
    { text: 'PAGE TWO', confidence: 88, bbox: { x0: 5, y0: 6, x1: 7, y1: 8 }, page: 2 },
  ],
};

const empty: OcrResult = { ...base, text: '', lines: [] };

type Box = OcrResult['lines'][number]['bbox'];
const corners = ({ x0, y0, x1, y1 }: Box): [number, number][] => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
];
const word = (text: string, confidence: number, bbox: Box) => ({ text, confidence, bbox, quad: corners(bbox) });

/** Lines with words as the tesseract engine writes them, and one line without words (an engine that gives none). */
const withWords: OcrResult = {
  ...base,
  text: 'SHOP <A&B>\nTOTAL 9.00\nNO WORDS',
  lines: [
    {
      text: 'SHOP <A&B>',
      confidence: 91.256,
      bbox: { x0: 10, y0: 20, x1: 110.4, y1: 40 },
      quad: corners({ x0: 10, y0: 20, x1: 110.4, y1: 40 }),
      words: [word('SHOP', 95.5, { x0: 10, y0: 20, x1: 50, y1: 40 }), word('<A&B>', 87, { x0: 60, y0: 21, x1: 110.4, y1: 40 })],
    },
    {
      text: 'TOTAL 9.00',
      confidence: 80,
      bbox: { x0: 10, y0: 50, x1: 90, y1: 70 },
      quad: corners({ x0: 10, y0: 50, x1: 90, y1: 70 }),
      words: [word('TOTAL', 82, { x0: 10, y0: 50, x1: 55, y1: 70 }), word('9.00', 78, { x0: 62, y0: 50, x1: 90, y1: 70 })],
    },
    { text: 'NO WORDS', confidence: 70, bbox: { x0: 10, y0: 80, x1: 90, y1: 100 } },
  ],
};

const twoPagesWithWords: OcrResult = {
  ...twoPages,
  lines: [
    { ...twoPages.lines[0]!, words: [word('PAGE', 90, { x0: 1, y0: 2, x1: 2, y1: 4 }), word('ONE', 90, { x0: 2, y0: 2, x1: 3, y1: 4 })] },
    { ...twoPages.lines[1]!, words: [word('PAGE', 88, { x0: 5, y0: 6, x1: 6, y1: 8 }), word('TWO', 88, { x0: 6, y0: 6, x1: 7, y1: 8 })] },
  ],
};

/**
 * Well-formed XML for the subset hOCR uses (declaration, doctype, elements with double-quoted attributes, text,
 * entities): every tag closes in order, no stray `<` or `&` in text, no control characters XML 1.0 forbids.
 */
function assertWellFormedXml(xml: string): void {
  const token = /<\?xml[^?]*\?>|<!DOCTYPE[^>]*>|<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<&]*(?:&(?:amp|lt|gt|quot|#\d+);[^"<&]*)*")*)\s*(\/?)>/gu;
  const open: string[] = [];
  let at = 0;
  const checkText = (text: string): void => {
    assert.doesNotMatch(text, /<|&(?!(?:amp|lt|gt|quot|#\d+);)|[\u0000-\u0008\u000B\u000C\u000E-\u001F]/u, `text ${JSON.stringify(text)} is not XML`);
  };
  for (const m of xml.matchAll(token)) {
    checkText(xml.slice(at, m.index));
    at = m.index + m[0].length;
    const [, closing, name, , selfClosing] = m;
    if (!name || selfClosing) continue;
    if (closing) assert.equal(open.pop(), name, `</${name}> at ${m.index} closes the open element`);
    else open.push(name);
  }
  checkText(xml.slice(at));
  assert.deepEqual(open, [], 'every element is closed');
}

void describe('pagesOf', () => {
  const cases: { name: string; result: OcrResult; expected: { page: number; width: number; height: number; lines: string[] }[] }[] = [
    {
      name: 'a single image is one page of the image size',
      result: single,
      expected: [{ page: 1, width: 400, height: 300, lines: ['SHOP <A&B>', 'TOTAL\t9.00'] }],
    },
    {
      name: 'a multi-page document puts each line on its own page with that page size',
      result: twoPages,
      expected: [
        { page: 1, width: 600, height: 800, lines: ['PAGE ONE'] },
        { page: 2, width: 640, height: 820, lines: ['PAGE TWO'] },
      ],
    },
    {
      name: 'a line naming a page the result does not list still shows, on a page of unknown size',
      result: { ...twoPages, pages: twoPages.pages!.slice(0, 1) },
      expected: [
        { page: 1, width: 600, height: 800, lines: ['PAGE ONE'] },
        { page: 2, width: 0, height: 0, lines: ['PAGE TWO'] },
      ],
    },
    { name: 'an image with no text is one empty page', result: empty, expected: [{ page: 1, width: 400, height: 300, lines: [] }] },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      assert.deepEqual(
        pagesOf(c.result).map((p) => ({ page: p.page, width: p.width, height: p.height, lines: p.lines.map((l) => l.text) })),
        c.expected,
      );
    });
  }
});

void describe('renderText', () => {
  const cases: { name: string; result: OcrResult; expected: string }[] = [
    { name: 'a single image is its text with one newline at the end', result: single, expected: 'SHOP <A&B>\nTOTAL\t9.00\n' },
    { name: 'pages are split by a form feed and trailing space is dropped', result: twoPages, expected: 'PAGE ONE\fPAGE TWO\n' },
    { name: 'an image with no text is an empty body', result: empty, expected: '' },
    { name: 'lines with words are still the result text, not their words', result: withWords, expected: 'SHOP <A&B>\nTOTAL 9.00\nNO WORDS\n' },
  ];
  for (const c of cases) void it(c.name, () => assert.equal(renderText(c.result), c.expected));
});

void describe('renderTsv', () => {
  const cases: { name: string; result: OcrResult; expected: string[] }[] = [
    {
      name: 'a single image is a page row then one line row per line, boxes as left top width height and tabs in text as spaces',
      result: single,
      expected: [
        TSV_HEADER,
        '1\t1\t0\t0\t0\t0\t0\t0\t400\t300\t-1\t',
        '4\t1\t1\t1\t1\t0\t10\t20\t100\t20\t91.26\tSHOP <A&B>',
        '4\t1\t1\t1\t2\t0\t10\t50\t80\t20\t80.00\tTOTAL 9.00',
      ],
    },
    {
      name: 'a multi-page document numbers pages and restarts line numbers on each page',
      result: twoPages,
      expected: [
        TSV_HEADER,
        '1\t1\t0\t0\t0\t0\t0\t0\t600\t800\t-1\t',
        '4\t1\t1\t1\t1\t0\t1\t2\t2\t2\t90.00\tPAGE ONE',
        '1\t2\t0\t0\t0\t0\t0\t0\t640\t820\t-1\t',
        '4\t2\t1\t1\t1\t0\t5\t6\t2\t2\t88.00\tPAGE TWO',
      ],
    },
    { name: 'an image with no text is the header and its page row', result: empty, expected: [TSV_HEADER, '1\t1\t0\t0\t0\t0\t0\t0\t400\t300\t-1\t'] },
    {
      name: 'a line with words is its line row then a level 5 row per word numbered from 1, and a line without words stays one row',
      result: withWords,
      expected: [
        TSV_HEADER,
        '1\t1\t0\t0\t0\t0\t0\t0\t400\t300\t-1\t',
        '4\t1\t1\t1\t1\t0\t10\t20\t100\t20\t91.26\tSHOP <A&B>',
        '5\t1\t1\t1\t1\t1\t10\t20\t40\t20\t95.50\tSHOP',
        '5\t1\t1\t1\t1\t2\t60\t21\t50\t19\t87.00\t<A&B>',
        '4\t1\t1\t1\t2\t0\t10\t50\t80\t20\t80.00\tTOTAL 9.00',
        '5\t1\t1\t1\t2\t1\t10\t50\t45\t20\t82.00\tTOTAL',
        '5\t1\t1\t1\t2\t2\t62\t50\t28\t20\t78.00\t9.00',
        '4\t1\t1\t1\t3\t0\t10\t80\t80\t20\t70.00\tNO WORDS',
      ],
    },
    {
      name: 'a multi-page document with words puts each word row under its line on its own page',
      result: twoPagesWithWords,
      expected: [
        TSV_HEADER,
        '1\t1\t0\t0\t0\t0\t0\t0\t600\t800\t-1\t',
        '4\t1\t1\t1\t1\t0\t1\t2\t2\t2\t90.00\tPAGE ONE',
        '5\t1\t1\t1\t1\t1\t1\t2\t1\t2\t90.00\tPAGE',
        '5\t1\t1\t1\t1\t2\t2\t2\t1\t2\t90.00\tONE',
        '1\t2\t0\t0\t0\t0\t0\t0\t640\t820\t-1\t',
        '4\t2\t1\t1\t1\t0\t5\t6\t2\t2\t88.00\tPAGE TWO',
        '5\t2\t1\t1\t1\t1\t5\t6\t1\t2\t88.00\tPAGE',
        '5\t2\t1\t1\t1\t2\t6\t6\t1\t2\t88.00\tTWO',
      ],
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const tsv = renderTsv(c.result);
      assert.ok(tsv.endsWith('\n'));
      const rows = tsv.slice(0, -1).split('\n');
      assert.deepEqual(rows, c.expected);
      for (const row of rows) assert.equal(row.split('\t').length, 12, `twelve columns in ${JSON.stringify(row)}`);
    });
  }
});

void describe('renderHocr', () => {
  /** words: each ocr_line's ocrx_word texts in order (checked when given). */
  const cases: { name: string; result: OcrResult; contains: string[]; absent?: string[]; words?: string[][] }[] = [
    {
      name: 'a single image is one ocr_page with the image box and ocr_lines with boxes, confidences and escaped text',
      result: single,
      contains: [
        '<div class="ocr_page" id="page_1" title="bbox 0 0 400 300; ppageno 0">',
        '<span class="ocr_line" id="line_1_1" title="bbox 10 20 110 40; x_wconf 91">SHOP &lt;A&amp;B&gt;</span>',
        '<span class="ocr_line" id="line_1_2" title="bbox 10 50 90 70; x_wconf 80">TOTAL\t9.00</span>',
        '<meta name="ocr-capabilities" content="ocr_page ocr_line"/>',
      ],
      absent: ['<A&B>'],
    },
    {
      name: 'a multi-page document is one ocr_page per page, each with its own size and lines',
      result: twoPages,
      contains: [
        '<div class="ocr_page" id="page_1" title="bbox 0 0 600 800; ppageno 0">',
        '<span class="ocr_line" id="line_1_1" title="bbox 1 2 3 4; x_wconf 90">PAGE ONE</span>',
        '<div class="ocr_page" id="page_2" title="bbox 0 0 640 820; ppageno 1">',
        '<span class="ocr_line" id="line_2_1" title="bbox 5 6 7 8; x_wconf 88">PAGE TWO</span>',
      ],
    },
    {
      name: 'text that looks like markup or carries control characters stays text',
      result: { ...single, lines: [{ text: '</span><script>x\u0001</script>', confidence: 50, bbox: { x0: 0, y0: 0, x1: 1, y1: 1 } }] },
      contains: ['&lt;/span&gt;&lt;script&gt;x&lt;/script&gt;'],
      absent: ['<script>', '\u0001'],
    },
    {
      name: 'a line with words holds one ocrx_word per word with its box and confidence, and a line without words holds its text',
      result: withWords,
      contains: [
        '<span class="ocr_line" id="line_1_1" title="bbox 10 20 110 40; x_wconf 91">\n',
        '<span class="ocrx_word" id="word_1_1" title="bbox 10 20 50 40; x_wconf 96">SHOP</span>',
        '<span class="ocrx_word" id="word_1_2" title="bbox 60 21 110 40; x_wconf 87">&lt;A&amp;B&gt;</span>',
        '<span class="ocrx_word" id="word_1_3" title="bbox 10 50 55 70; x_wconf 82">TOTAL</span>',
        '<span class="ocr_line" id="line_1_3" title="bbox 10 80 90 100; x_wconf 70">NO WORDS</span>',
        '<meta name="ocr-capabilities" content="ocr_page ocr_line ocrx_word ocrp_wconf"/>',
      ],
      absent: ['<A&B>', 'SHOP &lt;A&amp;B&gt;', 'x_quad'],
      words: [['SHOP', '&lt;A&amp;B&gt;'], ['TOTAL', '9.00'], []],
    },
    {
      name: 'a slanted line and its words carry their quads as x_quad in whole pixels, clockwise from the top left of the text',
      result: {
        ...base,
        text: 'SLANTED TEXT',
        lines: [
          {
            text: 'SLANTED TEXT',
            confidence: 93,
            bbox: { x0: 10, y0: 20, x1: 210, y1: 80 },
            quad: [
              [10, 40],
              [208.6, 20],
              [210, 60.4],
              [12, 80],
            ],
            words: [
              {
                text: 'SLANTED',
                confidence: 94,
                bbox: { x0: 10, y0: 28, x1: 110, y1: 80 },
                quad: [
                  [10, 40],
                  [110, 28],
                  [112, 68],
                  [12, 80],
                ],
              },
              { text: 'TEXT', confidence: 92, bbox: { x0: 120, y0: 20, x1: 210, y1: 60 }, quad: corners({ x0: 120, y0: 20, x1: 210, y1: 60 }) },
            ],
          },
        ],
      },
      contains: [
        '<span class="ocr_line" id="line_1_1" title="bbox 10 20 210 80; x_wconf 93; x_quad 10 40 209 20 210 60 12 80">\n',
        '<span class="ocrx_word" id="word_1_1" title="bbox 10 28 110 80; x_wconf 94; x_quad 10 40 110 28 112 68 12 80">SLANTED</span>',
        '<span class="ocrx_word" id="word_1_2" title="bbox 120 20 210 60; x_wconf 92">TEXT</span>',
      ],
      words: [['SLANTED', 'TEXT']],
    },
    {
      name: 'word numbers restart on each page of a multi-page document',
      result: twoPagesWithWords,
      contains: [
        '<span class="ocrx_word" id="word_1_2" title="bbox 2 2 3 4; x_wconf 90">ONE</span>',
        '<span class="ocrx_word" id="word_2_1" title="bbox 5 6 6 8; x_wconf 88">PAGE</span>',
        '<span class="ocrx_word" id="word_2_2" title="bbox 6 6 7 8; x_wconf 88">TWO</span>',
      ],
      words: [
        ['PAGE', 'ONE'],
        ['PAGE', 'TWO'],
      ],
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const hocr = renderHocr(c.result);
      assert.ok(hocr.startsWith('<?xml version="1.0" encoding="UTF-8"?>'));
      for (const part of c.contains) assert.ok(hocr.includes(part), `expected ${part} in\n${hocr}`);
      for (const part of c.absent ?? []) assert.ok(!hocr.includes(part), `did not expect ${part} in\n${hocr}`);
      // Balanced: every page div and line span is closed.
      assert.equal(hocr.match(/<div /g)?.length ?? 0, hocr.match(/<\/div>/g)?.length ?? 0);
      assert.equal(hocr.match(/<span /g)?.length ?? 0, hocr.match(/<\/span>/g)?.length ?? 0);
      assertWellFormedXml(hocr);
      if (c.words) {
        const lines = [
          ...hocr.matchAll(/<span class="ocr_line"[^>]*>(?:[^<]*<\/span>|\n((?:    <span class="ocrx_word"[^>]*>[^<]*<\/span>\n)*)   <\/span>)/gu),
        ];
        assert.deepEqual(
          lines.map((m) => [...(m[1] ?? '').matchAll(/>([^<]*)<\/span>/gu)].map((w) => w[1])),
          c.words,
        );
      }
    });
  }
});
