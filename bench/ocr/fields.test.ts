import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { amount, comparable, keyDate, scoreFields, type ReceiptKey } from './fields.ts';
import type { ReceiptFields } from '../../src/fields/receipt.ts';

const found = (values: Partial<Record<'company' | 'date' | 'address' | 'total', string>>): ReceiptFields =>
  Object.fromEntries(Object.entries(values).map(([field, value]) => [field, { value, lines: [0], confidence: 1 }]));

void describe('receipt-field scoring (exact match after normalising case, spaces, dates and amounts)', () => {
  const cases: [string, ReceiptKey, ReceiptFields, 0 | 1][] = [
    ['case and spaces do not count', { company: 'BOOK TA .K (TAMAN DAYA) SDN BHD' }, found({ company: 'Book Ta .K(TAMAN  DAYA) SDN BHD' }), 1],
    [
      'a double space or a trailing space in the key does not count',
      { address: 'NO 1,  JALAN 2, 81100 JOHOR ' },
      found({ address: 'NO 1, JALAN 2, 81100 JOHOR' }),
      1,
    ],
    ['a comma does count', { address: 'NO 1, JALAN 2, 81100 JOHOR' }, found({ address: 'NO 1 JALAN 2, 81100 JOHOR' }), 0],
    [
      'a trailing comma or stop in the key counts: punctuation is not normalised',
      { address: 'NO 1, JALAN 2, 81100 JOHOR.' },
      found({ address: 'NO 1, JALAN 2, 81100 JOHOR' }),
      0,
    ],
    ['a day-first key date matches the ISO date', { date: '25/12/2018' }, found({ date: '2018-12-25' }), 1],
    ['a key date written without separators, year first, matches', { date: '20180304' }, found({ date: '2018-03-04' }), 1],
    ['a key date written without separators, day first, matches', { date: '25032018' }, found({ date: '2018-03-25' }), 1],
    ['a key date with the month named first matches', { date: 'OCT 3, 2016' }, found({ date: '2016-10-03' }), 1],
    ['a different date does not', { date: '25/12/2018' }, found({ date: '2018-12-26' }), 0],
    ['an amount with a currency and one decimal matches two decimals', { total: 'RM 43.7' }, found({ total: '43.70' }), 1],
    ['an amount with a thousands separator matches', { total: '1,234.50' }, found({ total: '1234.50' }), 1],
    ['a negative key amount is not its absolute value', { total: '-1.73' }, found({ total: '1.73' }), 0],
    ['a field not found is a miss', { total: '9.00' }, found({}), 0],
  ];
  for (const [name, key, fields, hit] of cases) {
    void it(name, () => {
      const score = scoreFields(key, fields);
      const field = Object.keys(key)[0] as keyof ReceiptKey;
      assert.deepEqual(score[field], { hit, of: 1 });
    });
  }

  void it('a key without the field (or with it empty) is not scored', () => {
    assert.equal(comparable('total', { total: ' ' }, found({ total: '1.00' })), undefined);
    assert.deepEqual(scoreFields({ company: 'A' }, found({})).date, { hit: 0, of: 0 });
  });

  void it('an amount or a date with nothing to read is left as text, not zero', () => {
    assert.equal(amount('N/A'), undefined);
    assert.equal(keyDate('12345678'), undefined);
  });
});
