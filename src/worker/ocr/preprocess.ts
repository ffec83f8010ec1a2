// Decoding and preprocessing with sharp, before tesseract sees a pixel.
//
// Order matters for safety: the byte limit is enforced before download (JobBlobs.readUpload),
// the pixel limit from the header alone (metadata() does not decode), and only then is the
// image decoded, with limitInputPixels as a second guard and failOn so truncated or corrupt
// data is an error instead of a half-grey page.
//
// What it does for OCR (settings chosen by bench/ocr, see bench/ocr/RESULTS.md): EXIF
// rotation, greyscale, scaling to a target width band, optional global threshold. The output
// is a binary PGM (P5): tesseract's leptonica reads it without any codec, which is cheaper
// than encoding and decoding a PNG.
import sharp, { type Metadata } from 'sharp';
import { PermanentJobError } from '../errors.ts';
import { stageTimeoutError } from '../stage-timeout.ts';

export interface PreprocessSettings {
  /** Refuse images with more pixels than this (width x height, from the header). */
  maxPixels: number;
  /** libvips stops the decode after this many seconds (STAGE_TIMEOUT, retried); absent or 0 = no limit. */
  timeoutSeconds?: number;
  /** Scale images narrower than this up to it (text too small for the LSTM). 0 = never upscale. */
  minWidth: number;
  /** Scale images wider than this down to it (more pixels cost time, not accuracy). 0 = never downscale. */
  maxWidth: number;
  /** Global threshold 1-255 (binarise) or 0 to leave grey levels to tesseract's own Otsu. */
  threshold: number;
}

export const DEFAULT_PREPROCESS: Omit<PreprocessSettings, 'maxPixels'> = {
  minWidth: 0,
  maxWidth: 0,
  threshold: 0,
};

export interface PreparedImage {
  /** The image tesseract reads (PGM). */
  data: Buffer;
  width: number;
  height: number;
  /** What was uploaded, as the result reports it. */
  original: { width: number; height: number; format: string };
  /** prepared width / upright original width: divide boxes by it to get original pixels. */
  scale: number;
}

const SUPPORTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'avif', 'heif']);

/** Maps what sharp/libvips says into the stable error codes users see. */
export function classifySharpError(error: unknown): PermanentJobError {
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) {
    return new PermanentJobError('IMAGE_TOO_MANY_PIXELS', `image has more pixels than this worker accepts: ${message}`, { cause: error });
  }
  if (/unsupported image format|bad seek|not a known file format/i.test(message)) {
    return new PermanentJobError('IMAGE_UNSUPPORTED', 'the upload is not an image format the worker reads (JPEG, PNG, WebP, TIFF, GIF, AVIF or HEIF)', {
      cause: error,
    });
  }
  return new PermanentJobError('IMAGE_CORRUPT', `the image could not be decoded (truncated or corrupt): ${message}`, { cause: error });
}

/** The new width for an image of `width` pixels, inside the [minWidth, maxWidth] band. */
export function targetWidth(width: number, settings: Pick<PreprocessSettings, 'minWidth' | 'maxWidth'>): number {
  if (settings.minWidth > 0 && width < settings.minWidth) return settings.minWidth;
  if (settings.maxWidth > 0 && width > settings.maxWidth) return settings.maxWidth;
  return width;
}

export function pgm(raw: Buffer, width: number, height: number): Buffer {
  return Buffer.concat([Buffer.from(`P5\n${width} ${height}\n255\n`, 'ascii'), raw]);
}

export async function preprocess(input: Buffer, settings: PreprocessSettings): Promise<PreparedImage> {
  if (input.length === 0) throw new PermanentJobError('IMAGE_EMPTY', 'the upload is empty (0 bytes): upload the image again');
  const header = await readHeader(input, settings.maxPixels);
  try {
    return await decode(input, header, settings);
  } catch (error) {
    if (error instanceof PermanentJobError) throw error;
    // libvips' own timeout ("timeout: 42% complete"): the stage ran out of time, the image may be fine.
    if (settings.timeoutSeconds && error instanceof Error && /^timeout/i.test(error.message))
      throw stageTimeoutError('preprocess', settings.timeoutSeconds * 1000);
    throw classifySharpError(error);
  }
}

/** What the header says, checked against the supported formats and the pixel limit before anything is decoded. */
interface Header {
  format: string;
  width: number;
  height: number;
  /** Width after EXIF rotation: orientations 5-8 swap the axes. */
  uprightWidth: number;
}

async function readHeader(input: Buffer, maxPixels: number): Promise<Header> {
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw classifySharpError(error);
  }
  const format = meta.format ?? 'unknown';
  if (!SUPPORTED_FORMATS.has(format)) {
    throw new PermanentJobError('IMAGE_UNSUPPORTED', `images of format ${format} are not supported: upload JPEG, PNG, WebP, TIFF, GIF, AVIF or HEIF`);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > maxPixels) {
    throw new PermanentJobError(
      'IMAGE_TOO_MANY_PIXELS',
      `image is ${width}x${height} = ${width * height} pixels, more than the limit of ${maxPixels}: scale it down before uploading`,
    );
  }
  return { format, width, height, uprightWidth: (meta.orientation ?? 1) >= 5 ? height : width };
}

/** Decodes (pixel limit as a second guard, failOn so corrupt data fails), rotates, greys, scales and thresholds into a PGM. */
async function decode(input: Buffer, header: Header, settings: PreprocessSettings): Promise<PreparedImage> {
  const { format, width, height, uprightWidth } = header;
  let pipeline = sharp(input, { limitInputPixels: settings.maxPixels, failOn: 'error' })
    .rotate() // EXIF orientation
    .flatten({ background: '#ffffff' }) // transparent PNGs: text on white, not on black
    .greyscale();
  if (settings.timeoutSeconds) pipeline = pipeline.timeout({ seconds: Math.ceil(settings.timeoutSeconds) });
  const newWidth = targetWidth(uprightWidth, settings);
  if (newWidth !== uprightWidth) pipeline = pipeline.resize({ width: newWidth, kernel: newWidth > uprightWidth ? 'cubic' : 'lanczos3' });
  if (settings.threshold > 0) pipeline = pipeline.threshold(settings.threshold);
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`expected one channel after greyscale, got ${info.channels}`);
  return {
    data: pgm(data, info.width, info.height),
    width: info.width,
    height: info.height,
    original: { width, height, format },
    scale: info.width / uprightWidth,
  };
}
