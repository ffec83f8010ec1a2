// Dates as receipts print them, to ISO 8601. Day-first is assumed for numeric dates (the
// convention outside North America and on the receipts the benchmark reads), unless the first
// number cannot be a day or the year comes first. A date that does not exist is not a date.
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

const YEAR_FIRST = /(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)/u;
// The same separator twice (06-07-6/24 is not a date), not glued to a word or number before it.
// A two-digit year does not run on into more groups (05.22.95.66.66 is a phone number).
const DAY_FIRST = /(?<![\dA-Z])(\d{1,2})\s?([-/.])\s?(\d{1,2})\s?\2\s?(\d{4}|\d{2}(?![-/.]\d))(?!\d)/iu;
// The day is not the tail of a word or number (r0jan 27/02/2018: a name, then the date).
const NAMED_MONTH = /(?<![\d\p{L}])(\d{1,2})[\s/.-]*(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*[\s/.,-]*(\d{4}|\d{2})(?!\d)/iu;
/** The month named first, as in English-language US style: OCT 3, 2016; Oct 03 2016 (a four-digit year only). */
const MONTH_FIRST = /(?<![A-Z])(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*\.?\s*(\d{1,2}),?\s+(\d{4})(?!\d)/iu;

function fullYear(year: string): number {
  const n = Number(year);
  return year.length === 2 ? 2000 + n : n;
}

/** YYYY-MM-DD, or undefined when the parts are not a real date (31/02, month 13). */
export function isoDate(year: number, month: number, day: number): string | undefined {
  if (year < 1900 || year > 2199 || month < 1 || month > 12 || day < 1) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1) return undefined;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The first date in `text`, as ISO 8601. */
export function parseDate(raw: string): string | undefined {
  // OCR often glues the time to the year (25/12/20188:13:39PM, 03/06/1800:23, 15 Jun 1808:34) and the label to the
  // date (Date04-04-2018). Four digits before a colon are a year only when they read as one (19xx, 20xx).
  const text = raw
    .replace(/(\d{4})(\d{1,2}:\d{2})/gu, '$1 $2')
    .replace(/(?<=[-/.\sA-Z])(\d{2})(\d{2}:\d{2})/giu, (glued: string, year: string, time: string) =>
      /^(19|20)\d{2}$/u.test(glued.slice(0, 4)) ? glued : `${year} ${time}`,
    )
    .replace(/(DATE)(?=\d)/giu, '$1 ');
  const ymd = YEAR_FIRST.exec(text);
  if (ymd) return isoDate(Number(ymd[1]), Number(ymd[2]), Number(ymd[3]));
  // A named month that gives no real date (0 JAN 27) does not hide a numeric date after it.
  const named = NAMED_MONTH.exec(text);
  const namedIso = named && isoDate(fullYear(named[3]!), MONTHS.indexOf(named[2]!.slice(0, 3).toUpperCase()) + 1, Number(named[1]));
  if (namedIso) return namedIso;
  const mdy = MONTH_FIRST.exec(text);
  const mdyIso = mdy && isoDate(Number(mdy[3]), MONTHS.indexOf(mdy[1]!.slice(0, 3).toUpperCase()) + 1, Number(mdy[2]));
  if (mdyIso) return mdyIso;
  const dmy = DAY_FIRST.exec(text);
  if (!dmy) return undefined;
  const [a, b, year] = [Number(dmy[1]), Number(dmy[3]), fullYear(dmy[4]!)];
  // 12/25/2018 can only be month first.
  return a <= 12 && b > 12 ? isoDate(year, a, b) : isoDate(year, b, a);
}
