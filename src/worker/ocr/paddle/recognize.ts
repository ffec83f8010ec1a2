// Text recognition for the paddle engine, the pure half: each detected box becomes one row of
// the recogniser's input (48 px high, as wide as its aspect ratio needs), and the output is
// read back with greedy CTC decoding. Reading order puts the lines top to bottom, left to right.
import type { TextBox } from './detect.ts';

/** PP-OCRv4's recogniser takes lines 48 px high. */
export const LINE_HEIGHT = 48;
/** Wider lines are squeezed to this width (px): a receipt line is rarely wider than 30 x its height. */
export const MAX_LINE_WIDTH = 1600;

/** The input width of a box's line: its aspect ratio at LINE_HEIGHT, rounded up to the network's stride of 8. */
export function lineWidth(box: TextBox): number {
  const ratio = (box.x1 - box.x0) / Math.max(1, box.y1 - box.y0);
  return Math.min(MAX_LINE_WIDTH, Math.max(8, Math.ceil((LINE_HEIGHT * ratio) / 8) * 8));
}

/**
 * Writes the box of a grey image into `out` (CHW, 3 x LINE_HEIGHT x `width`, values in
 * [-1, 1] as the recogniser was trained), resampled bilinearly.
 */
export function lineTensor(grey: Uint8Array, image: { width: number; height: number }, box: TextBox, width: number): Float32Array {
  const plane = LINE_HEIGHT * width;
  const out = new Float32Array(3 * plane);
  const boxWidth = box.x1 - box.x0;
  const boxHeight = box.y1 - box.y0;
  const lastX = image.width - 1;
  const lastY = image.height - 1;
  for (let y = 0; y < LINE_HEIGHT; y++) {
    const fy = Math.min(lastY, Math.max(0, box.y0 + ((y + 0.5) * boxHeight) / LINE_HEIGHT - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(lastY, y0 + 1);
    const wy = fy - y0;
    const row0 = y0 * image.width;
    const row1 = y1 * image.width;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(lastX, Math.max(0, box.x0 + ((x + 0.5) * boxWidth) / width - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(lastX, x0 + 1);
      const wx = fx - x0;
      const top = grey[row0 + x0]! * (1 - wx) + grey[row0 + x1]! * wx;
      const bottom = grey[row1 + x0]! * (1 - wx) + grey[row1 + x1]! * wx;
      const value = (top * (1 - wy) + bottom * wy) / 127.5 - 1;
      const at = y * width + x;
      out[at] = value;
      out[plane + at] = value;
      out[2 * plane + at] = value;
    }
  }
  return out;
}

/** A decoded line: its text and the mean probability (0-1) of the characters kept. */
export interface Decoded {
  text: string;
  confidence: number;
}

/**
 * Greedy CTC decoding of one line's scores (`steps` x `classes`, row-major): the best class
 * per step, repeats collapsed, class 0 (the blank) dropped. `charset[i]` is the text of class i.
 */
export function ctcDecode(scores: Float32Array, steps: number, classes: number, charset: readonly string[]): Decoded {
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = 0;
  for (let step = 0; step < steps; step++) {
    const offset = step * classes;
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < classes; c++) {
      const score = scores[offset + c]!;
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    if (best !== 0 && best !== previous) {
      text += charset[best] ?? '';
      sum += bestScore;
      kept++;
    }
    previous = best;
  }
  return { text, confidence: kept === 0 ? 0 : sum / kept };
}

/** Rows top to bottom, boxes left to right within a row: boxes whose vertical centres are within half the row's first box height share a row. */
export function readingOrder<T extends { box: TextBox }>(items: readonly T[]): T[][] {
  const centre = (item: T): number => (item.box.y0 + item.box.y1) / 2;
  const sorted = [...items].sort((a, b) => centre(a) - centre(b));
  const rows: T[][] = [];
  for (const item of sorted) {
    const row = rows.at(-1);
    const first = row?.[0];
    if (row && first && Math.abs(centre(item) - centre(first)) < (first.box.y1 - first.box.y0) / 2) row.push(item);
    else rows.push([item]);
  }
  return rows.map((row) => row.sort((a, b) => a.box.x0 - b.box.x0));
}
