// The sample receipt shipped with the project (samples/receipts/), rendered from SVG text
// with sharp, so it is ours to publish (not the SROIE data) and its true text is known.
// `node src/local/receipts.ts` regenerates the committed files; the load generator makes
// unique variants of the committed PNG (a few changed margin pixels), so the API's
// content-hash cache cannot answer them and every one is real OCR work for the workers.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const SAMPLES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'samples', 'receipts');
export const SAMPLE_RECEIPT = 'corner-cafe.png';

/** The receipt's lines, exactly as printed; the .txt next to the PNG holds them too. */
export const RECEIPT_LINES = [
  'CORNER CAFE',
  '12 Harbour Street',
  'Receipt 0042',
  'Flat white 3.40',
  'Croissant 2.80',
  'Orange juice 3.10',
  'TOTAL 9.30',
  'Thank you',
];

const WIDTH = 640;
const LINE_HEIGHT = 56;
const MARGIN = 40;

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Black text on white, a plain sans font at 32 px: easy for tesseract, like a clean scan. */
export function receiptSvg(lines: readonly string[] = RECEIPT_LINES): string {
  const height = MARGIN * 2 + LINE_HEIGHT * lines.length;
  const text = lines.map((line, i) => `<text x="${MARGIN}" y="${MARGIN + LINE_HEIGHT * (i + 1) - 16}">${escapeXml(line)}</text>`).join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}">` +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    `<g font-family="DejaVu Sans, Arial, sans-serif" font-size="32" fill="#000">${text}</g></svg>`
  );
}

export async function renderReceiptPng(lines: readonly string[] = RECEIPT_LINES): Promise<Buffer> {
  return await sharp(Buffer.from(receiptSvg(lines)))
    .flatten({ background: '#fff' })
    .greyscale()
    .png({ compressionLevel: 9 })
    .toBuffer();
}

export async function readSampleReceipt(file = SAMPLE_RECEIPT): Promise<Buffer> {
  return await readFile(join(SAMPLES_DIR, file));
}

export async function readSampleText(file = SAMPLE_RECEIPT): Promise<string> {
  return await readFile(join(SAMPLES_DIR, file.replace(/\.png$/, '.txt')), 'utf8');
}

/**
 * A copy of `png` that differs in a few light-grey pixels of the top margin, encoding `n`:
 * a different content hash (so no cache hit), the same text, the same OCR cost.
 */
export async function receiptVariant(png: Buffer, n: number): Promise<Buffer> {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  const pixels = Buffer.from(data);
  const bits = n.toString(2).padStart(32, '0');
  for (let i = 0; i < bits.length; i++) {
    // row 2, every other column from the left: far from the text
    pixels[2 * info.width + 4 + i * 2] = bits[i] === '1' ? 0xf0 : 0xfe;
  }
  return await sharp(pixels, { raw: { width: info.width, height: info.height, channels: 1 } })
    .png()
    .toBuffer();
}

/** Normalises OCR output for comparison: lines trimmed, blank lines and repeated spaces dropped. */
export function normaliseText(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join('\n');
}

if (import.meta.main) {
  const png = await renderReceiptPng();
  await writeFile(join(SAMPLES_DIR, SAMPLE_RECEIPT), png);
  await writeFile(join(SAMPLES_DIR, SAMPLE_RECEIPT.replace(/\.png$/, '.txt')), `${RECEIPT_LINES.join('\n')}\n`);
  process.stdout.write(`wrote ${join(SAMPLES_DIR, SAMPLE_RECEIPT)} (${png.length} bytes) and its .txt\n`);
}
