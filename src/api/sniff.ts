// Image type by magic bytes, and a cheap completeness check, without decoding:
// the API never runs sharp or tesseract. A file that claims to be an image but is
// cut short is refused here when its format makes that visible from the bytes
// (PNG's IEND chunk, JPEG's EOI marker, the length field of WebP); the worker still
// decodes with limits and fails anything else that is corrupt.
//
// The accepted formats are the ones the worker decodes: sharp's images, and PDF, which the
// worker renders page by page (src/worker/ocr/documents.ts). BMP is recognised
// only to refuse it as unsupported (415): sharp has no BMP decoder, so an accepted BMP
// would always be dead-lettered by the worker.

/** The formats the API accepts (and the worker decodes). */
export type ImageFormat = 'png' | 'jpeg' | 'tiff' | 'webp' | 'pdf';
/** What the magic bytes can name: the accepted formats plus those recognised only to refuse them. */
export type SniffedFormat = ImageFormat | 'bmp';

export type Inspection =
  { ok: true; format: ImageFormat; mediaType: string } | { ok: false; problem: 'empty' | 'unsupported' | 'truncated'; format?: SniffedFormat };

const MEDIA_TYPES: Readonly<Record<ImageFormat, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  tiff: 'image/tiff',
  webp: 'image/webp',
  pdf: 'application/pdf',
};

function isAccepted(format: SniffedFormat): format is ImageFormat {
  return Object.hasOwn(MEDIA_TYPES, format);
}

/** Bytes needed to recognise every supported format. */
export const SNIFF_BYTES = 16;

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  return prefix.every((b, i) => bytes[at + i] === b);
}

/** The format named by the first bytes, or undefined. Needs at most SNIFF_BYTES bytes. */
export function sniffFormat(head: Uint8Array): SniffedFormat | undefined {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(head, [0x52, 0x49, 0x46, 0x46]) && startsWith(head, [0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  if (startsWith(head, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'pdf';
  if (startsWith(head, [0x42, 0x4d]) && head.length >= 14) return 'bmp';
  return undefined;
}

const PNG_IEND = [0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];
const PDF_EOF = [0x25, 0x25, 0x45, 0x4f, 0x46];
// A PDF ends with %%EOF, possibly followed by a line end or a little padding.
const PDF_TAIL_WINDOW = 1024;
// Cameras and editors may append padding or metadata after the JPEG end marker.
const JPEG_TAIL_WINDOW = 4096;
// PNG allows a few trailing bytes after IEND; the search looks this far back from the end.
const PNG_TAIL_WINDOW = 64;

/** Bytes to keep from the start of an image for inspectSample (the magic bytes and the TIFF/WebP header fields). */
export const HEAD_BYTES = SNIFF_BYTES;
/** Bytes to keep from the end of an image for inspectSample (the JPEG end-marker window; it covers PNG's too). */
export const TAIL_BYTES = JPEG_TAIL_WINDOW;

/**
 * What the checks need of an image, so that a streamed upload does not have to be held:
 * its first HEAD_BYTES bytes, its last TAIL_BYTES bytes (fewer when the image is shorter;
 * head and tail then overlap) and its length in bytes.
 */
export interface ImageSample {
  head: Uint8Array;
  tail: Uint8Array;
  length: number;
}

/** Whether `marker` stands within the last `window` bytes of `tail`. */
function endsWithin(tail: Uint8Array, marker: readonly number[], window: number): boolean {
  const end = tail.subarray(Math.max(0, tail.length - window));
  for (let i = end.length - marker.length; i >= 0; i--) {
    if (startsWith(end, marker, i)) return true;
  }
  return false;
}

function looksComplete({ head, tail, length }: ImageSample, format: ImageFormat): boolean {
  switch (format) {
    case 'png':
      // The IEND chunk (length 0, type, CRC) ends every PNG; allow trailing bytes after it.
      return endsWithin(tail, PNG_IEND, PNG_TAIL_WINDOW);
    case 'jpeg': {
      // Positions in the whole image; the tail starts at `offset`. The marker may not overlap the SOI (position >= 2).
      const offset = length - tail.length;
      const from = Math.max(2, length - JPEG_TAIL_WINDOW, offset);
      for (let i = length - 2; i >= from; i--) {
        if (tail[i - offset] === 0xff && tail[i + 1 - offset] === 0xd9) return true;
      }
      return false;
    }
    case 'webp': {
      // RIFF chunk size counts everything after the first 8 bytes.
      if (length < 12 || head.length < 8) return false;
      return new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(4, true) + 8 <= length;
    }
    case 'pdf':
      return endsWithin(tail, PDF_EOF, PDF_TAIL_WINDOW);
    case 'tiff': {
      // The first IFD must lie inside the file; anything deeper is the worker's to decode.
      if (length < 8 || head.length < 8) return false;
      return new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(4, head[0] === 0x49) < length;
    }
  }
}

/** Checks an image from its sample: empty, an accepted type (BMP is not), and not visibly cut short. */
export function inspectSample(sample: ImageSample): Inspection {
  if (sample.length === 0) return { ok: false, problem: 'empty' };
  const format = sniffFormat(sample.head.subarray(0, SNIFF_BYTES));
  if (!format) return { ok: false, problem: 'unsupported' };
  if (!isAccepted(format)) return { ok: false, problem: 'unsupported', format };
  if (!looksComplete(sample, format)) return { ok: false, problem: 'truncated', format };
  return { ok: true, format, mediaType: MEDIA_TYPES[format] };
}

/** Checks a whole image held in memory (the same checks as inspectSample). */
export function inspectImage(bytes: Uint8Array): Inspection {
  return inspectSample({ head: bytes.subarray(0, HEAD_BYTES), tail: bytes.subarray(Math.max(0, bytes.length - TAIL_BYTES)), length: bytes.length });
}

/** The format an image head names when it is one the API accepts (for the early refusal of a stream), else undefined. */
export function acceptedFormat(head: Uint8Array): ImageFormat | undefined {
  const format = sniffFormat(head.subarray(0, SNIFF_BYTES));
  return format && isAccepted(format) ? format : undefined;
}

/** The media type stored with an accepted image. */
export function mediaTypeOf(format: ImageFormat): string {
  return MEDIA_TYPES[format];
}
