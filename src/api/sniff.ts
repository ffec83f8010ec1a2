// Image type by magic bytes, and a cheap completeness check, without decoding:
// the API never runs sharp or tesseract. A file that claims to be an image but is
// cut short is refused here when its format makes that visible from the bytes
// (PNG's IEND chunk, JPEG's EOI marker, the length field of WebP); the worker still
// decodes with limits and fails anything else that is corrupt.
//
// The accepted formats are the ones the worker's sharp can decode. BMP is recognised
// only to refuse it as unsupported (415): sharp has no BMP decoder, so an accepted BMP
// would always be dead-lettered by the worker.

/** The formats the API accepts (and the worker decodes). */
export type ImageFormat = 'png' | 'jpeg' | 'tiff' | 'webp';
/** What the magic bytes can name: the accepted formats plus those recognised only to refuse them. */
export type SniffedFormat = ImageFormat | 'bmp';

export type Inspection =
  { ok: true; format: ImageFormat; mediaType: string } | { ok: false; problem: 'empty' | 'unsupported' | 'truncated'; format?: SniffedFormat };

const MEDIA_TYPES: Readonly<Record<ImageFormat, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  tiff: 'image/tiff',
  webp: 'image/webp',
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
  if (startsWith(head, [0x42, 0x4d]) && head.length >= 14) return 'bmp';
  return undefined;
}

const PNG_IEND = [0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];
// Cameras and editors may append padding or metadata after the JPEG end marker.
const JPEG_TAIL_WINDOW = 4096;

function looksComplete(bytes: Uint8Array, format: ImageFormat): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (format) {
    case 'png': {
      // The IEND chunk (length 0, type, CRC) ends every PNG; allow trailing bytes after it.
      const tail = bytes.subarray(Math.max(0, bytes.length - 64));
      for (let i = tail.length - PNG_IEND.length; i >= 0; i--) {
        if (startsWith(tail, PNG_IEND, i)) return true;
      }
      return false;
    }
    case 'jpeg': {
      const from = Math.max(2, bytes.length - JPEG_TAIL_WINDOW);
      for (let i = bytes.length - 2; i >= from; i--) {
        if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
      }
      return false;
    }
    case 'webp':
      // RIFF chunk size counts everything after the first 8 bytes.
      return bytes.length >= 12 && view.getUint32(4, true) + 8 <= bytes.length;
    case 'tiff':
      // The first IFD must lie inside the file; anything deeper is the worker's to decode.
      return bytes.length >= 8 && view.getUint32(4, bytes[0] === 0x49) < bytes.length;
  }
}

/** Checks a whole image: empty, an accepted type (BMP is not), and not visibly cut short. */
export function inspectImage(bytes: Uint8Array): Inspection {
  if (bytes.length === 0) return { ok: false, problem: 'empty' };
  const format = sniffFormat(bytes.subarray(0, SNIFF_BYTES));
  if (!format) return { ok: false, problem: 'unsupported' };
  if (!isAccepted(format)) return { ok: false, problem: 'unsupported', format };
  if (!looksComplete(bytes, format)) return { ok: false, problem: 'truncated', format };
  return { ok: true, format, mediaType: MEDIA_TYPES[format] };
}
