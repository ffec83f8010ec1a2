// Receipt fields from OCR lines: company, date (ISO 8601), address, total (and currency when the
// receipt shows one). Each field carries the lines it came from and a confidence; a field the
// lines do not support is absent, never guessed. Rules, not a model: they follow how printed
// receipts are laid out (the merchant's name and address on top, a dated header, a TOTAL row).
import { parseDate } from './dates.ts';

export interface FieldLine {
  text: string;
  /** 0-100, as the OCR result reports it. */
  confidence: number;
}

export interface Field<T = string> {
  value: T;
  /** Indexes of the lines the value came from. */
  lines: number[];
  /** 0-1: the OCR confidence of those lines, lowered when the rule that found it is a fallback. */
  confidence: number;
}

export interface ReceiptFields {
  company?: Field;
  /** ISO 8601 date (YYYY-MM-DD). */
  date?: Field;
  address?: Field;
  /** Amount with two decimals, e.g. "9.00". */
  total?: Field & { currency?: string };
}

/** Legal-form words: a top line carrying one is the merchant's registered name. */
const COMPANY_SUFFIX = /\b(SDN\.? ?BHD|BHD|S\/B|ENTERPRISE|TRADING|CO\.|COMPANY|LTD|LIMITED|INC|LLC|GMBH|PLC|PERNIAGAAN|SYARIKAT)\b/iu;
const NOT_A_NAME = /\b(TAX INVOICE|INVOICE|RECEIPT|CASH ?BILL|WELCOME|THANK|PLEASE|GST|REG|TEL|FAX|PHONE|DATE|TIME|ORDER)\b/iu;
/** A company registration number, alone or in brackets after the name: 789417-W, (126926-H), 002570632-X. */
const REGISTRATION = /^\(?\s*(CO\.?\s*(REG\.?)?\s*(NO\.?)?\s*[:.]?\s*)?\d{5,}\s*-?\s*[A-Z]?\s*\)?$/iu;
// Keywords may be glued to what follows (GSTID:, TEL03-); TEL and REG not inside a word (TELUK, REGENCY).
const ADDRESS_END =
  /\b(TEL(?![A-Z])|FAX|PHONE|MOBILE|H\/P|GST|REG(?![A-Z])|INVOICE|RECEIPT|DATE|CASHIER|EMAIL|WWW|HTTP|DOC(UMENT)?(?![A-Z])|BILL|TABLE)|@|^T\s*:/iu;
const PHONE = /\+?\d{2,4}[-\s]?\d{3,4}[-\s]?\d{4}(?!\d)/u;
// Long words need no boundary after them: OCR often drops the space (JALANPELABUR, LOT3).
const ADDRESS_HINT =
  /\b(JALAN|JLN|TAMAN|TMN|LORONG|STREET|AVENUE|LOT|BLOCK|BLK|FLOOR|FLR|LEVEL|KAWASAN|BANDAR|BDR|PERSIARAN|SELANGOR|JOHOR|KUALA|LUMPUR|PENANG)|\b(ROAD|RD|NO\.?|SS\s?\d+)\b|\d{5}|^\d+[,.]/iu;

/** NFKC (full-width brackets and digits to ASCII) and single spaces. */
const clean = (text: string): string => text.normalize('NFKC').replace(/\s+/gu, ' ').trim();
/** OCR reads 0 as O inside numbers (433O0): a token of digits with an O in it is a number. */
const fixDigits = (text: string): string => text.replace(/(?<=\d)[Oo]+(?=\d)/gu, (os) => '0'.repeat(os.length));
const confidenceOf = (lines: readonly FieldLine[], indexes: readonly number[], factor = 1): number =>
  (indexes.reduce((sum, i) => sum + (lines[i]?.confidence ?? 0), 0) / Math.max(1, indexes.length) / 100) * factor;

/** The merchant: a top line with a legal-form word, else the first line of the header that reads as a name; without a trailing registration number. */
export function findCompany(lines: readonly FieldLine[]): Field | undefined {
  const header = lines.slice(0, 8).map((line) => clean(line.text));
  const isName = (text: string): boolean => /[A-Z]{3}/iu.test(text) && !NOT_A_NAME.test(text) && !REGISTRATION.test(text.replace(/^[^\d(]*/u, ''));
  const suffixed = header.findIndex((text) => COMPANY_SUFFIX.test(text) && !NOT_A_NAME.test(text));
  const at = suffixed >= 0 ? suffixed : header.findIndex(isName);
  if (at < 0) return undefined;
  const value = header[at]!.replace(/\s*\(?\s*\d{5,}\s*-?\s*[A-Z]?\s*\)?\s*$/iu, '');
  return { value, lines: [at], confidence: confidenceOf(lines, [at], suffixed >= 0 ? 1 : 0.6) };
}

/** The first of the few lines after `from` that reads as an address, or -1. */
function addressStart(texts: readonly string[], from: number): number {
  for (let i = from; i < Math.min(texts.length, from + 6); i++) {
    const text = texts[i]!;
    if (ADDRESS_HINT.test(text) && !ADDRESS_END.test(text) && !REGISTRATION.test(text)) return i;
  }
  return -1;
}

/** The address: from the first line after the company that reads as one, until a contact, tax, document or price line. */
export function findAddress(lines: readonly FieldLine[], company: Field | undefined): Field | undefined {
  const texts = lines.map((line) => clean(line.text));
  const start = addressStart(texts, (company?.lines.at(-1) ?? -1) + 1);
  if (start < 0) return undefined;
  const picked: number[] = [];
  const parts: string[] = [];
  for (let i = start; i < Math.min(texts.length, start + 5); i++) {
    const text = texts[i]!;
    if (ADDRESS_END.test(text) || REGISTRATION.test(text) || PRICE.test(text)) break;
    // A phone number printed after the address on the same row ends it.
    const phone = PHONE.exec(text);
    const kept = phone ? text.slice(0, phone.index).trim() : text;
    if (kept !== '') {
      picked.push(i);
      parts.push(kept);
    }
    if (phone) break;
  }
  if (picked.length === 0) return undefined;
  return { value: fixDigits(parts.join(' ')), lines: picked, confidence: confidenceOf(lines, picked, 0.8) };
}

/** The first date printed on the receipt, as ISO 8601. */
export function findDate(lines: readonly FieldLine[]): Field | undefined {
  for (let i = 0; i < lines.length; i++) {
    const iso = parseDate(lines[i]!.text);
    if (iso) return { value: iso, lines: [i], confidence: confidenceOf(lines, [i]) };
  }
  return undefined;
}

const TOTAL_LABEL = /TOTAL|AMOUNT\s*DUE|JUMLAH/iu;
const NOT_TOTAL = /SUB\s*-?\s*TOTAL|TOTAL\s*(QTY|QUANTITY|ITEMS?|EXCL|DISCOUNT|SAVING|GST\b|TAX\b)|GST\s*SUMMARY|TOTAL\s*GST/iu;
const SUBTOTAL = /SUB\s*-?\s*TOTAL/iu;
/** An amount with two decimals; OCR may read the point as a comma or a dash (22-60). */
const AMOUNT = /(?<![\d.,-])(\d{1,3}(?:,\d{3})+|\d+)[.,-](\d{2})(?![\d.,-]?\d)/gu;
/** A price with a decimal point ends an address (the item rows start); 55,57 in an address is two house numbers. */
const PRICE = /\d\.\d{2}(?!\d)/u;
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
export function findTotal(lines: readonly FieldLine[]): ReceiptFields['total'] {
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

/** Every receipt field the lines support. */
export function receiptFields(lines: readonly FieldLine[]): ReceiptFields {
  const company = findCompany(lines);
  const address = findAddress(lines, company);
  const date = findDate(lines);
  const total = findTotal(lines);
  return { ...(company ? { company } : {}), ...(date ? { date } : {}), ...(address ? { address } : {}), ...(total ? { total } : {}) };
}
