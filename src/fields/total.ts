// The amount a receipt was paid for, and its currency when the TOTAL row shows one.
import { clean, confidenceOf, fixDigits, type Field, type FieldLine } from './text.ts';

/** Amount with two decimals, e.g. "9.00", and the currency printed beside it (RM, USD, $, ...), when there is one. */
export type TotalField = Field & { currency?: string };

const TOTAL_LABEL = /TOTAL|AMOUNT\s*DUE|JUMLAH/iu;
const NOT_TOTAL = /SUB\s*-?\s*TOTAL|TOTAL\s*(QTY|QUANTITY|ITEMS?|EXCL|DISCOUNT|SAVING|GST\b|TAX\b)|GST\s*SUMMARY|TOTAL\s*GST/iu;
const SUBTOTAL = /SUB\s*-?\s*TOTAL/iu;
/** An amount with two decimals; OCR may read the point as a comma or a dash (22-60). */
const AMOUNT = /(?<![\d.,-])(\d{1,3}(?:,\d{3})+|\d+)[.,-](\d{2})(?![\d.,-]?\d)/gu;
const CURRENCY = /\b(RM|MYR|USD|EUR|GBP|SGD|INR|RS\.?)\b|[$€£₹]/iu;

function amountsOf(text: string): number[] {
  return [...fixDigits(text).matchAll(AMOUNT)].map((m) => Number(`${m[1]!.replace(/,/gu, '')}.${m[2]!}`));
}

/** The largest amount on rows `accept` takes (or on the row after such a row when it has no amount). */
function largestAmount(lines: readonly FieldLine[], accept: (text: string) => boolean): { amount: number; line: number } | undefined {
  let best: { amount: number; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = clean(lines[i]!.text);
    if (!accept(text)) continue;
    const here = amountsOf(text);
    const line = here.length > 0 ? i : i + 1;
    const amounts = here.length > 0 ? here : amountsOf(lines[i + 1]?.text ?? '');
    // On a tie the later row wins: the final (rounded) total is printed last.
    for (const amount of amounts) if (!best || amount >= best.amount) best = { amount, line };
  }
  return best;
}

/**
 * The total: the largest amount on a TOTAL row (not a subtotal, item count, saving or tax row);
 * receipts print the rounded total last and largest. Without one, the subtotal, at lower confidence.
 */
export function findTotal(lines: readonly FieldLine[]): TotalField | undefined {
  const total = largestAmount(lines, (text) => TOTAL_LABEL.test(text) && !NOT_TOTAL.test(text));
  const best = total ?? largestAmount(lines, (text) => SUBTOTAL.test(text));
  if (!best) return undefined;
  const currency = CURRENCY.exec(clean(lines[best.line]!.text))?.[0]?.toUpperCase().replace(/\.$/u, '');
  return {
    value: best.amount.toFixed(2),
    lines: [best.line],
    confidence: confidenceOf(lines, [best.line], total ? 1 : 0.5),
    ...(currency ? { currency } : {}),
  };
}
