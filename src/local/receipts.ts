// The sample receipt shipped with the project (samples/receipts/), rendered from SVG text
// with sharp, so it is ours to publish (not the SROIE data) and its true text is known; and
// the load's four longer receipts (LOAD_RECEIPTS), rendered in memory at a scan's size.
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

/** How a receipt is drawn: the sample's layout by default (640 px wide, 32 px text). */
export interface ReceiptLayout {
  /** px */
  width: number;
  /** px between baselines */
  lineHeight: number;
  /** px */
  fontSize: number;
  /** px on every side */
  margin: number;
}

const SAMPLE_LAYOUT: ReceiptLayout = { width: 640, lineHeight: 56, fontSize: 32, margin: 40 };

/**
 * The load's layout (npm start -- --load N): a till receipt as a flatbed scan at 200 dpi
 * renders it: 80 mm paper = 640 px wide, 24 px text on a 38 px pitch; a 30-line receipt is
 * then about 640 x 1,330 px, the size the workers see from real scans.
 */
export const SCAN_LAYOUT: ReceiptLayout = { width: 640, lineHeight: 38, fontSize: 24, margin: 36 };

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Black text on white, a plain sans font: easy for tesseract, like a clean scan. */
export function receiptSvg(lines: readonly string[] = RECEIPT_LINES, layout: ReceiptLayout = SAMPLE_LAYOUT): string {
  const { width, lineHeight, fontSize, margin } = layout;
  const height = margin * 2 + lineHeight * lines.length;
  const text = lines.map((line, i) => `<text x="${margin}" y="${margin + lineHeight * (i + 1) - fontSize / 2}">${escapeXml(line)}</text>`).join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    `<g font-family="DejaVu Sans, Arial, sans-serif" font-size="${fontSize}" fill="#000">${text}</g></svg>`
  );
}

export async function renderReceiptPng(lines: readonly string[] = RECEIPT_LINES, layout: ReceiptLayout = SAMPLE_LAYOUT): Promise<Buffer> {
  return await sharp(Buffer.from(receiptSvg(lines, layout)))
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

type Item = readonly [name: string, quantity: number, unitPrice: number];

const money = (n: number): string => n.toFixed(2);

/** A till receipt's lines: header, one line per item (quantity x price when more than one), totals with VAT, payment, footer. */
export function tillReceipt(o: {
  shop: readonly string[];
  number: string;
  date: string;
  items: readonly Item[];
  vatRate: number;
  footer: readonly string[];
}): string[] {
  const lines = [...o.shop, `${o.date}  Receipt ${o.number}`, ''];
  let total = 0;
  for (const [name, qty, price] of o.items) {
    const amount = qty * price;
    total += amount;
    lines.push(qty > 1 ? `${name} ${qty} x ${money(price)} ${money(amount)}` : `${name} ${money(amount)}`);
  }
  const vat = total - total / (1 + o.vatRate);
  lines.push('', `Items ${o.items.reduce((n, [, q]) => n + q, 0)}`, `TOTAL ${money(total)}`, `incl. VAT ${Math.round(o.vatRate * 100)}% ${money(vat)}`);
  lines.push(`Card payment ${money(total)}`, 'Card ending 4821', 'Auth code 071553', '', ...o.footer);
  return lines;
}

/**
 * Four distinct receipts of real length (22 to 30 lines of text, 640 x 1,000-1,330 px, 90-115 KB)
 * and content: a supermarket, a
 * hardware store, a restaurant and a pharmacy. The load cycles through them, so the workers
 * read different text, not one image again and again.
 */
export const LOAD_RECEIPTS: ReadonlyArray<{ name: string; lines: readonly string[] }> = [
  {
    name: 'harbour-market',
    lines: tillReceipt({
      shop: ['HARBOUR MARKET', '221 Quay Road, Portsmouth', 'VAT No. GB 284 1193 62', 'Tel 023 9286 4410'],
      number: '5531-0098',
      date: '14/03/2026 17:42',
      items: [
        ['Semi skimmed milk 2L', 2, 1.45],
        ['Wholemeal bread', 1, 1.35],
        ['Free range eggs x12', 1, 3.1],
        ['Bananas loose 1.1kg', 1, 0.99],
        ['Cheddar mature 400g', 1, 3.75],
        ['Tomatoes vine 500g', 2, 1.6],
        ['Basmati rice 1kg', 1, 2.2],
        ['Olive oil 500ml', 1, 4.5],
        ['Pasta fusilli 500g', 3, 0.85],
        ['Chopped tomatoes', 4, 0.55],
        ['Greek yoghurt 500g', 1, 2.1],
        ['Coffee beans 250g', 1, 4.95],
        ['Washing up liquid', 1, 1.25],
        ['Kitchen roll x2', 1, 2.4],
        ['Apples Braeburn x6', 1, 2.0],
        ['Orange juice 1L', 2, 1.75],
      ],
      vatRate: 0.2,
      footer: ['Clubcard points 61', 'Thank you for shopping', 'Keep your receipt for refunds'],
    }),
  },
  {
    name: 'northside-hardware',
    lines: tillReceipt({
      shop: ['NORTHSIDE HARDWARE LTD', 'Unit 4 Mill Lane Trading Est.', 'Leeds LS12 6BD', 'VAT No. GB 519 3307 14'],
      number: 'NH-200417',
      date: '02/04/2026 09:15',
      items: [
        ['Wood screws 4x40 box 200', 2, 6.49],
        ['Wall plugs brown x100', 1, 2.99],
        ['Masking tape 50m', 3, 1.89],
        ['Sandpaper assorted x10', 1, 4.25],
        ['Exterior paint white 2.5L', 1, 24.99],
        ['Paint roller 9in', 1, 7.5],
        ['Brush set 5 piece', 1, 8.99],
        ['Dust sheet 12x9ft', 2, 3.49],
        ['Cable ties x100', 1, 3.2],
        ['Extension lead 4 way', 1, 12.99],
        ['LED bulb E27 9W', 4, 2.75],
        ['Silicone sealant clear', 2, 5.49],
      ],
      vatRate: 0.2,
      footer: ['Returns within 28 days', 'with proof of purchase', 'Thank you'],
    }),
  },
  {
    name: 'olive-tree',
    lines: tillReceipt({
      shop: ['THE OLIVE TREE', 'Mediterranean Kitchen', '8 Castle Street, York YO1 9RN', 'Table 12  Covers 4  Server Anna'],
      number: '88214',
      date: '21/02/2026 20:31',
      items: [
        ['Bread and olives', 2, 4.5],
        ['Halloumi fries', 1, 6.95],
        ['Calamari', 1, 7.5],
        ['Lamb kofta', 2, 16.5],
        ['Sea bass fillet', 1, 18.95],
        ['Mushroom risotto', 1, 14.5],
        ['Side greek salad', 2, 4.25],
        ['House red 750ml', 1, 24.0],
        ['Sparkling water 750ml', 2, 3.5],
        ['Baklava', 2, 5.95],
        ['Espresso', 3, 2.6],
      ],
      vatRate: 0.2,
      footer: ['Service not included', 'Thank you for dining with us', 'www.olivetree-york.example'],
    }),
  },
  {
    name: 'brookside-pharmacy',
    lines: tillReceipt({
      shop: ['BROOKSIDE PHARMACY', '17 High Street, Didcot OX11 8EQ', 'VAT No. GB 733 0381 55'],
      number: 'BP-7720-113',
      date: '09/05/2026 11:04',
      items: [
        ['Paracetamol 500mg x16', 2, 0.89],
        ['Ibuprofen 200mg x16', 1, 1.99],
        ['Antihistamine x30', 1, 4.49],
        ['Plasters assorted x40', 1, 3.25],
        ['Hand sanitiser 100ml', 2, 1.5],
        ['Sun cream SPF50 200ml', 1, 9.99],
        ['Toothpaste 75ml', 2, 2.49],
        ['Vitamin D 1000IU x90', 1, 6.75],
        ['Throat lozenges x24', 1, 3.99],
        ['Cotton pads x100', 1, 1.2],
      ],
      vatRate: 0.2,
      footer: ['Ask our pharmacist for advice', 'Thank you, get well soon'],
    }),
  },
];

/** The load's receipts as PNGs in SCAN_LAYOUT, with their true text (rendered in memory, about 0.1 s each). */
export async function renderLoadReceipts(): Promise<Array<{ name: string; png: Buffer; text: string }>> {
  return await Promise.all(
    LOAD_RECEIPTS.map(async (r) => ({ name: r.name, png: await renderReceiptPng(r.lines, SCAN_LAYOUT), text: r.lines.filter(Boolean).join('\n') })),
  );
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
