import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDate } from './dates.ts';

void describe('dates on receipts', () => {
  const cases: [string, string, string | undefined][] = [
    ['a day-first date with slashes', 'Date: 25/12/2018', '2018-12-25'],
    ['a day-first date with dashes and a two-digit year', '25-06-18 11:25 SH01', '2018-06-25'],
    ['a year-first date', 'Printed 2018-03-12 10:00', '2018-03-12'],
    ['a named month', 'BIZDATE 04 JUN 2018 18:28', '2018-06-04'],
    ['a date whose year is glued to the time', 'Date: 25/12/20188:13:39PM', '2018-12-25'],
    ['a month-first date when the second number cannot be a month', '12/25/2018', '2018-12-25'],
    ['no date where the separators differ', 'GA06-07-6/24', undefined],
    ['no date that does not exist', '31/02/2018', undefined],
    ['no date in a phone number', 'TEL 03-7731 8169', undefined],
    ['no date in a phone number written with points', 'Tel.: 05.22.95.66.66', undefined],
    ['a date glued to its label', 'Date04-04-2018 14:26:20', '2018-04-04'],
    ['a two-digit year glued to the time', '03/06/1800:23 34001 01', '2018-06-03'],
    ['a named month with a two-digit year glued to the time', '15 Jun 1808:34:31 PM', '2018-06-15'],
    ['a month named first, with a comma before the year', 'OCT 3, 2016 10:12 AM', '2016-10-03'],
    ['a month named first, without the comma', 'Date: Mar 09 2018', '2018-03-09'],
    ['no date from a month named first without a four-digit year', 'JUN 12 18', undefined],
    ['a numeric date after a name that ends in a digit and a month name', 'Served by: r0jan 27/02/2018 15:32:47', '2018-02-27'],
    ['no date in plain text', 'THANK YOU', undefined],
  ];
  for (const [name, text, iso] of cases) void it(`reads ${name}`, () => assert.equal(parseDate(text), iso));
});
