// Receipt-field accuracy against sroie-dev's key/NNN.json: exact match after normalising case
// and spaces (company, address: upper case, all whitespace removed; punctuation counts), the date
// to ISO 8601 and the total to two decimals, as issue 15 says, and nothing looser.
import { isoDate, parseDate } from '../../src/fields/dates.ts';
import type { ReceiptFields } from '../../src/fields/receipt.ts';

export const FIELD_NAMES = ['company', 'date', 'address', 'total'] as const;
export type FieldName = (typeof FIELD_NAMES)[number];
export type ReceiptKey = Partial<Record<FieldName, string>>;

const squash = (text: string): string => text.toUpperCase().replace(/\s+/gu, '');

/** The key's amount with two decimals (RM 1,234.5 -> 1234.50, -1.73 stays negative); undefined when it has no digits. */
export function amount(text: string): string | undefined {
  if (!/\d/u.test(text)) return undefined;
  const n = Number(text.replace(/[^\d.-]/gu, ''));
  return Number.isFinite(n) ? n.toFixed(2) : undefined;
}

/**
 * The key's date as ISO 8601: as a receipt prints it (parseDate), or written without separators as
 * a few keys are (20180304 year first, 25032018 day first).
 */
export function keyDate(text: string): string | undefined {
  const parsed = parseDate(text);
  if (parsed) return parsed;
  const compact = /^\s*(\d{8})\s*$/u.exec(text)?.[1];
  if (!compact) return undefined;
  const n = (from: number, to: number): number => Number(compact.slice(from, to));
  return isoDate(n(0, 4), n(4, 6), n(6, 8)) ?? isoDate(n(4, 8), n(2, 4), n(0, 2));
}

/** The key's value and ours in one comparable form, or undefined when the key has none. */
export function comparable(field: FieldName, key: ReceiptKey, found: ReceiptFields): { expected: string; actual: string | undefined } | undefined {
  const expected = key[field];
  if (expected === undefined || expected.trim() === '') return undefined;
  const actual = found[field]?.value;
  if (field === 'date') return { expected: keyDate(expected) ?? squash(expected), actual };
  if (field === 'total') return { expected: amount(expected) ?? squash(expected), actual };
  return { expected: squash(expected), actual: actual === undefined ? undefined : squash(actual) };
}

/** Per field: matches and receipts whose key has that field. */
export function scoreFields(key: ReceiptKey, found: ReceiptFields): Record<FieldName, { hit: number; of: number }> {
  const score = {} as Record<FieldName, { hit: number; of: number }>;
  for (const field of FIELD_NAMES) {
    const pair = comparable(field, key, found);
    score[field] = pair ? { hit: pair.actual === pair.expected ? 1 : 0, of: 1 } : { hit: 0, of: 0 };
  }
  return score;
}
