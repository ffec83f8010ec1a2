import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cer, levenshtein, referenceFromCsv } from './cer.ts';

void describe('character error rate', () => {
  void it('levenshtein counts insertions, deletions and substitutions', () => {
    for (const [a, b, d] of [
      ['', 'abc', 3],
      ['kitten', 'sitting', 3],
      ['same', 'same', 0],
      ['abc', '', 3],
    ] as const) {
      assert.equal(levenshtein(a, b), d, `${a} -> ${b}`);
    }
  });

  void it('cer ignores case and whitespace and divides by the reference length', () => {
    assert.equal(cer('total  12.50', 'TOTAL\n12.50'), 0);
    assert.equal(cer('TOTAL 12.5O', 'TOTAL 12.50'), 1 / 10);
  });

  void it('the reference keeps commas inside a transcript and drops CRLF', () => {
    const csv = '1,2,3,4,5,6,7,8,TOTAL, RM 12,50\r\n1,2,3,4,5,6,7,8,THANK YOU\r\n';
    assert.equal(referenceFromCsv(csv), 'TOTAL, RM 12,50\nTHANK YOU');
  });
});
