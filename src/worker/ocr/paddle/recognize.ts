// Text recognition for the paddle engine, the pure half: each detected box becomes one row of
// the recogniser's input (48 px high, as wide as its aspect ratio needs; rows of equal width go
// in one run), and the output is read back with greedy CTC decoding, which also keeps each
// character's time steps: they give the spaces the model missed and the words' boxes. Reading
// order puts the lines top to bottom, left to right.
import type { OcrWord } from '../../../jobs/schema.ts';
import { quadOf } from '../geometry.ts';
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

/** Lines of the same input width are read in one run, up to this many (fewer runs; no padding, so the same scores). */
export const MAX_BATCH = 8;
/** Only lines up to this wide (px) are batched: on wider ones a run's fixed cost is small and batching measured no gain. */
export const MAX_BATCH_WIDTH = 256;

/** Groups of items to read in one run: equal widths, at most `maxBatch` each, wide items alone. Every item is in exactly one group. */
export function equalWidthBatches<T extends { width: number }>(items: readonly T[], maxBatch = MAX_BATCH, maxWidth = MAX_BATCH_WIDTH): T[][] {
  const groups: T[][] = [];
  const open = new Map<number, T[]>();
  for (const item of items) {
    const group = item.width <= maxWidth ? open.get(item.width) : undefined;
    if (group && group.length < maxBatch) {
      group.push(item);
      continue;
    }
    const fresh = [item];
    groups.push(fresh);
    if (item.width <= maxWidth) open.set(item.width, fresh);
  }
  return groups;
}

/**
 * Writes the box of a grey image as CHW (3 x LINE_HEIGHT x `width`, values in [-1, 1] as the
 * recogniser was trained), resampled bilinearly, into `out` (a new array when not given; a
 * batch passes the sample's slice of its input).
 */
export function lineTensor(
  grey: Uint8Array,
  image: { width: number; height: number },
  box: TextBox,
  width: number,
  out = new Float32Array(3 * LINE_HEIGHT * width),
): Float32Array {
  const plane = LINE_HEIGHT * width;
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

/** One decoded character: its text, the time steps of its run (first and last, inclusive) and its probability (0-1). */
export interface DecodedChar {
  text: string;
  first: number;
  last: number;
  probability: number;
}

/** A decoded line: its text, the mean probability (0-1) of the characters kept, and the characters. */
export interface Decoded {
  text: string;
  confidence: number;
  chars: DecodedChar[];
}

/**
 * Greedy CTC decoding of one line's probabilities (`steps` x `classes`, row-major, each step
 * summing to 1): the best class per step, repeats collapsed, class 0 (the blank) dropped. `charset[i]` is the text of class i.
 */
export function ctcDecode(scores: Float32Array, steps: number, classes: number, charset: readonly string[]): Decoded {
  let text = '';
  let sum = 0;
  let previous = 0;
  const chars: DecodedChar[] = [];
  for (let step = 0; step < steps; step++) {
    const offset = step * classes;
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < classes; c++) {
      const score = scores[offset + c]!;
      if (score > bestScore) {
        bestScore = score;
        best = c;
        // The scores are a softmax (they sum to 1 per step), so one above 0.5 is the largest: most
        // steps are a confident blank (class 0), and this skips the other 6,624 classes.
        if (score > 0.5) break;
      }
    }
    if (best !== 0 && best === previous) chars.at(-1)!.last = step;
    else if (best !== 0) {
      const char = charset[best] ?? '';
      text += char;
      sum += bestScore;
      chars.push({ text: char, first: step, last: step, probability: bestScore });
    }
    previous = best;
  }
  return { text, confidence: chars.length === 0 ? 0 : sum / chars.length, chars };
}

/** A gap between two characters is a space when it is at least this many time steps (one step is 8 px at 48 px line height, 1/6 of it)... */
export const MIN_SPACE_STEPS = 5;
/** ...and at least this many times the line's median gap between characters (wider fonts have wider gaps). */
export const SPACE_GAP_RATIO = 1.75;

/**
 * The line with a space wherever two characters are further apart than a space needs: the
 * recogniser (trained mostly on Chinese, which has no spaces) often reads "MEGA MART" as
 * "MEGAMART" although the time steps show the gap (sroie-dev: letters 3-4 steps apart, missed
 * spaces 6-8). The inserted space spans the gap's steps, with the gap's neighbours' mean probability.
 */
export function spaceAtGaps(decoded: Decoded): Decoded {
  const gaps: number[] = [];
  for (let i = 1; i < decoded.chars.length; i++) {
    const [a, b] = [decoded.chars[i - 1]!, decoded.chars[i]!];
    if (a.text !== ' ' && b.text !== ' ') gaps.push(b.first - a.last);
  }
  if (gaps.length === 0) return decoded;
  const sorted = [...gaps].sort((x, y) => x - y);
  const threshold = Math.max(MIN_SPACE_STEPS, SPACE_GAP_RATIO * sorted[Math.floor(sorted.length / 2)]!);
  const chars: DecodedChar[] = [];
  for (const char of decoded.chars) {
    const previous = chars.at(-1);
    if (previous && previous.text !== ' ' && char.text !== ' ' && char.first - previous.last >= threshold) {
      chars.push({ text: ' ', first: previous.last + 1, last: char.first - 1, probability: (previous.probability + char.probability) / 2 });
    }
    chars.push(char);
  }
  return chars.length === decoded.chars.length ? decoded : { ...decoded, text: chars.map((c) => c.text).join(''), chars };
}

/**
 * The words of a decoded line (split at spaces) with boxes in image pixels: a word spans the time
 * steps from its first character's run to its last one's, widened by half a step on each side (CTC
 * fires near a character's middle), mapped across the line's box (`steps` steps over its width) and
 * kept inside it; the word's height is the line's. Confidence: mean of its characters' probabilities, 0-100.
 */
export function wordsOf(decoded: Decoded, steps: number, box: TextBox): OcrWord[] {
  const words: DecodedChar[][] = [];
  let current: DecodedChar[] = [];
  for (const char of decoded.chars) {
    if (char.text.trim() === '') {
      if (current.length > 0) words.push(current);
      current = [];
    } else current.push(char);
  }
  if (current.length > 0) words.push(current);
  const perStep = (box.x1 - box.x0) / Math.max(1, steps);
  return words.map((chars) => {
    const x0 = Math.max(box.x0, box.x0 + (chars[0]!.first - 0.5) * perStep);
    const x1 = Math.min(box.x1, box.x0 + (chars.at(-1)!.last + 1.5) * perStep);
    const bbox = { x0, y0: box.y0, x1, y1: box.y1 };
    const confidence = (chars.reduce((sum, c) => sum + c.probability, 0) / chars.length) * 100;
    return { text: chars.map((c) => c.text).join(''), confidence: Math.min(100, Math.max(0, confidence)), bbox, quad: quadOf(bbox) };
  });
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
