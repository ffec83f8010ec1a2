import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { idFields, mrzCheckDigit, parsePassportMrz, verhoeffValid } from './ids.ts';
import type { FieldLine } from './receipt.ts';

const lines = (...texts: string[]): FieldLine[] => texts.map((text) => ({ text, confidence: 95 }));

/** The Verhoeff check digit that makes `body` valid (exactly one of ten does). */
function withCheckDigit(body: string): string {
  const valid = [...'0123456789'].filter((d) => verhoeffValid(body + d));
  assert.equal(valid.length, 1);
  return body + valid[0]!;
}

// ICAO 9303 part 4's specimen passport.
const MRZ1 = 'P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<';
const MRZ2 = 'L898902C36UTO7408122F1204159ZE184226B<<<<<10';

void describe('identity numbers', () => {
  void it('checks Verhoeff digits: the textbook 2363 passes, 2364 does not', () => {
    assert.equal(verhoeffValid('2363'), true);
    assert.equal(verhoeffValid('2364'), false);
  });

  void it('computes MRZ check digits with 7-3-1 weights', () => {
    assert.equal(mrzCheckDigit('L898902C3'), 6);
    assert.equal(mrzCheckDigit('740812'), 2);
    assert.equal(mrzCheckDigit('120415'), 9);
  });

  void it('reads the specimen passport MRZ', () => {
    assert.deepEqual(parsePassportMrz(MRZ1, MRZ2, new Date('2026-01-01')), {
      number: 'L898902C3',
      nationality: 'UTO',
      surname: 'ERIKSSON',
      givenNames: 'ANNA MARIA',
      birthDate: '1974-08-12',
      expiryDate: '2012-04-15',
      sex: 'F',
    });
  });

  void it('reads digits in the letter-only fields as the letters OCR mistook for them', () => {
    const misread = parsePassportMrz(MRZ1.replace('ERIKSSON', 'ER1KSS0N'), MRZ2.replace('UTO7408', 'UT07408'), new Date('2026-01-01'));
    assert.deepEqual([misread?.nationality, misread?.surname], ['UTO', 'ERIKSSON']);
  });

  void it('refuses an MRZ whose letter-only fields hold something that is not a letter', () => {
    assert.equal(parsePassportMrz(MRZ1, MRZ2.replace('UTO7408', 'U#O7408')), undefined);
  });

  void it('refuses an MRZ with one character misread', () => {
    assert.equal(parsePassportMrz(MRZ1, MRZ2.replace('L898902C3', 'L898902C8')), undefined);
  });

  const aadhaar = withCheckDigit('23456789012');
  const wrongAadhaar = aadhaar.slice(0, 11) + String((Number(aadhaar[11]) + 1) % 10);
  const cases: [string, FieldLine[], Record<string, unknown>][] = [
    ['a PAN', lines('Permanent Account Number', 'ABCPE1234F'), { pan: 'ABCPE1234F' }],
    ['no PAN whose fourth letter is not a holder type', lines('ABCDE1234F'), {}],
    [
      'an Aadhaar number grouped 4-4-4',
      lines(`${aadhaar.slice(0, 4)} ${aadhaar.slice(4, 8)} ${aadhaar.slice(8)}`),
      { aadhaar: `${aadhaar.slice(0, 4)} ${aadhaar.slice(4, 8)} ${aadhaar.slice(8)}` },
    ],
    ['no Aadhaar number whose check digit fails', lines(wrongAadhaar), {}],
    ['a UDYAM registration', lines('Udyam Registration Number: UDYAM-MH-26-0012345'), { udyam: 'UDYAM-MH-26-0012345' }],
    ['a driving licence', lines('DL No: MH12 20110012345'), { drivingLicence: 'MH12 20110012345' }],
    ['no driving licence with an unknown state code', lines('DL No: ZZ12 20110012345'), {}],
    ['a passport number from the MRZ', lines('REPUBLIC OF UTOPIA', MRZ1, MRZ2), { passport: 'L898902C3' }],
  ];
  for (const [name, input, expected] of cases) {
    void it(`finds ${name}`, () => {
      const found = idFields(input);
      const values = Object.fromEntries(
        Object.entries(found).map(([k, v]) => [k, typeof v.value === 'string' ? v.value : (v.value as { number: string }).number]),
      );
      assert.deepEqual(values, expected);
    });
  }
});
