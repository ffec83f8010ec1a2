// Indian identity and business numbers in OCR lines: PAN, Aadhaar, driving licence, passport (from
// its machine-readable zone) and UDYAM registration. Each is validated as its issuer defines it
// (Aadhaar's Verhoeff check digit, the MRZ's 7-3-1 check digits, PAN's holder-type letter); a
// number that fails validation is not reported, so nothing is invented from OCR noise.
import type { Field, FieldLine } from './receipt.ts';
import { isoDate } from './dates.ts';

export interface PassportFields {
  number: string;
  /** ISO 3166-1 alpha-3 as printed in the MRZ (IND). */
  nationality: string;
  surname: string;
  givenNames: string;
  /** ISO 8601. */
  birthDate: string;
  expiryDate: string;
  sex: 'M' | 'F' | 'X';
}

export interface IdFields {
  pan?: Field;
  aadhaar?: Field;
  drivingLicence?: Field;
  passport?: Field<PassportFields>;
  udyam?: Field;
}

// ---- Verhoeff (Aadhaar's check digit) ------------------------------------------------------

const D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/** True when the digits (check digit last) pass the Verhoeff check. */
export function verhoeffValid(digits: string): boolean {
  if (!/^\d+$/u.test(digits)) return false;
  let c = 0;
  const reversed = [...digits].reverse();
  reversed.forEach((digit, i) => {
    c = D[c]![P[i % 8]![Number(digit)]!]!;
  });
  return c === 0;
}

// ---- MRZ (ICAO 9303) -------------------------------------------------------------------

/** ICAO 9303 check digit: 7-3-1 weights over digits, letters A=10..Z=35, filler < = 0. */
export function mrzCheckDigit(field: string): number {
  const weights = [7, 3, 1];
  let sum = 0;
  [...field].forEach((ch, i) => {
    const value = ch === '<' ? 0 : /\d/u.test(ch) ? Number(ch) : ch.charCodeAt(0) - 55;
    sum += value * weights[i % 3]!;
  });
  return sum % 10;
}

const checks = (field: string, digit: string): boolean => /^\d$/u.test(digit) && mrzCheckDigit(field) === Number(digit);

/** YYMMDD to ISO; birth dates in the future belong to the previous century. */
function mrzDate(yymmdd: string, kind: 'birth' | 'expiry', now: Date): string | undefined {
  const [yy, mm, dd] = [Number(yymmdd.slice(0, 2)), Number(yymmdd.slice(2, 4)), Number(yymmdd.slice(4, 6))];
  const century = kind === 'expiry' || 2000 + yy <= now.getUTCFullYear() ? 2000 : 1900;
  return isoDate(century + yy, mm, dd);
}

/** OCR reads letters as the digits that look like them; in the MRZ's letter-only fields a digit can only be such a misread. */
const LETTER_FOR_DIGIT: Readonly<Record<string, string>> = { '0': 'O', '1': 'I', '2': 'Z', '5': 'S', '6': 'G', '8': 'B' };
const lettersOnly = (field: string): string => field.replace(/\d/gu, (d) => LETTER_FOR_DIGIT[d] ?? d);

/** Line 2's number and dates when every check digit (theirs and the composite) holds. */
function checkedPart(l2: string): { number: string; birth: string; expiry: string } | undefined {
  const number = l2.slice(0, 9);
  const birth = l2.slice(13, 19);
  const expiry = l2.slice(21, 27);
  const composite = l2.slice(0, 10) + l2.slice(13, 20) + l2.slice(21, 43);
  const valid = checks(number, l2[9]!) && checks(birth, l2[19]!) && checks(expiry, l2[27]!) && checks(composite, l2[43]!);
  return valid ? { number, birth, expiry } : undefined;
}

/**
 * Nationality, names and sex are under no check digit: digits there are misread letters (UT0 -> UTO), and what is
 * still not letters after that mapping makes the whole MRZ unreadable rather than reported wrong.
 */
function letterPart(l1: string, l2: string): { nationality: string; names: string; sex: string } | undefined {
  const nationality = lettersOnly(l2.slice(10, 13));
  const names = lettersOnly(l1.slice(5));
  const sex = lettersOnly(l2[20]!);
  return /^[A-Z<]{3}$/u.test(nationality) && /^[A-Z<]+$/u.test(names) && /^[MFX<]$/u.test(sex) ? { nationality, names, sex } : undefined;
}

/** The TD3 (passport) MRZ: line 1 `P<` + country + names, line 2 number, nationality, dates, each with its check digit. */
export function parsePassportMrz(line1: string, line2: string, now = new Date()): PassportFields | undefined {
  const l1 = line1.replace(/\s+/gu, '').toUpperCase();
  const l2 = line2.replace(/\s+/gu, '').toUpperCase();
  if (!/^P[A-Z<][A-Z<]{3}/u.test(l1) || l2.length < 44) return undefined;
  const checked = checkedPart(l2);
  const letters = letterPart(l1, l2);
  if (!checked || !letters) return undefined;
  const birthDate = mrzDate(checked.birth, 'birth', now);
  const expiryDate = mrzDate(checked.expiry, 'expiry', now);
  if (!birthDate || !expiryDate) return undefined;
  const [surname = '', given = ''] = letters.names.split('<<');
  return {
    number: checked.number.replace(/<+$/u, ''),
    nationality: letters.nationality.replace(/</gu, ''),
    surname: surname.replace(/</gu, ' ').trim(),
    givenNames: given.replace(/<+/gu, ' ').trim(),
    birthDate,
    expiryDate,
    sex: letters.sex === 'M' || letters.sex === 'F' ? letters.sex : 'X',
  };
}

// ---- the rest ------------------------------------------------------------------------

/** PAN: five letters (the fourth says who holds it), four digits, a letter. */
const PAN = /(?<![A-Z0-9])([A-Z]{3}[ABCFGHLJPT][A-Z]\d{4}[A-Z])(?![A-Z0-9])/u;
/** Aadhaar: 12 digits, usually grouped 4-4-4, never starting with 0 or 1. */
const AADHAAR = /(?<!\d)([2-9]\d{3})\s?(\d{4})\s?(\d{4})(?!\d)/u;
/** UDYAM-XX-00-0000000: state, district, serial. */
const UDYAM = /UDYAM\s*-\s*([A-Z]{2})\s*-\s*(\d{2})\s*-\s*(\d{7})(?!\d)/iu;
/** Driving licence: state code, RTO code, year of issue, seven-digit serial (e.g. MH-12 2011 0012345). */
const LICENCE = /(?<![A-Z0-9])([A-Z]{2})[\s-]?(\d{2})[\s-]?((?:19|20)\d{2})[\s-]?(\d{7})(?!\d)/u;
const STATE_CODES = new Set('AN AP AR AS BR CG CH DD DL DN GA GJ HP HR JH JK KA KL LA LD MH ML MN MP MZ NL OD OR PB PY RJ SK TN TR TS UK UP WB'.split(' '));

const field = (lines: readonly FieldLine[], line: number, value: string): Field => ({ value, lines: [line], confidence: (lines[line]?.confidence ?? 0) / 100 });

function firstMatch(lines: readonly FieldLine[], find: (text: string) => string | undefined): Field | undefined {
  for (let i = 0; i < lines.length; i++) {
    const value = find(lines[i]!.text.normalize('NFKC').toUpperCase());
    if (value !== undefined) return field(lines, i, value);
  }
  return undefined;
}

function findPassport(lines: readonly FieldLine[]): Field<PassportFields> | undefined {
  const compact = lines.map((line) => line.text.replace(/\s+/gu, '').toUpperCase());
  for (let i = 0; i + 1 < compact.length; i++) {
    if (!compact[i]!.startsWith('P') || !compact[i]!.includes('<<')) continue;
    const parsed = parsePassportMrz(compact[i]!, compact[i + 1]!);
    if (parsed) return { value: parsed, lines: [i, i + 1], confidence: ((lines[i]!.confidence + lines[i + 1]!.confidence) / 2 / 100) * 1 };
  }
  return undefined;
}

/** Every ID number the lines carry and that passes its validation. */
export function idFields(lines: readonly FieldLine[]): IdFields {
  const pan = firstMatch(lines, (text) => PAN.exec(text)?.[1]);
  const aadhaar = firstMatch(lines, (text) => {
    const m = AADHAAR.exec(text);
    const digits = m ? `${m[1]}${m[2]}${m[3]}` : undefined;
    return digits && verhoeffValid(digits) ? `${m![1]} ${m![2]} ${m![3]}` : undefined;
  });
  const udyam = firstMatch(lines, (text) => {
    const m = UDYAM.exec(text);
    return m ? `UDYAM-${m[1]}-${m[2]}-${m[3]}` : undefined;
  });
  const drivingLicence = firstMatch(lines, (text) => {
    const m = LICENCE.exec(text);
    return m && STATE_CODES.has(m[1]!) && !text.includes('UDYAM') ? `${m[1]}${m[2]} ${m[3]}${m[4]}` : undefined;
  });
  const passport = findPassport(lines);
  return {
    ...(pan ? { pan } : {}),
    ...(aadhaar ? { aadhaar } : {}),
    ...(drivingLicence ? { drivingLicence } : {}),
    ...(passport ? { passport } : {}),
    ...(udyam ? { udyam } : {}),
  };
}
