// Receipt-field accuracy against sroie-dev's key/NNN.json: exact match after normalising case
// and spaces (company, address), the date to ISO 8601 and the total to two decimals.
import { parseDate } from '../../src/fields/dates.ts';
import type { ReceiptFields } from '../../src/fields/receipt.ts';

export const FIELD_NAMES = ['company', 'date', 'address', 'total'] as const;
export type FieldName = (typeof FIELD_NAMES)[number];
export type ReceiptKey = Partial<Record<FieldName, string>>;

const squash = (text: string): string => text.toUpperCase().replace(/\s+/gu, '');

function amount(text: string): string | undefined {
  const n = Number(text.replace(/[^\d.]/gu, ''));
  return Number.isFinite(n) && text.trim() !== '' ? n.toFixed(2) : undefined;
}

/** The key's value and ours in one comparable form, or undefined when the key has none. */
export function comparable(field: FieldName, key: ReceiptKey, found: ReceiptFields): { expected: string; actual: string | undefined } | undefined {
  const expected = key[field];
  if (expected === undefined || expected.trim() === '') return undefined;
  const actual = found[field]?.value;
  if (field === 'date') return { expected: parseDate(expected) ?? squash(expected), actual };
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
