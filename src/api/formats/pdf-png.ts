// A PNG into a PDF without decoding it: PDF's FlateDecode filter with PNG predictors (Predictor 15) reads a
// PNG's joined IDAT chunks as they are, so a grey or RGB PNG without interlacing or alpha becomes an image
// XObject by copying bytes, as img2pdf does. pdf-lib's own embedPng inflates the image and deflates it again in
// JavaScript: about 0.7 s of CPU on an A4 page at 300 dpi, all of it blocking the API's event loop. Other PNGs
// (alpha, palette, interlaced) return undefined here and take pdf-lib's way.
import { PDFDocument, PDFPage, concatTransformationMatrix, drawObject, popGraphicsState, pushGraphicsState } from 'pdf-lib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngStream {
  width: number;
  height: number;
  bitDepth: number;
  /** 1 (grey) or 3 (RGB). */
  colors: number;
  /** The IDAT chunks' data, joined: one zlib stream. */
  data: Buffer;
}

/** The PNG's header and image data when a PDF can take them as they are (grey or RGB, no alpha, not interlaced); otherwise undefined. */
export function pngStream(png: Buffer): PngStream | undefined {
  if (png.length < 33 || !png.subarray(0, 8).equals(SIGNATURE) || png.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
  const [bitDepth, colorType, interlace] = [png[24]!, png[25]!, png[28]!];
  if (interlace !== 0 || (colorType !== 0 && colorType !== 2)) return undefined;
  const chunks: Buffer[] = [];
  for (let at = 8; at + 12 <= png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (at + 12 + length > png.length) return undefined;
    // A transparent colour (tRNS) is not carried over: the page shows it opaque, which OCR input does not mind.
    if (type === 'IDAT') chunks.push(png.subarray(at + 8, at + 8 + length));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  if (chunks.length === 0) return undefined;
  return { width, height, bitDepth, colors: colorType === 0 ? 1 : 3, data: Buffer.concat(chunks) };
}

/** Draws the PNG (see pngStream) over `box` of `page` (PDF points); false when it cannot be taken as it is. */
export function drawPngStream(document: PDFDocument, page: PDFPage, png: Buffer, box: { x: number; y: number; width: number; height: number }): boolean {
  const image = pngStream(png);
  if (!image) return false;
  const { width, height, bitDepth, colors, data } = image;
  const stream = document.context.stream(data, {
    Type: 'XObject',
    Subtype: 'Image',
    Width: width,
    Height: height,
    BitsPerComponent: bitDepth,
    ColorSpace: colors === 1 ? 'DeviceGray' : 'DeviceRGB',
    Filter: 'FlateDecode',
    DecodeParms: { Predictor: 15, Colors: colors, BitsPerComponent: bitDepth, Columns: width },
  });
  const name = page.node.newXObject('Scan', document.context.register(stream));
  page.pushOperators(pushGraphicsState(), concatTransformationMatrix(box.width, 0, 0, box.height, box.x, box.y), drawObject(name), popGraphicsState());
  return true;
}
