// The images a chaos run submits, each with the text it is known to hold: receipts rendered from
// SVG text with sharp (src/local/receipts.ts), every one with its own lines, so every image has
// its own content hash (no cache hit) and its own expected text; and poison images that pass the
// API's cheap checks (a PNG signature and end marker) but cannot be decoded, which must end `failed`.
import { renderReceiptPng } from '../../src/local/receipts.ts';

export interface ChaosImage {
  bytes: Buffer;
  /** The text OCR should read; undefined for a poison image. */
  text: string | undefined;
  poison: boolean;
}

const ITEMS = ['Flat white', 'Croissant', 'Orange juice', 'Bagel', 'Green tea', 'Muffin', 'Espresso', 'Scone'];

/** The lines of receipt n: a number, two items with prices and a total that all depend on n. */
export function receiptLines(n: number): string[] {
  const a = ITEMS[n % ITEMS.length]!;
  const b = ITEMS[(n * 3 + 1) % ITEMS.length]!;
  const pa = 100 + ((n * 37) % 900);
  const pb = 100 + ((n * 53) % 900);
  const price = (cents: number): string => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
  return ['CHAOS CAFE', `Receipt ${String(n).padStart(4, '0')}`, `${a} ${price(pa)}`, `${b} ${price(pb)}`, `TOTAL ${price(pa + pb)}`];
}

export async function receiptImage(n: number): Promise<ChaosImage> {
  const lines = receiptLines(n);
  return { bytes: await renderReceiptPng(lines), text: lines.join('\n'), poison: false };
}

/** A PNG with a valid signature and end marker and garbage between: the API accepts it, the worker cannot decode it. */
export async function poisonImage(n: number): Promise<ChaosImage> {
  const png = await renderReceiptPng([`POISON ${n}`]);
  const garbage = Buffer.alloc(png.length - 28, 0x55 + (n % 64));
  return { bytes: Buffer.concat([png.subarray(0, 16), garbage, png.subarray(png.length - 12)]), text: undefined, poison: true };
}
