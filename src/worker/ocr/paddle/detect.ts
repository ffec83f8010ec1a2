// Text detection for the paddle engine, the pure half: the detection input tensor and the
// boxes read back from the model's probability map (PP-OCR's DB post-processing, simplified
// to axis-aligned boxes, which is what scanned documents and receipts have).
//
// Everything works on typed arrays: a receipt's map is about a million floats, and plain
// arrays here cost seconds (the reason the issue gives for not running @gutenye/ocr-node as is).

/** Settings of detection; defaults in DEFAULT_DETECTION, chosen on sroie-dev (bench/ocr). */
export interface DetectionSettings {
  /** Longest side of the detection input, px; larger images are scaled down (never up). */
  maxSide: number;
  /** A pixel belongs to text when its probability is above this (0-1). */
  pixelThreshold: number;
  /** A region is kept when its mean probability is at least this (0-1). */
  boxThreshold: number;
  /** How far a region grows back out (DB's unclip ratio: area x ratio / perimeter). */
  unclipRatio: number;
  /** Regions thinner than this many detection pixels are noise. */
  minSize: number;
}

// maxSide 960 is PaddleOCR's own default (limit_side_len). On the 32 sroie-dev receipts (busy machine, CPU ms per receipt):
// 800 -> CER 0.109, 670 ms; 960 -> 0.098, 734 ms; 1120 -> 0.095, 794 ms; 1280 -> 0.092, 864 ms.
export const DEFAULT_DETECTION: DetectionSettings = { maxSide: 960, pixelThreshold: 0.3, boxThreshold: 0.5, unclipRatio: 1.6, minSize: 3 };

/** A region in image pixels, with its mean text probability (0-1). */
export interface TextBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  score: number;
}

/** Detection input size: at most `maxSide` on the long side, both sides multiples of 32 (the network's stride). */
export function detectionSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(32, Math.round((width * scale) / 32) * 32), height: Math.max(32, Math.round((height * scale) / 32) * 32) };
}

const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;

/** CHW float tensor of grey pixels (one byte each), normalised per channel as PP-OCR's detector was trained. */
export function detectionTensor(grey: Uint8Array, pixels: number): Float32Array {
  const tensor = new Float32Array(3 * pixels);
  for (let c = 0; c < 3; c++) {
    const mean = MEAN[c]! * 255;
    const scale = 1 / (STD[c]! * 255);
    const offset = c * pixels;
    for (let i = 0; i < pixels; i++) tensor[offset + i] = (grey[i]! - mean) * scale;
  }
  return tensor;
}

interface Region {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  sum: number;
  count: number;
}

/** Flood-fills the 4-connected region of text pixels from `start`, marking them in `seen`. */
function fillRegion(prob: Float32Array, width: number, height: number, threshold: number, start: number, seen: Uint8Array, stack: Int32Array): Region {
  const region: Region = { minX: width, minY: height, maxX: 0, maxY: 0, sum: 0, count: 0 };
  let top = 0;
  stack[top++] = start;
  seen[start] = 1;
  const visit = (p: number): void => {
    if (seen[p] === 0 && prob[p]! > threshold) {
      seen[p] = 1;
      stack[top++] = p;
    }
  };
  while (top > 0) {
    const p = stack[--top]!;
    const x = p % width;
    const y = (p - x) / width;
    region.sum += prob[p]!;
    region.count++;
    if (x < region.minX) region.minX = x;
    if (x > region.maxX) region.maxX = x;
    if (y < region.minY) region.minY = y;
    if (y > region.maxY) region.maxY = y;
    if (x > 0) visit(p - 1);
    if (x < width - 1) visit(p + 1);
    if (y > 0) visit(p - width);
    if (y < height - 1) visit(p + width);
  }
  return region;
}

/**
 * Boxes from a probability map of `width` x `height`, in image pixels (`scaleX`/`scaleY` map
 * detection pixels back; `imageWidth`/`imageHeight` clip). Each 4-connected region above the
 * pixel threshold whose mean probability passes the box threshold becomes one box, grown by
 * DB's unclip distance (the network predicts shrunken text kernels).
 */
export function boxesFromProbabilities(
  prob: Float32Array,
  size: { width: number; height: number },
  image: { width: number; height: number },
  settings: DetectionSettings = DEFAULT_DETECTION,
): TextBox[] {
  const { width, height } = size;
  const scaleX = image.width / width;
  const scaleY = image.height / height;
  const seen = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  const boxes: TextBox[] = [];
  for (let start = 0; start < width * height; start++) {
    if (seen[start] === 1 || prob[start]! <= settings.pixelThreshold) continue;
    const region = fillRegion(prob, width, height, settings.pixelThreshold, start, seen, stack);
    const w = region.maxX - region.minX + 1;
    const h = region.maxY - region.minY + 1;
    const score = region.sum / region.count;
    if (Math.min(w, h) < settings.minSize || score < settings.boxThreshold) continue;
    const grow = (w * h * settings.unclipRatio) / (2 * (w + h));
    boxes.push({
      x0: Math.max(0, (region.minX - grow) * scaleX),
      y0: Math.max(0, (region.minY - grow) * scaleY),
      x1: Math.min(image.width, (region.maxX + 1 + grow) * scaleX),
      y1: Math.min(image.height, (region.maxY + 1 + grow) * scaleY),
      score,
    });
  }
  return boxes;
}
