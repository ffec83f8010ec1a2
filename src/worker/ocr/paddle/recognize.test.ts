import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LINE_HEIGHT, MAX_LINE_WIDTH, ctcDecode, lineTensor, lineWidth, readingOrder } from './recognize.ts';

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
