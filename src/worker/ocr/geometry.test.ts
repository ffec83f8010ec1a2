import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OcrLine } from '../../jobs/schema.ts';
import { quadOf, scaleLines } from './geometry.ts';

void describe('quadOf', () => {
  void it('an upright box becomes its four corners clockwise from the top-left', () => {
    assert.deepEqual(quadOf({ x0: 10, y0: 20, x1: 110, y1: 40 }), [
      [10, 20],
      [110, 20],
      [110, 40],
      [10, 40],
    ]);
  });
});

void describe('scaleLines', () => {
  const word = { text: 'HELLO', confidence: 90, bbox: { x0: 20, y0: 40, x1: 101, y1: 80 }, quad: quadOf({ x0: 20, y0: 40, x1: 101, y1: 80 }) };
  const withWords: OcrLine = { text: 'HELLO', confidence: 90, bbox: { x0: 20, y0: 40, x1: 101, y1: 80 }, quad: word.quad, words: [word], page: 2 };
  // The boxes above at half the size, rounded (101 / 2 = 50.5 -> 51), and their corners written out.
  const halved = { x0: 10, y0: 20, x1: 51, y1: 40 };
  const halvedQuad: [number, number][] = [
    [10, 20],
    [51, 20],
    [51, 40],
    [10, 40],
  ];
  const bare: OcrLine = { text: 'OLD', confidence: 80, bbox: { x0: 0, y0: 0, x1: 50, y1: 25 } };
  const cases: { name: string; lines: OcrLine[]; scale: number; expected: OcrLine[] }[] = [
    {
      name: 'a line read at twice the size has its box, quad and words halved and rounded, and keeps its page',
      lines: [withWords],
      scale: 2,
      expected: [
        {
          text: 'HELLO',
          confidence: 90,
          bbox: halved,
          quad: halvedQuad,
          words: [{ text: 'HELLO', confidence: 90, bbox: halved, quad: halvedQuad }],
          page: 2,
        },
      ],
    },
    {
      name: 'a line without words or quad (an engine that gives none) is scaled without gaining them',
      lines: [bare],
      scale: 0.5,
      expected: [{ text: 'OLD', confidence: 80, bbox: { x0: 0, y0: 0, x1: 100, y1: 50 } }],
    },
    { name: 'a scale of 1 returns the lines as they are', lines: [withWords, bare], scale: 1, expected: [withWords, bare] },
  ];
  for (const c of cases) void it(c.name, () => assert.deepEqual(scaleLines(c.lines, c.scale), c.expected));
});
