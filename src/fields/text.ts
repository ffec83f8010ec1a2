// What every receipt-field rule shares: the line and field shapes, and the clean-up of OCR text
// (Unicode forms, spaces, O read for 0) the rules run on.
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

/**
 * A company registration number, alone or in brackets after the name, with or without its label:
 * 789417-W, (126926-H), 002570632-X, CO. REG. NO: 000948487-V, (COMPANY NO. 113825-W), ROC NO.: (1072825-A), JM0517726.
 */
export const REGISTRATION =
  /^\(?\s*((CO(MPANY)?|ROC|BRN|SSM)\.?\s*(REG(ISTRATION)?\.?)?\s*(NO\.?)?\s*[:.]?\s*)?\(?\s*[A-Z]{0,2}\d{5,}\s*-?\s*[A-Z]?\s*\)?\s*\)?$/iu;

/** NFKC (full-width brackets and digits to ASCII) and single spaces. */
export const clean = (text: string): string => text.normalize('NFKC').replace(/\s+/gu, ' ').trim();
/**
 * OCR reads 0 as O in numbers (433O0, 8110O): a token of digits with O's in it and at least three
 * digits is a number. And the other way round: N0 before a number is the abbreviation NO (N07 -> NO7, N0 21 -> NO 21).
 */
export const fixDigits = (text: string): string =>
  text
    .replace(/(?<![A-Z])[\dOo]{4,}(?![A-Z])/giu, (token) => (/(\d\D*){3}/u.test(token) ? token.replace(/[Oo]/gu, '0') : token))
    .replace(/\bN0(?=\s?\d)/gu, 'NO');
export const confidenceOf = (lines: readonly FieldLine[], indexes: readonly number[], factor = 1): number =>
  (indexes.reduce((sum, i) => sum + (lines[i]?.confidence ?? 0), 0) / Math.max(1, indexes.length) / 100) * factor;
