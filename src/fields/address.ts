// The merchant's address on a receipt: the lines after its name (and registration number) up to
// the first contact, tax or document line, joined with spaces as printed. OCR slips that address
// grammar can undo (Jaian for JALAN, 8110O for 81100, 290. for 290,) are read back; nothing else is changed.
import { clean, confidenceOf, fixDigits, REGISTRATION, type Field, type FieldLine } from './text.ts';

// Keywords may be glued to what follows (GSTID:, TEL03-), GST to what comes before too ((NO.DGST0012...); TEL and REG not
// inside a word (TELUK, REGENCY).
// COMPANY NO / ROC / BRN: a registration label whose number is on the next line.
const ADDRESS_END =
  /\b(TEL(?![A-Z])|FAX|PHONE|MOBILE|H\/P|REG(?![A-Z])|INVOICE|RECEIPT|DATE|CASHIER|EMAIL|WWW|HTTP|DOC(UMENT)?(?![A-Z])|BILL|TABLE|COMPANY\s*NO|ROC\b|BRN\b)|GST|@|^T\s*:/iu;
const PHONE = /\+?\d{2,4}[-\s]?\d{3,4}[-\s]?\d{4}(?!\d)/u;
// Long words need no boundary after them: OCR often drops the space (JALANPELABUR, LOT3).
const ADDRESS_HINT =
  /\b(JALAN|JLN|TAMAN|TMN|LORONG|STREET|AVENUE|LOT|BLOCK|BLK|FLOOR|FLR|LEVEL|KAWASAN|BANDAR|BDR|PERSIARAN|SELANGOR|JOHOR|KUALA|LUMPUR|PENANG)|\b(ROAD|RD|NO\.?|SS\s?\d+)\b|(?<!\d)\d{5}(?!\d)|^\d+[,.]/iu;

/** A price with a decimal point ends an address (the item rows start); 55,57 in an address is two house numbers. */
const PRICE = /\d\.\d{2}(?!\d)/u;

/** A state or federal territory (or the country) closing a Malaysian or Singaporean address line. */
const STATE_END =
  /\b(JOHOR|KEDAH|KELANTAN|MELAKA|MALACCA|NEGERI SEMBILAN|PAHANG|PENANG|PULAU PINANG|PERAK|PERLIS|SABAH|SARAWAK|SELANGOR|TERENGGANU|KUALA LUMPUR|PUTRAJAYA|LABUAN|MALAYSIA|SINGAPORE)(\s+DARUL\s+[A-Z]+)?\W*$/iu;
/** A five-digit postcode anywhere on a line. */
const POSTCODE = /(?<!\d)\d{5}(?!\d)/u;
/** A state's honorific title printed on the line after it: SELANGOR / DARUL EHSAN. */
const STATE_TITLE = /^\W*DARUL\s?[A-Z]+\W*$/iu;
/** A line that starts with a five-digit postcode (after stray marks): the last or next-to-last line of an address. */
const POSTCODE_FIRST = /^\W*\d{5}\b/u;

/** Address words with an L in them, which OCR reads as I, i, 1 or | (Jaian, JIn) or splits with a speck (JA.LAN). */
const ADDRESS_WORDS = new Set([
  'JALAN',
  'JLN',
  'LORONG',
  'LRG',
  'LEBUH',
  'LEBUHRAYA',
  'PLAZA',
  'LEVEL',
  'LOT',
  'KUALA',
  'LUMPUR',
  'SELANGOR',
  'KLANG',
  'PETALING',
]);
/** Reads a misread address word back: only when the token becomes one of ADDRESS_WORDS, in the token's case. */
function fixAddressWords(text: string): string {
  return text.replace(/(?<![\p{L}\d])[\p{L}1|]+(?:\.[\p{L}1|]+)?(?![\p{L}\d])/gu, (token) => {
    const word = token
      .replace(/\./u, '')
      .replace(/[Ii1|]/gu, 'L')
      .toUpperCase();
    if (word === token.toUpperCase() || !ADDRESS_WORDS.has(word)) return token;
    return token === token.toUpperCase() ? word : word[0] + word.slice(1).toLowerCase();
  });
}

/**
 * Words of Malaysian addresses in general (street, building and area kinds, states and territories, the country;
 * no place names, and no word spelt two ways, as COMPLEKS and KOMPLEKS are) that OCR misreads by a character:
 * SEANGOR, GELANGOR, Perindustian, Henara, L01 for LOT, JA:AN.
 */
const ADDRESS_VOCABULARY = [
  ...ADDRESS_WORDS,
  ...['TAMAN', 'BANDAR', 'KAWASAN', 'PERINDUSTRIAN', 'INDUSTRIAL', 'PERSIARAN', 'SEKSYEN', 'KAMPUNG', 'MUKIM', 'PUSAT'],
  ...['FLOOR', 'GROUND', 'TINGKAT', 'BLOCK', 'UNIT', 'WISMA', 'MENARA', 'BANGUNAN', 'SULTAN'],
  ...['JOHOR', 'KEDAH', 'KELANTAN', 'MELAKA', 'PAHANG', 'PENANG', 'PINANG', 'PERAK', 'PERLIS', 'SABAH', 'SARAWAK', 'TERENGGANU'],
  ...['NEGERI', 'SEMBILAN', 'PUTRAJAYA', 'LABUAN', 'MALAYSIA', 'DARUL', 'EHSAN', 'TAKZIM', 'BAHRU'],
];
/** What OCR reads a printed capital as: L as 1, I, |, ! or t (Jatan), O as 0, T as 1, f or Y (L01, LOf, LOY), S as 5, B as 8, G as 6. */
const LOOKALIKES: Record<string, string> = { L: '1I|!:T', I: '1L|!', O: '0Q', T: '1FY', S: '5$', B: '8', G: '6' };

/** Misread characters of `token` against `word`, or undefined when it is not one misreading away from it. */
function misreadsOf(token: string, word: string): number | undefined {
  if (token.length === word.length) {
    let hard = 0;
    for (let i = 0; i < word.length; i++) if (token[i] !== word[i] && !LOOKALIKES[word[i]!]?.includes(token[i]!)) hard++;
    // A letter read as another letter only in a long word (six letters and up), where that leaves no other word.
    return hard <= (word.length >= 6 ? 1 : 0) ? 1 + hard : undefined;
  }
  // A letter dropped, in a long word only (SEANGOR, SLANGOR).
  if (token.length === word.length - 1 && word.length >= 6) {
    for (let i = 0; i < word.length; i++) if (word.slice(0, i) + word.slice(i + 1) === token) return 2;
  }
  return undefined;
}

/** Reads a token back as the one address word it is a misreading of (in the token's case), when exactly one fits best. */
function repairAddressWords(text: string): string {
  return text.replace(/(?<![\p{L}\d])[\p{L}\d|!]+(?::[\p{L}]+)?(?![\p{L}\d])/gu, (token) => {
    const upper = token.toUpperCase();
    // Three characters or more, a letter among them (L01 is LOT; 101 stays a number).
    if (upper.length < 3 || !/\p{L}/u.test(upper) || ADDRESS_VOCABULARY.includes(upper)) return token;
    let best: { word: string; cost: number } | undefined;
    let tie = false;
    for (const word of ADDRESS_VOCABULARY) {
      const cost = misreadsOf(upper, word);
      if (cost === undefined) continue;
      if (!best || cost < best.cost) [best, tie] = [{ word, cost }, false];
      else if (cost === best.cost && word !== best.word) tie = true;
    }
    if (!best || tie) return token;
    return token === upper ? best.word : best.word[0] + best.word.slice(1).toLowerCase();
  });
}
/**
 * Specks OCR reads between the words of an address: a mark standing alone (| ~ = — “ ‘ and the like, or a colon that
 * follows no NO label: SC : JLN), and a lone small letter before a capital at the start of the line (e Lot 3).
 * A dollar sign next to a letter or digit is an S (\$516/1 for SS16/1).
 */
const dropSpecks = (text: string): string =>
  text
    .replace(/(?<=^|\s)[|~=—–“”‘’"<>•·_]+(?=\s|$)/gu, '')
    .replace(/(?<!\bNO\.?)\s:(?=\s|$)/giu, '')
    .replace(/^\p{Ll}\s(?=\p{Lu})/u, '')
    .replace(/\$(?=[\p{L}\d$])/gu, 'S')
    .replace(/\s+/gu, ' ')
    .trim();
/** Inside a number, i, l, I or | is the digit 1 (8i750, 7/1l8B). */
const fixNumberOnes = (text: string): string => text.replace(/(?<=\d)[ilI|](?=\d)/gu, '1');

/**
 * Inside an address a number or a whole word is followed by a comma, not a full stop (in SROIE's
 * keys about 440 to 6 after a word of four letters or more, 300 to 2 after a number); OCR often reads
 * the comma as a point (NO 290. JALAN, TAMAN DAYA. 81100). Abbreviations (NO., JLN., P.T.) and the
 * point that ends the address are kept.
 */
const fixStops = (text: string): string =>
  text
    // A semicolon inside an address is a comma OCR misread (JALAN KLANG LAMA; 46000).
    .replace(/;(?=\s*[\p{L}\d])/gu, ',')
    .replace(/(?<![\d.])(\d+)\.(?=\s*\p{L})/gu, '$1,')
    .replace(/(?<=(?<![\p{L}.])\p{L}{4,})\.(?=\s*[\p{L}\d])/gu, ',');
/** And inside a word 0 is the letter O (L0T, GROUND FL00R). */
const fixWordZeros = (text: string): string => text.replace(/(?<=\p{L})0+(?=\p{L})/gu, (zeros) => 'O'.repeat(zeros.length));

/** Not part of an address: a contact, tax, document or registration line, or an item row with a price. */
const endsAddress = (text: string): boolean => ADDRESS_END.test(text) || REGISTRATION.test(text) || PRICE.test(text);

/** A line wholly in brackets is a note on the name (a branch, a shop code), not where the address starts. */
const bracketed = (text: string): boolean => /^\(.*\)$/u.test(text);

/** The first of the few lines after `from` that reads as an address, or -1. */
function addressStart(texts: readonly string[], from: number): number {
  for (let i = from; i < Math.min(texts.length, from + 6); i++) {
    const text = texts[i]!;
    if (!ADDRESS_HINT.test(text) || endsAddress(text) || bracketed(text)) continue;
    // An address rarely starts with its postcode line: the street lines above it (misread, without a
    // street word) belong to it, up to the company or a registration, tax or contact line. So does a
    // unit or building line ending in a comma above the street line (A-G-06, DATARAN GLOMAC,).
    let start = i;
    const above = (): string => texts[start - 1]!;
    while (
      start > from &&
      !endsAddress(above()) &&
      !bracketed(above()) &&
      ((POSTCODE_FIRST.test(text) && i - start < 2) || (/,$/u.test(above()) && i - start < 2))
    )
      start--;
    return start;
  }
  return -1;
}

/**
 * Whether the address goes on to line `text` after line `previous`: a line ending in a comma or a postcode leads on;
 * a street word, postcode, state or a state's title (DARUL EHSAN on its own line) is part of one; and a
 * line between the street and the postcode line is too (a district name without a street word).
 */
const continuesAddress = (previous: string, text: string, next: string): boolean =>
  /(,|(?<!\d)\d{5})$/u.test(previous) ||
  /,$/u.test(text) ||
  ADDRESS_HINT.test(text) ||
  STATE_END.test(text) ||
  STATE_TITLE.test(text) ||
  (POSTCODE.test(next) && !endsAddress(next));

/**
 * The address: from the first line after the company that reads as one, while the lines read as its
 * continuation, until a contact, tax, document or price line. (A state name does not end it: DARUL EHSAN or the
 * country may follow on the next line.)
 */
export function findAddress(lines: readonly FieldLine[], company: Field | undefined): Field | undefined {
  const texts = lines.map((line) => repairAddressWords(fixAddressWords(fixWordZeros(fixNumberOnes(fixDigits(dropSpecks(clean(line.text))))))));
  const start = addressStart(texts, (company?.lines.at(-1) ?? -1) + 1);
  if (start < 0) return undefined;
  const picked: number[] = [];
  const parts: string[] = [];
  for (let i = start; i < Math.min(texts.length, start + 5); i++) {
    const text = texts[i]!;
    if (endsAddress(text) || (i > start && !continuesAddress(texts[i - 1]!, text, texts[i + 1] ?? ''))) break;
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
  return { value: fixStops(parts.join(' ')), lines: picked, confidence: confidenceOf(lines, picked, 0.8) };
}
