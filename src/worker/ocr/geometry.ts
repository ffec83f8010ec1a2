// Boxes of recognised text, for every engine: the 4-point quad of an upright box and the move
// from the preprocessed image's pixels back to the page's (src/jobs/schema.ts: BoundingBox, Quad).
import type { OcrLine, OcrWord, Quad } from '../../jobs/schema.ts';

type BoundingBox = OcrLine['bbox'];

/** An upright box's corners as a quad: clockwise from the top-left, as Quad in src/jobs/schema.ts says. */
export function quadOf(box: BoundingBox): Quad {
  return [
    [box.x0, box.y0],
    [box.x1, box.y0],
    [box.x1, box.y1],
    [box.x0, box.y1],
  ];
}

/**
 * Lines read from an image that preprocessing scaled by `scale` (prepared width / original width), with their
 * boxes, quads and words' boxes in the original page's pixels, rounded to whole pixels. Scale 1 returns them as they are.
 */
export function scaleLines(lines: OcrLine[], scale: number): OcrLine[] {
  if (scale === 1) return lines;
  const r = (v: number): number => Math.round(v / scale);
  const box = (b: BoundingBox): BoundingBox => ({ x0: r(b.x0), y0: r(b.y0), x1: r(b.x1), y1: r(b.y1) });
  const quad = (q: Quad): Quad => q.map(([x, y]) => [r(x), r(y)] as [number, number]);
  const word = (w: OcrWord): OcrWord => ({ ...w, bbox: box(w.bbox), quad: quad(w.quad) });
  return lines.map((line) => ({
    ...line,
    bbox: box(line.bbox),
    ...(line.quad ? { quad: quad(line.quad) } : {}),
    ...(line.words ? { words: line.words.map(word) } : {}),
  }));
}
