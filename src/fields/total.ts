// The amount a receipt was paid for, and its currency when the TOTAL row shows one.
import { clean, confidenceOf, fixDigits, type Field, type FieldLine } from './text.ts';

/** Amount with two decimals, e.g. "9.00", and the currency printed beside it (RM, USD, $, ...), when there is one. */
export type TotalField = Field & { currency?: string };

/** TOTAL as OCR reads it on faded thermal paper: IOTAL, ioial, lota!, T0TAL. */
const TOTAL = String.raw`[TIL1][O0][TIL1]A[LI1!|]`;
const TOTAL_LABEL = new RegExp(String.raw`${TOTAL}|AMOUNT\s*DUE|JUMLAH|NET\s*AM(OUN)?T\b`, 'iu');
const NOT_TOTAL = new RegExp(
  String.raw`SUB\s*-?\s*${TOTAL}|${TOTAL}\s*(QTY|QUANTITY|ITEMS?|EXCL|DISCOUNT|SAVING|GST\b|TAX\b)|GST\s*SUMMARY|${TOTAL}\s*GST`,
  'iu',
);
/** A row that names the amount to pay (TOTAL PAYABLE or its misreads, Payal.e; AMOUNT DUE, GRAND TOTAL, NET TOTAL, NET AMT): it wins over other TOTAL rows (Total 0% supplies). */
const AMOUNT_DUE = new RegExp(String.raw`${TOTAL}\s*(PAY|DUE)|AMOUNT\s*(DUE|PAYABLE)|(GRAND|NET)\s*${TOTAL}|NET\s*AM(OUN)?T\b`, 'iu');
const SUBTOTAL = new RegExp(String.raw`SUB\s*-?\s*${TOTAL}`, 'iu');
/** The change row; not EXCHANGE (a returns notice) nor a word glued before it. */
const CHANGE = /(?<![A-Z])CHANGE\b/iu;
/** An amount with two decimals; OCR may read the point as a comma or a dash (22-60), or put a space after the point (72. 00). */
const AMOUNT = /(?<![\d.,-])(\d{1,3}(?:,\d{3})+|\d+)(?:[.,-]|\.\s)(\d{2})(?![\d.,-]?\d)/gu;
const CURRENCY = /\b(RM|MYR|USD|EUR|GBP|SGD|INR|RS\.?)\b|[$€£₹]/iu;

/** The amounts on a row, in cents (integers, so that sums are exact). */
function centsOf(text: string): number[] {
  return [...fixDigits(text).matchAll(AMOUNT)].map((m) => Number(m[1]!.replace(/,/gu, '')) * 100 + Number(m[2]!));
}

/** The amount ending a labelled row whose decimal point OCR lost (TOTAL ... 476 80): a space before the cents. */
const SPACED_AMOUNT = /(?<![\d.,-])(\d{1,5}) (\d{2})[^\p{L}\d]*$/u;

/** The amounts on a labelled row (TOTAL, CASH), or the one that ends it with a space for its point when it has no other. */
function labelledCentsOf(text: string): number[] {
  const cents = centsOf(text);
  if (cents.length > 0) return cents;
  const spaced = SPACED_AMOUNT.exec(fixDigits(text));
  return spaced ? [Number(spaced[1]) * 100 + Number(spaced[2])] : [];
}

interface Found {
  cents: number;
  line: number;
}

/** The largest amount on rows `accept` takes (or on the row after such a row when it has no amount). */
function largestAmount(texts: readonly string[], accept: (text: string) => boolean): Found | undefined {
  let best: Found | undefined;
  for (let i = 0; i < texts.length; i++) {
    if (!accept(texts[i]!)) continue;
    const here = labelledCentsOf(texts[i]!);
    const line = here.length > 0 ? i : i + 1;
    const amounts = here.length > 0 ? here : centsOf(texts[i + 1] ?? '');
    // On a tie the later row wins: the final (rounded) total is printed last.
    for (const cents of amounts) if (!best || cents >= best.cents) best = { cents, line };
  }
  return best;
}

/** The change given: the amount on the CHANGE row (".00" when the 0 is not printed), or on the row below a lone label. */
function changeAt(texts: readonly string[], i: number): number | undefined {
  for (const text of [texts[i]!, texts[i + 1] ?? '']) {
    const cents = centsOf(text);
    if (cents.length > 0) return cents.at(-1);
    const bare = /(?<![\d.])\.(\d{2})(?!\d)/u.exec(text);
    if (bare) return Number(bare[1]);
  }
  return undefined;
}

interface Payment {
  paid: number;
  change: number;
  paidRow: number;
}

/** The amount handed over (the row above CHANGE with an amount) and the change given, in cents. */
function paymentOf(texts: readonly string[]): Payment | undefined {
  const changeRow = texts.findLastIndex((text) => CHANGE.test(text));
  if (changeRow < 1) return undefined;
  const change = changeAt(texts, changeRow);
  if (change === undefined) return undefined;
  for (let paidRow = changeRow - 1; paidRow >= Math.max(0, changeRow - 3); paidRow--) {
    // Some tills print the amount handed over as a negative (Cash -50.00).
    const paid = centsOf(texts[paidRow]!.replace(/-(?=\d)/gu, ' ')).at(-1);
    if (paid !== undefined) return paid > change ? { paid, change, paidRow } : undefined;
  }
  return undefined;
}

/**
 * The amount due as the payment rows prove it: what was handed over less the change, when that
 * amount is printed above the payment row. It settles a misread TOTAL (4.80 for 4.00) and tells
 * the rounded total from the unrounded one.
 */
function paidLessChange(texts: readonly string[], payment: Payment | undefined): Found | undefined {
  if (!payment) return undefined;
  const due = payment.paid - payment.change;
  for (let i = payment.paidRow - 1; i >= 0; i--) if (centsOf(texts[i]!).includes(due)) return { cents: due, line: i };
  // The rounded total may not have been read: a TOTAL row within rounding (5 sen) of it, above a rounding row, agrees.
  const rounding = texts.findLastIndex((text, i) => i < payment.paidRow && ROUNDING.test(text));
  if (rounding < 0) return undefined;
  for (let i = rounding - 1; i >= 0; i--) {
    if (isTotal(texts[i]!) && labelledCentsOf(texts[i]!).some((cents) => Math.abs(cents - due) <= 5)) return { cents: due, line: payment.paidRow };
  }
  return undefined;
}

/** A payment row: the label the amount handed over or charged is printed under or beside. */
const PAID = /^\W*(CASH|CREDIT\s*CARD|CARD|VISA|MASTER\s*CARD|PAID)\b/iu;

/** A rounding row (ROUNDING ADJ, Rounding); not GROUND FLOOR. */
const ROUNDING = /\bROUND/iu;
const isTotal = (text: string): boolean => TOTAL_LABEL.test(text) && !NOT_TOTAL.test(text);

/** The first TOTAL row with an amount after the last rounding row: the rounded total, which may be below the unrounded one (65.72 -> 65.70). */
function roundedTotal(texts: readonly string[]): Found | undefined {
  const rounding = texts.findLastIndex((text) => ROUNDING.test(text));
  if (rounding < 0) return undefined;
  for (let i = rounding + 1; i < texts.length; i++) {
    const cents = isTotal(texts[i]!) ? labelledCentsOf(texts[i]!).at(-1) : undefined;
    if (cents !== undefined) return { cents, line: i };
  }
  return undefined;
}

/**
 * The total as the TOTAL rows give it: the rounded total after a rounding row when it is within a
 * few cents of the largest (rounding is to 5 sen in Malaysia: a larger gap means that row is
 * something else); else the largest amount on a row naming the amount to pay (TOTAL PAYABLE);
 * else the largest on any TOTAL row, as receipts print the rounded total last and largest.
 */
function labelledTotal(texts: readonly string[]): Found | undefined {
  const largest = largestAmount(texts, isTotal);
  const rounded = roundedTotal(texts);
  if (rounded && largest && Math.abs(rounded.cents - largest.cents) <= 5) return rounded;
  return largestAmount(texts, (text) => AMOUNT_DUE.test(text) && !NOT_TOTAL.test(text)) ?? largest;
}

/**
 * The total: the amount the payment rows prove (paid less change) when they do; else the total
 * the TOTAL rows give (not a subtotal, item count, saving or tax row); else the amount paid when
 * no change was given; else the subtotal, at lower confidence; else, with no change row, the amount on the payment row.
 */
export function findTotal(lines: readonly FieldLine[]): TotalField | undefined {
  const texts = lines.map((line) => clean(line.text));
  const payment = paymentOf(texts);
  // With no change given and no TOTAL row read, the amount handed over (or charged to a card) is the total.
  const paidInFull = payment?.change === 0 ? { cents: payment.paid, line: payment.paidRow } : undefined;
  const total = paidLessChange(texts, payment) ?? labelledTotal(texts) ?? paidInFull;
  // No TOTAL row and no change: what the payment row says was paid (CASH / RM 170.00), at lower confidence too.
  const best = total ?? largestAmount(texts, (text) => SUBTOTAL.test(text)) ?? (payment ? undefined : largestAmount(texts, (text) => PAID.test(text)));
  if (!best) return undefined;
  const currency = CURRENCY.exec(texts[best.line]!)?.[0]?.toUpperCase().replace(/\.$/u, '');
  return {
    value: (best.cents / 100).toFixed(2),
    lines: [best.line],
    confidence: confidenceOf(lines, [best.line], total ? 1 : 0.5),
    ...(currency ? { currency } : {}),
  };
}
