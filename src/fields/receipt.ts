// Receipt fields from OCR lines: company, date (ISO 8601), address, total (and currency when the
// receipt shows one). Each field carries the lines it came from and a confidence; a field the
// lines do not support is absent, never guessed. Rules, not a model: they follow how printed
// receipts are laid out (the merchant's name and address on top, a dated header, a TOTAL row).
import { findAddress } from './address.ts';
import { parseDate } from './dates.ts';
import { clean, confidenceOf, type Field, type FieldLine } from './text.ts';
import { findTotal, type TotalField } from './total.ts';

export type { Field, FieldLine } from './text.ts';
export { findAddress } from './address.ts';
export { findTotal, type TotalField } from './total.ts';

export interface ReceiptFields {
  company?: Field;
  /** ISO 8601 date (YYYY-MM-DD). */
  date?: Field;
  address?: Field;
  /** Amount with two decimals, e.g. "9.00". */
  total?: TotalField;
}

/** Legal-form words: a top line carrying one is the merchant's registered name. The long ones may be glued to the name (ABCHOTRADING). */
const COMPANY_SUFFIX = /(SDN\.? ?BHD|ENTERPRISE|TRADING)\b|\b(BHD|S\/B|CO\.|COMPANY|LTD|LIMITED|INC|LLC|GMBH|PLC|PERNIAGAAN|SYARIKAT)\b/iu;
// A shop's notice is not its name either (GOODS SOLD ARE NOT RETURNABLE, NO REFUND), nor a phone line (Mobile/Whatsapps: +6012-918 7937).
const NOT_A_NAME =
  /\b(TAX INVOICE|IN[VU]\w{0,2}ICE|RECEIPT|CASH ?BILL|WELCOME|THANK|PLEASE|GST|REG|TEL|FAX|PHONE|MOBILE|WHATSAPPS?|DATE|TIME|ORDER|RETURNABLE|REFUND|EXCHANGEABLE)\b|\bGOODS\s?SOLD|(?<![\d-])\+?\d{2,4}[-\s]\d{3,4}[-\s]?\d{4}(?!\d)/iu;

/** A contact or tax line: TEL, FAX, GST, an e-mail or web address (an @ in a shop name, NYONYA COLORS @ 1 UTAMA, is not one). */
const CONTACT = /\b(TEL|FAX|GST|E-?MAIL|WWW)|\w@[\w-]+\.\w/iu;
/** Below this line confidence (0-100) a header line is taken for a logo or noise, not the merchant's name. */
const NOISE_CONFIDENCE = 50;
/** OCR misreads of SDN BHD (SON BHD, SIN BHD, 5DN BHD, SDN BHT, SDN BAD, SDN 8HD, SDN3HD, SDN BND, Sd Bd, (M) 8HD) and S/B (5/B, 5/8): the legal form is a fixed phrase, so it is read back as one. */
const fixLegalForm = (text: string): string =>
  text
    .replace(/(?<![\p{L}\d])[S5][DO0I]N(\.?\s?)[B83][HNA][DT]\b/giu, (form: string, gap: string) => (/^SDN\.?\s?BHD$/iu.test(form) ? form : `SDN${gap}BHD`))
    // With letters dropped (Sd Bd, SDN BD) only when the two words stand apart.
    .replace(/\bS[DO0I]N?(\.?\s)[B83][HN]?D\b/giu, (form: string, gap: string) => (/^SDN\.?\s?BHD$/iu.test(form) ? form : `SDN${gap}BHD`))
    // S/B read as 5/B or 5/D after a name word, closing the line or before the registration number (MART 5/B (519537-X));
    // not on a street line, where 5/B is a road number (JALAN 5/B).
    .replace(/(?<=\p{L}{3,}\s?)5\/[BD8](?=\s*(\(|$))/gu, (form) => (STREET.test(text) ? form : 'S/B'))
    // BHD on its own read as 8HD or 3HD after a bracket or CO. (AEON CO. (M) 8HD).
    .replace(/(?<=(\)|\bCO\.)\s?)[83]HD\b/giu, 'BHD')
    // SDN is always followed by BHD: a short B word after it at the end of the line or before a bracket is BHD
    // (SDN BELD, SDN BID, SDN BHI); and SDN before BHD with its last letters misread (SDti BHD) is SDN.
    .replace(/\b(SDN\.?\s?)(B[A-Z]{0,3})(?=\W*$|\s*\()/iu, (form: string, sdn: string, b: string) => (b.toUpperCase() === 'BHD' ? form : `${sdn}BHD`))
    .replace(/\bS[D0I][A-Z]{1,2}(?=\.?\s?BHD\b)/iu, (form) => (form.toUpperCase() === 'SDN' ? form : 'SDN'))
    // SDN BHD cut short at the end of the line (SDN BH).
    .replace(/\bS[DO0I]N(\.?\s?)BH$/iu, (_form: string, gap: string) => `SDN${gap}BHD`)
    // An underscore is a speck between words (HANDEL_SDN BHD): no name has one.
    .replace(/_/gu, ' ');
const STREET = /\b(JALAN|JLN|LORONG|LRG|LOT|NO|TAMAN|TMN|BLOK|BLOCK|PERSIARAN|LEBUH)\b/iu;
/** Marks OCR puts before or after a name (table rules, bullets, logo specks): | . : + # - and the like. */
const trimMarks = (text: string): string => text.replace(/^[^\p{L}\p{N}(]+/u, '').replace(/[^\p{L}\p{N}.)]+$/u, '');

/**
 * After the final legal form, a registration number or label is not part of the name: SDN BHD (CO.NO ..., S/B 273500-U (KJ1),
 * S/B (S19537-X) with its first digit read as a letter, or a bracket the line leaves open (Sdn Bhd (Ca. No); nor are
 * one or two letters OCR read from specks (SDN BHD R, SDN BHD SE).
 */
const cutAfterLegalForm = (text: string): string =>
  text
    .replace(/(\b(BHD|S\/B|LTD|LIMITED)\.?)\s*\(?\s*(CO\b|NO\b|[A-Z]{0,2}\d).*$/iu, '$1')
    .replace(/(\b(BHD|S\/B|LTD|LIMITED)\.?)\s*\([^)]*$/iu, '$1')
    .replace(/(\b(BHD|S\/B|LTD|LIMITED)\.?)\s+\S{1,2}$/iu, '$1');
/** A label before a colon ahead of a legal name is not part of it: Owned by: / Dimiliki: KEDAI MAJU SDN BHD. */
const cutLabel = (text: string): string => (COMPANY_SUFFIX.test(text) ? text.replace(/^[\p{L} ]{2,20}:\s*(?=\S)/u, '') : text);
/**
 * Inside a word of capitals, a 1 or 0 before a letter is the letter I or O (URBAN 1DEA, S0ON): only in a word with two or
 * more letters and no other digit, and not 1ST; a digit that ends a word (SS10, KL1) is a number.
 */
const fixWordDigits = (text: string): string =>
  text.replace(/(?<![\p{L}\d])[\p{Lu}10]+(?![\p{L}\d])/gu, (word) =>
    /\p{Lu}.*\p{Lu}/u.test(word) && word !== '1ST' ? word.replace(/[10](?=\p{Lu})/gu, (d) => (d === '1' ? 'I' : 'O')) : word,
  );
/** A short token with small letters after a name in capitals is OCR noise (RESTAURANT MAJU As). */
const cutNoiseTail = (text: string): string =>
  /\p{Lu}{3}/u.test(text) && !/\p{Ll}/u.test(text.replace(/\s\S{1,2}$/u, '')) ? text.replace(/\s(?=\S{1,2}$)\S*\p{Ll}\S*$/u, '') : text;
const balanced = (text: string): boolean => (text.match(/\(/gu) ?? []).length <= (text.match(/\)/gu) ?? []).length;

/**
 * The lines of a name whose legal-form line carries at most one word of it (POPULAR BOOK / CO. (M) SDN BHD,
 * LIAN CHI VEGETARIAN / RESTAURANT SDN BHD): the name line above joins it; a bracket left open
 * (ENTERPRISE (SETIA / ALAM) SDN BHD) takes the line below.
 */
function nameLines(header: readonly string[], at: number, isName: (text: string, i: number) => boolean): number[] {
  const text = header[at]!;
  // CO. (M) SDN BHD: the CO. is part of the legal form (the suffix pattern matches only SDN BHD there).
  const legal = Math.min(COMPANY_SUFFIX.exec(text)!.index, /\bCO\.(?!\w)/iu.exec(text)?.index ?? Infinity);
  const wordsBefore = text.slice(0, legal).trim().split(/\s+/u).filter(Boolean).length;
  const above = header[at - 1] ?? '';
  // The line above joins only in the same lettering: a lower-case line over a capitals name is someone else's (a cashier's, a member's).
  // Only the name part counts: a line that is all legal form (co. (M) SDN BHD) takes any lettering.
  const namePart = text.slice(0, legal);
  const sameCase = !/\p{L}/u.test(namePart) || (above === above.toUpperCase()) === (namePart === namePart.toUpperCase());
  const picked = wordsBefore <= 1 && at > 0 && sameCase && isName(above, at - 1) && !COMPANY_SUFFIX.test(above) ? [at - 1, at] : [at];
  if (!balanced(text) && at + 1 < header.length && /\)/u.test(header[at + 1]!)) picked.push(at + 1);
  return picked;
}

/** An address line is not a name: one with a postcode, a street or area word (JALAN, JL, TAMAN, ...), or a house number and a comma first (3-113, JL ...). */
const ADDRESS_LINE = /(?<!\d)\d{5}(?!\d)|\b(JALAN|JLN|JL|TAMAN|TMN|LORONG|PERSIARAN)\b|^\W*\d[\d/-]*[A-Z]?\s?,/iu;

/** A line less its registration number and label (CO. REG. NO: 000948487-V is nothing; KEDAI MAJU (308282-A) is its name). */
const withoutRegistration = (text: string): string =>
  text.replace(/\(?\s*[A-Z]{0,2}\d{5,}\s*-?\s*[A-Z]?\s*\)?\s*$/iu, '').replace(/\b(CO(MPANY)?|ROC|BRN|SSM|REG(ISTRATION)?|NO)\b\.?/giu, '');

/** The merchant: a top line with a legal-form word, else the first line of the header that reads as a name; without a trailing registration number. */
export function findCompany(lines: readonly FieldLine[]): Field | undefined {
  const header = lines.slice(0, 8).map((line) => cutNoiseTail(fixWordDigits(fixLegalForm(cutLabel(trimMarks(clean(line.text)))))));
  const clear = (i: number): boolean => lines[i]!.confidence >= NOISE_CONFIDENCE;
  const isName = (text: string, i: number): boolean =>
    clear(i) && /[A-Z]{3}/iu.test(withoutRegistration(text)) && !NOT_A_NAME.test(text) && !ADDRESS_LINE.test(withoutRegistration(text));
  // The merchant's block ends at its contact or tax lines: a legal name below them is an owner's (Owned By: ... SDN BHD).
  const contact = header.findIndex((text) => CONTACT.test(text));
  const suffixed = header.findIndex((text, i) => COMPANY_SUFFIX.test(text) && !NOT_A_NAME.test(text) && (contact < 0 || i < contact));
  const at = suffixed >= 0 ? suffixed : header.findIndex(isName);
  if (at < 0) return undefined;
  const picked = suffixed >= 0 ? nameLines(header, at, isName) : [at];
  // A name broken at an ampersand (HOME HARDWARE & / ELECTRICAL) goes on to the next line.
  const endsInAnd = (i: number): boolean => /&$/u.test(clean(lines[i]!.text));
  const last = picked.at(-1)!;
  if (last + 1 < header.length && (endsInAnd(last) || /^&/u.test(clean(lines[last + 1]!.text))) && isName(header[last + 1]!, last + 1)) picked.push(last + 1);
  const joined = picked.map((i) => (endsInAnd(i) ? `${header[i]!} &` : header[i]!)).join(' ');
  // Cut twice: a registration number taken off the end can leave its label's bracket open (Sdn Bhd (Ca. No:20154-T)).
  const value = trimMarks(cutAfterLegalForm(cutAfterLegalForm(joined).replace(/\s*\(?\s*\d{5,}\s*-?\s*[A-Z]?\s*\)?\s*$/iu, '')));
  return { value, lines: picked, confidence: confidenceOf(lines, picked, suffixed >= 0 ? 1 : 0.6) };
}

/** A date label or a time beside the date: the line is the receipt's date line, not an item code or a reference. */
const DATE_LINE = /DATE|\d{1,2}:\d{2}/iu;
const FOUR_DIGIT_YEAR = /(?<!\d)(19|20)\d{2}(?!\d)/u;

/** Day and month with the separator between them dropped, before a four-digit year: 2703/2018. */
const DROPPED_SEPARATOR = /(?<![\d/.-])(\d{2})(\d{2})([/.-])((19|20)\d{2})(?![\d/.-])/u;

/** When no line has a whole date: the first line with one that lost the separator between day and month, at lower confidence. */
function droppedSeparator(lines: readonly FieldLine[]): Field | undefined {
  for (let i = 0; i < lines.length; i++) {
    const m = DROPPED_SEPARATOR.exec(lines[i]!.text);
    const iso = m && parseDate(`${m[1]}${m[3]}${m[2]}${m[3]}${m[4]}`);
    if (iso) return { value: iso, lines: [i], confidence: confidenceOf(lines, [i], 0.6) };
  }
  return undefined;
}

/** The receipt's date as ISO 8601: on a labelled or timed line with a four-digit year if there is one, else the first date printed. */
export function findDate(lines: readonly FieldLine[]): Field | undefined {
  let best: { score: number; field: Field } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.text;
    const iso = parseDate(text);
    if (!iso) continue;
    const score = (DATE_LINE.test(text) ? 2 : 0) + (FOUR_DIGIT_YEAR.test(text) ? 1 : 0);
    if (!best || score > best.score) best = { score, field: { value: iso, lines: [i], confidence: confidenceOf(lines, [i]) } };
  }
  return best?.field ?? droppedSeparator(lines);
}

/** Every receipt field the lines support. */
export function receiptFields(lines: readonly FieldLine[]): ReceiptFields {
  const company = findCompany(lines);
  const address = findAddress(lines, company);
  const date = findDate(lines);
  const total = findTotal(lines);
  return { ...(company ? { company } : {}), ...(date ? { date } : {}), ...(address ? { address } : {}), ...(total ? { total } : {}) };
}
