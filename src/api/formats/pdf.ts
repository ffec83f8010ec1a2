// format=pdf: a searchable PDF of the job's input (issue 15, item 5): the input's pages as they are, with the
// recognised text laid over them invisibly (text render mode 3, as tesseract and ocrmypdf write it) at each
// line's box, or at each word's box when the result has words, so a viewer can search and select it.
//
// - A PDF input keeps its own pages (vectors, fonts, images untouched); only pages whose text was OCRed get the
//   invisible text. When every page came from the PDF's own text layer (source text-layer) it is already
//   searchable: the original bytes are returned unchanged.
// - An image input becomes one PDF page per image page, at the image's own resolution (its density, 72 dpi
//   when it names none). A JPEG and a grey or RGB PNG are embedded as they are (./pdf-png.ts); TIFF, WebP, other
//   PNGs and an image with an EXIF orientation go through sharp first (upright, as the worker read them: boxes are in
//   upright pixels). sharp only runs on bytes the worker already decoded under its own limits (the job
//   succeeded), with the result's pixel count as the limit here too.
//
// Boxes are in pixels of the page as read (src/jobs/schema.ts); a box maps to the page in PDF points through
// the page's crop box and /Rotate. The text is written in a glyphless font (./glyphless-font.ts, as tesseract
// writes its PDFs): every script (Latin, German umlauts, Greek, Chinese, characters beyond the BMP) goes into the
// text layer, each character a 2-byte code with its real characters in the font's ToUnicode map, and no glyph
// is ever drawn. Whitespace inside a run becomes one space; control characters are left out. pdf-lib (MIT, pure
// JavaScript) writes the PDF.
import {
  PDFDocument,
  type PDFPage,
  TextRenderingMode,
  beginText,
  endText,
  popGraphicsState,
  pushGraphicsState,
  setCharacterSqueeze,
  setFontAndSize,
  setTextMatrix,
  setTextRenderingMode,
  showText,
} from 'pdf-lib';
import sharp from 'sharp';
import type { OcrLine, OcrResult } from '../../jobs/index.ts';
import { GLYPH_ADVANCE, GlyphlessFont } from './glyphless-font.ts';
import { pagesOf, type RenderedPage } from './pages.ts';
import { drawPngStream, pngStream } from './pdf-png.ts';

export const PDF_CONTENT_TYPE = 'application/pdf';

/** The input cannot be turned into a searchable PDF (an encrypted or damaged PDF pdf-lib cannot edit, pages that do not match). */
export class SearchablePdfError extends Error {
  override name = 'SearchablePdfError';
}

type Point = [number, number];
/** Page pixels (x right, y down) to PDF user space (points, y up). */
type ToPdf = (x: number, y: number) => Point;

const isPdf = (input: Uint8Array): boolean => Buffer.from(input.subarray(0, 5)).toString('latin1') === '%PDF-';

/** Pixel -> point mapping of a page shown `width` x `height` pixels, whose crop box is `box` and rotation `rotate` degrees (clockwise). */
export function pixelsToPdf(box: { x: number; y: number; width: number; height: number }, rotate: number, width: number, height: number): ToPdf {
  const [x0, y0, x1, y1] = [box.x, box.y, box.x + box.width, box.y + box.height];
  const turn = (((Math.round(rotate / 90) * 90) % 360) + 360) % 360;
  return (px, py) => {
    const u = width > 0 ? px / width : 0;
    const v = height > 0 ? py / height : 0;
    if (turn === 90) return [x0 + v * box.width, y0 + u * box.height];
    if (turn === 180) return [x1 - u * box.width, y0 + v * box.height];
    if (turn === 270) return [x1 - v * box.width, y1 - u * box.height];
    return [x0 + u * box.width, y1 - v * box.height];
  };
}

/** What one invisible run of text is drawn from: its text and its 4-point box in pixels (top-left, top-right, bottom-right, bottom-left). */
interface Run {
  text: string;
  quad: Point[];
}

const quadOf = (item: { bbox: OcrLine['bbox']; quad?: Point[] | undefined }): Point[] => {
  if (item.quad?.length === 4) return item.quad;
  const { x0, y0, x1, y1 } = item.bbox;
  return [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
  ];
};

/** A line's words when it has them (each searchable where it stands), else the line as one run. */
export function runsOf(lines: readonly OcrLine[]): Run[] {
  return lines.flatMap((line) =>
    line.words?.length ? line.words.map((word) => ({ text: word.text, quad: quadOf(word) })) : [{ text: line.text, quad: quadOf(line) }],
  );
}

/** The run's text as written: whitespace runs become one space, control characters go, the ends are trimmed. */
const written = (text: string): string =>
  text
    .replace(/\s+/gu, ' ')
    .replace(/\p{Cc}/gu, '')
    .trim();

/** Invisible text over `page`: each run on its box's baseline, stretched to the box's width. */
function overlay(page: PDFPage, font: GlyphlessFont, runs: readonly Run[], toPdf: ToPdf): void {
  const key = page.node.newFontDictionary('OcrText', font.ref);
  const operators = [pushGraphicsState(), beginText(), setTextRenderingMode(TextRenderingMode.Invisible)];
  for (const run of runs) {
    const text = written(run.text);
    if (text === '') continue;
    const [tl, tr, , bl] = run.quad.map(([x, y]) => toPdf(x, y)) as [Point, Point, Point, Point];
    const length = Math.hypot(tr[0] - tl[0], tr[1] - tl[1]);
    const height = Math.hypot(tl[0] - bl[0], tl[1] - bl[1]);
    if (length <= 0 || height <= 0) continue;
    const { hex, length: characters } = font.encode(text);
    if (characters === 0) continue;
    // The baseline sits a fifth of the box above its bottom (room for descenders); the font is that high.
    const [ux, uy] = [(tr[0] - tl[0]) / length, (tr[1] - tl[1]) / length];
    const [vx, vy] = [(tl[0] - bl[0]) / height, (tl[1] - bl[1]) / height];
    const size = height * 0.8;
    // Every glyph advances GLYPH_ADVANCE thousandths of an em: Tz scales the run to the box's width.
    const natural = (characters * size * GLYPH_ADVANCE) / 1000;
    operators.push(
      setFontAndSize(key, size),
      setCharacterSqueeze((100 * length) / natural),
      setTextMatrix(ux, uy, vx, vy, bl[0] + vx * height * 0.2, bl[1] + vy * height * 0.2),
      showText(hex),
    );
  }
  operators.push(endText(), popGraphicsState());
  page.pushOperators(...operators);
}

/** A PDF input: its own pages, with invisible text on the pages that were OCRed; the original bytes when none was. */
async function searchablePdfOfPdf(result: OcrResult, input: Uint8Array): Promise<Uint8Array> {
  const pages = pagesOf(result);
  const sourceOf = new Map(result.pages?.map((p) => [p.page, p.source ?? 'ocr']) ?? []);
  const ocred = pages.filter((p) => (sourceOf.get(p.page) ?? 'ocr') === 'ocr');
  if (ocred.length === 0) return input;
  let document: PDFDocument;
  try {
    document = await PDFDocument.load(input, { updateMetadata: false });
  } catch (error) {
    throw new SearchablePdfError(`the PDF could be read for OCR but not edited: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (document.getPageCount() < pages.length)
    throw new SearchablePdfError(`the result has ${pages.length} pages, the PDF ${document.getPageCount()}: they do not belong together`);
  const font = new GlyphlessFont(document);
  for (const rendered of ocred) {
    const page = document.getPage(rendered.page - 1);
    overlay(page, font, runsOf(rendered.lines), pixelsToPdf(page.getCropBox(), page.getRotation().angle, rendered.width, rendered.height));
  }
  font.finish();
  return await document.save();
}

/**
 * One image page as the PDF takes it: a JPEG, or a grey or RGB PNG without alpha (./pdf-png.ts copies its data), as uploaded
 * when upright; anything else upright and flattened onto white through sharp (libvips compresses in C; pdf-lib would in JavaScript).
 */
async function pageImage(
  input: Uint8Array,
  index: number,
  single: boolean,
  maxPixels: number,
): Promise<{ data: Uint8Array; kind: 'jpeg' | 'png'; dpi: number }> {
  const image = sharp(input, { page: index, limitInputPixels: maxPixels, failOn: 'error' });
  const meta = await image.metadata();
  const dpi = meta.density && meta.density >= 50 && meta.density <= 2400 ? meta.density : 72;
  const upright = (meta.orientation ?? 1) === 1;
  if (single && upright && meta.format === 'jpeg') return { data: input, kind: 'jpeg', dpi };
  if (single && upright && meta.format === 'png' && pngStream(Buffer.from(input))) return { data: input, kind: 'png', dpi };
  if (meta.format === 'jpeg') return { data: await image.rotate().jpeg({ quality: 92 }).toBuffer(), kind: 'jpeg', dpi };
  return { data: await image.rotate().flatten({ background: '#ffffff' }).png({ compressionLevel: 6 }).toBuffer(), kind: 'png', dpi };
}

/** An image input: one page per image page, the image filling it at its resolution, invisible text over it. */
async function searchablePdfOfImage(result: OcrResult, input: Uint8Array): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  document.setProducer('ocr-platform');
  const font = new GlyphlessFont(document);
  const pages: RenderedPage[] = pagesOf(result);
  const maxPixels = Math.max(1, ...pages.map((p) => p.width * p.height)) + 1;
  for (const [index, rendered] of pages.entries()) {
    const { data, kind, dpi } = await pageImage(input, index, pages.length === 1, maxPixels).catch((error: unknown) => {
      throw new SearchablePdfError(`page ${rendered.page} of the input could not be read: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    });
    const box = { x: 0, y: 0, width: (rendered.width * 72) / dpi, height: (rendered.height * 72) / dpi };
    const page = document.addPage([box.width, box.height]);
    if (kind === 'jpeg') page.drawImage(await document.embedJpg(data), box);
    else if (!drawPngStream(document, page, Buffer.from(data), box)) page.drawImage(await document.embedPng(data), box);
    overlay(page, font, runsOf(rendered.lines), pixelsToPdf(box, 0, rendered.width, rendered.height));
  }
  font.finish();
  return await document.save();
}

/** The searchable PDF of a result and the job's input bytes (see the top of this file). */
export async function renderSearchablePdf(result: OcrResult, input: Uint8Array): Promise<Uint8Array> {
  return isPdf(input) ? await searchablePdfOfPdf(result, input) : await searchablePdfOfImage(result, input);
}
