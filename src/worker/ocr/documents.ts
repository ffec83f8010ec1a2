// Documents with pages: a PDF (every page rendered at a set DPI) or a multi-page TIFF becomes
// one image per page, each then preprocessed and recognised like a single image. Anything else
// is one page, passed through untouched.
//
// Limits come before work: the page count is read from the header (PDF catalogue, TIFF
// directory) and refused above maxPages before any page is decoded; a PDF page whose render at
// the DPI would exceed the pixel limit is rendered at a lower DPI that fits instead of refused
// (a poster-sized page still gets read); a TIFF page over the limit is refused by preprocess.
//
// PDF rendering: pdfjs-dist (Apache-2.0) with @napi-rs/canvas, both npm packages in the image;
// pdfjs's standard fonts come from its own package, nothing is fetched. Loaded on first PDF only.
//
// Embedded text layers (limits.pdfTextLayer, spec.ocr.pdfTextLayer): a PDF page that already carries real
// text is read from that text instead of being rendered and OCRed (./pdf-text-layer.ts decides which
// pages qualify and turns their text into lines); the page comes back as a TextLayerPage, every other
// page as a rendered image, so a mixed document gives mixed pages.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { PermanentJobError } from '../errors.ts';
import { readTextLayer, type TextLayerPage } from './pdf-text-layer.ts';

export type { TextLayerPage } from './pdf-text-layer.ts';

export interface DocumentLimits {
  /** Pages read at most; a longer document fails as DOCUMENT_TOO_MANY_PAGES. */
  maxPages: number;
  /** Resolution PDF pages are rendered at (dots per inch). */
  pdfDpi: number;
  /** Pixels of one page at most (width x height), as for a single image. */
  maxPixels: number;
  /** Read a PDF page's own text instead of OCRing it when it has real text (spec.ocr.pdfTextLayer); absent: false, every page is OCRed. */
  pdfTextLayer?: boolean;
}

export type DocumentFormat = 'pdf' | 'tiff' | 'image';

export interface DocumentPages {
  format: DocumentFormat;
  /** One per page, in order: an encoded image to OCR, or a PDF page already read from its text layer. */
  pages: (Buffer | TextLayerPage)[];
}

const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');
const TIFF_LE = Buffer.from([0x49, 0x49, 0x2a, 0x00]);
const TIFF_BE = Buffer.from([0x4d, 0x4d, 0x00, 0x2a]);

export function documentFormat(input: Buffer): DocumentFormat {
  // At the very start only, as the API sniffs it: a file that is an image at byte 0 and carries %PDF- further on
  // (a polyglot) is read as the image the API accepted, never as a PDF.
  if (input.subarray(0, PDF_MAGIC.length).equals(PDF_MAGIC)) return 'pdf';
  const head = input.subarray(0, 4);
  if (head.equals(TIFF_LE) || head.equals(TIFF_BE)) return 'tiff';
  return 'image';
}

function tooManyPages(pages: number, limit: number): PermanentJobError {
  return new PermanentJobError('DOCUMENT_TOO_MANY_PAGES', `the document has ${pages} pages; this pipeline reads at most ${limit} (worker.maxPages)`);
}

async function tiffPages(input: Buffer, limits: DocumentLimits): Promise<Buffer[]> {
  const { pages = 1 } = await sharp(input, { limitInputPixels: limits.maxPixels }).metadata();
  if (pages > limits.maxPages) throw tooManyPages(pages, limits.maxPages);
  if (pages <= 1) return [input];
  // PNG at compression 1: a lossless hand-over to preprocess, cheap to encode.
  return await Promise.all(
    Array.from({ length: pages }, (_, page) =>
      sharp(input, { page, limitInputPixels: limits.maxPixels, failOn: 'error' }).png({ compressionLevel: 1 }).toBuffer(),
    ),
  );
}

type Pdfjs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
let pdfjs: Promise<Pdfjs> | undefined;

function standardFontFolder(): string {
  return `${join(dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')), 'standard_fonts')}/`;
}

/** The scale (pixels per PDF point) for `dpi`, lowered so the page stays within `maxPixels`. */
export function pdfScale(widthPt: number, heightPt: number, dpi: number, maxPixels: number): number {
  const scale = dpi / 72;
  const pixels = widthPt * scale * heightPt * scale;
  return pixels <= maxPixels ? scale : Math.sqrt(maxPixels / (widthPt * heightPt)) * 0.999;
}

type PdfPage = Awaited<ReturnType<Awaited<ReturnType<Pdfjs['getDocument']>['promise']>['getPage']>>;
type CanvasFactory = { create(width: number, height: number): { canvas: { toBuffer(type: 'image/png'): Buffer }; context: unknown } };

/** The page rendered on white at the viewport's size, as PNG. */
async function renderPage(page: PdfPage, viewport: ReturnType<PdfPage['getViewport']>, factory: CanvasFactory): Promise<Buffer> {
  const canvas = factory.create(Math.round(viewport.width), Math.round(viewport.height));
  // A white page first: PDF pages are transparent where nothing is drawn, and OCR wants paper.
  const context = canvas.context as { fillStyle: string; fillRect(x: number, y: number, w: number, h: number): void };
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, Math.round(viewport.width), Math.round(viewport.height));
  await page.render({ canvasContext: canvas.context as never, viewport, canvas: canvas.canvas as never }).promise;
  return canvas.canvas.toBuffer('image/png');
}

async function pdfPages(input: Buffer, limits: DocumentLimits): Promise<(Buffer | TextLayerPage)[]> {
  pdfjs ??= import('pdfjs-dist/legacy/build/pdf.mjs');
  const { getDocument } = await pdfjs;
  const task = getDocument({
    data: new Uint8Array(input),
    standardFontDataUrl: standardFontFolder(),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    verbosity: 0,
  });
  try {
    const doc = await task.promise.catch((error: unknown) => {
      throw new PermanentJobError('IMAGE_CORRUPT', `the PDF could not be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    if (doc.numPages === 0) throw new PermanentJobError('IMAGE_EMPTY', 'the PDF has no pages');
    if (doc.numPages > limits.maxPages) throw tooManyPages(doc.numPages, limits.maxPages);
    const pages: (Buffer | TextLayerPage)[] = [];
    const { OPS } = await pdfjs;
    for (let number = 1; number <= doc.numPages; number++) {
      const page = await doc.getPage(number);
      const [x0, y0, x1, y1] = page.view;
      const viewport = page.getViewport({ scale: pdfScale(Math.abs(x1! - x0!), Math.abs(y1! - y0!), limits.pdfDpi, limits.maxPixels) });
      const text = limits.pdfTextLayer ? await readTextLayer(page, viewport, OPS) : undefined;
      pages.push(text ?? (await renderPage(page, viewport, doc.canvasFactory as CanvasFactory)));
      page.cleanup();
    }
    return pages;
  } finally {
    await task.destroy();
  }
}

/** The pages of a document; a plain image is one page. */
export async function splitDocument(input: Buffer, limits: DocumentLimits): Promise<DocumentPages> {
  const format = documentFormat(input);
  if (format === 'pdf') return { format, pages: await pdfPages(input, limits) };
  if (format === 'tiff') return { format, pages: await tiffPages(input, limits) };
  return { format, pages: [input] };
}
