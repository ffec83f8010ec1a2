import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  LINE_HEIGHT,
  MAX_LINE_WIDTH,
  MIN_SPACE_STEPS,
  ctcDecode,
  equalWidthBatches,
  lineTensor,
  lineWidth,
  readingOrder,
  spaceAtGaps,
  wordsOf,
  type Decoded,
} from './recognize.ts';

/** Scores of `steps` steps over the classes of `charset`, each step certain (0.9) of one class. */
function scores(best: readonly number[], classes: number): Float32Array {
  const out = new Float32Array(best.length * classes).fill(0.01);
  best.forEach((c, step) => (out[step * classes + c] = 0.9));
  return out;
}

const charset = ['', 'A', 'B', '1', ' '];

void describe('paddle recognition', () => {
  const decoding = [
    { name: 'repeats of one class collapse into one character', best: [1, 1, 1, 2], text: 'AB' },
    { name: 'a blank between two repeats keeps both characters', best: [1, 0, 1], text: 'AA' },
    { name: 'blanks alone decode to nothing', best: [0, 0, 0], text: '' },
    { name: 'the last class is a space', best: [1, 4, 3], text: 'A 1' },
  ];
  for (const c of decoding) {
    void it(c.name, () => {
      const decoded = ctcDecode(scores(c.best, charset.length), c.best.length, charset.length, charset);
      assert.equal(decoded.text, c.text);
      assert.ok(c.text === '' ? decoded.confidence === 0 : Math.abs(decoded.confidence - 0.9) < 1e-6);
    });
  }

  const widths = [
    { name: 'a line four times as wide as high is 192 px at 48 px high', box: { x0: 0, y0: 0, x1: 80, y1: 20 }, width: 192 },
    { name: 'widths round up to the stride of 8', box: { x0: 0, y0: 0, x1: 21, y1: 20 }, width: 56 },
    { name: 'a very long line is squeezed to the maximum width', box: { x0: 0, y0: 0, x1: 5000, y1: 10 }, width: MAX_LINE_WIDTH },
  ];
  for (const c of widths) void it(c.name, () => assert.equal(lineWidth({ ...c.box, score: 1 }), c.width));

  void it('crops a box into three identical channels scaled to [-1, 1]', () => {
    const grey = new Uint8Array(4 * 4).fill(255);
    const tensor = lineTensor(grey, { width: 4, height: 4 }, { x0: 0, y0: 0, x1: 4, y1: 4, score: 1 }, 8);
    assert.equal(tensor.length, 3 * LINE_HEIGHT * 8);
    assert.ok(tensor.every((v) => Math.abs(v - 1) < 1e-6));
  });

  void it('keeps the time steps of each character run', () => {
    const decoded = ctcDecode(scores([0, 1, 1, 0, 4, 2, 0, 2], charset.length), 8, charset.length, charset);
    assert.deepEqual(
      decoded.chars.map((c) => [c.text, c.first, c.last]),
      [
        ['A', 1, 2],
        [' ', 4, 4],
        ['B', 5, 5],
        ['B', 7, 7],
      ],
    );
  });

  // A line box 100 px wide from x 50, 10 steps: one step is 10 px; words widen by half a step each side.
  const line = { x0: 50, y0: 20, x1: 150, y1: 40, score: 1 };
  const words = [
    {
      name: 'two words split at the space, each from its first to its last character, widened by half a step',
      best: [0, 1, 0, 2, 0, 4, 0, 3, 3, 0],
      out: [
        { text: 'AB', x0: 55, x1: 95 },
        { text: '1', x0: 115, x1: 145 },
      ],
    },
    { name: 'a word touching the line ends is kept inside the line box', best: [1, 1, 2, 2, 2, 2, 2, 2, 2, 3], out: [{ text: 'AB1', x0: 50, x1: 150 }] },
    {
      name: 'leading, trailing and repeated spaces make no empty words',
      best: [4, 0, 1, 0, 4, 0, 4, 0, 2, 4],
      out: [
        { text: 'A', x0: 65, x1: 85 },
        { text: 'B', x0: 125, x1: 145 },
      ],
    },
    { name: 'a line of blanks has no words', best: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], out: [] },
  ];
  for (const c of words) {
    void it(c.name, () => {
      const decoded = ctcDecode(scores(c.best, charset.length), c.best.length, charset.length, charset);
      const found = wordsOf(decoded, c.best.length, line);
      assert.deepEqual(
        found.map((w) => ({ text: w.text, x0: Math.round(w.bbox.x0), x1: Math.round(w.bbox.x1) })),
        c.out,
      );
      for (const w of found) {
        assert.equal(w.bbox.y0, line.y0);
        assert.equal(w.bbox.y1, line.y1);
        assert.deepEqual(w.quad, [
          [w.bbox.x0, line.y0],
          [w.bbox.x1, line.y0],
          [w.bbox.x1, line.y1],
          [w.bbox.x0, line.y1],
        ]);
        assert.ok(Math.abs(w.confidence - 90) < 1e-4, `confidence ${w.confidence}`);
      }
    });
  }

  void it("a word's confidence is the mean of its characters' probabilities, in percent", () => {
    const out = new Float32Array(3 * charset.length).fill(0.01);
    out[1] = 0.8;
    out[charset.length + 2] = 0.6;
    out[2 * charset.length + 0] = 0.9;
    const [word] = wordsOf(ctcDecode(out, 3, charset.length, charset), 3, line);
    assert.ok(Math.abs(word!.confidence - 70) < 1e-4, `confidence ${word!.confidence}`);
  });

  /** A decoded line from characters at the given steps ('' steps: one step each). */
  function decodedAt(chars: readonly [string, number][]): Decoded {
    return { text: chars.map(([t]) => t).join(''), confidence: 0.9, chars: chars.map(([text, step]) => ({ text, first: step, last: step, probability: 0.9 })) };
  }
  const spacing = [
    {
      name: 'a gap twice the usual between letters becomes a space (MEGAMART read as MEGA MART)',
      chars: [
        ['M', 2],
        ['E', 5],
        ['G', 9],
        ['A', 13],
        ['M', 21],
        ['A', 25],
        ['R', 29],
        ['T', 33],
      ] as [string, number][],
      text: 'MEGA MART',
    },
    {
      name: 'evenly spaced letters stay one word',
      chars: [
        ['T', 1],
        ['O', 5],
        ['T', 9],
        ['A', 12],
        ['L', 16],
      ] as [string, number][],
      text: 'TOTAL',
    },
    {
      name: `a gap under ${MIN_SPACE_STEPS} steps is never a space, however tight the rest`,
      chars: [
        ['1', 1],
        ['2', 2],
        ['3', 3],
        ['4', 7],
      ] as [string, number][],
      text: '1234',
    },
    {
      name: 'a space the recogniser read is kept and not doubled',
      chars: [
        ['A', 1],
        ['B', 4],
        [' ', 9],
        ['C', 15],
        ['D', 18],
      ] as [string, number][],
      text: 'AB CD',
    },
    { name: 'a single character has no gaps', chars: [['A', 3]] as [string, number][], text: 'A' },
  ];
  for (const c of spacing) {
    void it(c.name, () => {
      const spaced = spaceAtGaps(decodedAt(c.chars));
      assert.equal(spaced.text, c.text);
      assert.equal(spaced.chars.map((ch) => ch.text).join(''), c.text);
    });
  }

  void it('an inserted space spans the gap, so the words around it keep their own boxes', () => {
    const spaced = spaceAtGaps(
      decodedAt([
        ['A', 1],
        ['B', 4],
        ['C', 12],
        ['D', 15],
      ]),
    );
    const found = wordsOf(spaced, 20, { x0: 0, y0: 0, x1: 200, y1: 20, score: 1 });
    assert.deepEqual(
      found.map((w) => [w.text, w.bbox.x0, w.bbox.x1]),
      [
        ['AB', 5, 55],
        ['CD', 115, 165],
      ],
    );
  });

  const batches = [
    { name: 'lines of equal width share a run', widths: [64, 64, 64], max: 8, groups: [[64, 64, 64]] },
    { name: 'lines of different widths are read apart, whatever their order', widths: [64, 72, 64], max: 8, groups: [[64, 64], [72]] },
    { name: 'a full batch starts a new one', widths: [64, 64, 64], max: 2, groups: [[64, 64], [64]] },
    { name: 'lines wider than the batching limit are read alone', widths: [400, 400], max: 8, groups: [[400], [400]] },
  ];
  for (const c of batches) {
    void it(c.name, () => {
      const groups = equalWidthBatches(
        c.widths.map((width) => ({ width })),
        c.max,
        256,
      );
      assert.deepEqual(
        groups.map((g) => g.map((item) => item.width)),
        c.groups,
      );
    });
  }

  void it('writes a line into the slice of a batch it is given', () => {
    const grey = new Uint8Array(4 * 4).fill(0);
    const batch = new Float32Array(2 * 3 * LINE_HEIGHT * 8).fill(7);
    const sample = 3 * LINE_HEIGHT * 8;
    lineTensor(grey, { width: 4, height: 4 }, { x0: 0, y0: 0, x1: 4, y1: 4, score: 1 }, 8, batch.subarray(sample));
    assert.ok(batch.subarray(0, sample).every((v) => v === 7));
    assert.ok(batch.subarray(sample).every((v) => Math.abs(v + 1) < 1e-6));
  });

  void it('reads rows top to bottom and boxes in a row left to right', () => {
    const box = (x0: number, y0: number, text: string) => ({ text, box: { x0, y0, x1: x0 + 40, y1: y0 + 20, score: 1 } });
    const rows = readingOrder([box(200, 52, 'D'), box(100, 3, 'B'), box(0, 0, 'A'), box(0, 50, 'C')]);
    assert.deepEqual(
      rows.map((row) => row.map((item) => item.text)),
      [
        ['A', 'B'],
        ['C', 'D'],
      ],
    );
  });
});
