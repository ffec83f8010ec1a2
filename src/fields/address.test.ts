import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findAddress } from './address.ts';
import type { FieldLine } from './text.ts';

const lines = (...texts: string[]): FieldLine[] => texts.map((text) => ({ text, confidence: 90 }));
const COMPANY = { value: 'KEDAI MAJU SDN BHD', lines: [0], confidence: 0.9 };

void describe('receipt address', () => {
  const cases: [string, string[], string | undefined][] = [
    [
      'joins the lines after the name and registration number with spaces, up to the phone line',
      ['KEDAI MAJU SDN BHD', '(123456-K)', 'NO 12, JALAN MAWAR 3,', 'TAMAN BUNGA,', '43000 KAJANG, SELANGOR.', 'TEL: 03-8736 1234'],
      'NO 12, JALAN MAWAR 3, TAMAN BUNGA, 43000 KAJANG, SELANGOR.',
    ],
    [
      'starts on the street line above a postcode line even when OCR misread the street word',
      ['KEDAI MAJU SDN BHD', 'Jaian Kenari Permai', '47100 Puchong', 'Selangor', 'Pam Station Kenari', 'GST REG NO: 000111222333'],
      'Jalan Kenari Permai 47100 Puchong Selangor',
    ],
    [
      'stops at a line that neither follows a comma nor reads as an address (an item name)',
      ['KEDAI MAJU SDN BHD', 'GST:000111222333', 'TAX INVOICE', 'NO9,JLN MERAK,KLANG.', '24" PLASTIC BASIN', 'TOTAL 12.00'],
      'NO9,JLN MERAK,KLANG.',
    ],
    [
      'goes on to a place name after a line ending in a comma',
      ['KEDAI MAJU SDN BHD', '88, SS15/4C,', 'SUBANG JAYA', 'GST ID : 000111222333'],
      '88, SS15/4C, SUBANG JAYA',
    ],
    [
      'reads back address words with I or i for L and a speck inside (JIn, Jaian, JA.LAN)',
      ['KEDAI MAJU SDN BHD', 'NO.7, JA.LAN SS2/1, JIn Besar', 'TEL 03-1111 2222'],
      'NO.7, JALAN SS2/1, Jln Besar',
    ],
    [
      'reads O for 0 in a postcode and N0 for the abbreviation NO',
      ['KEDAI MAJU SDN BHD', 'N07, JALAN BUKIT 2,', '8110O JOHOR BAHRU', 'TEL 07-111 2222'],
      'NO7, JALAN BUKIT 2, 81100 JOHOR BAHRU',
    ],
    [
      'reads a point after a house number or postcode as the comma it is',
      ['KEDAI MAJU SDN BHD', 'NO 51. JALAN RIA,', '53100. KUALA LUMPUR', 'TEL 03-1111 2222'],
      'NO 51, JALAN RIA, 53100, KUALA LUMPUR',
    ],
    [
      'takes a district line between the street and the postcode line',
      ['KEDAI MAJU SDN BHD', '13.JLN MERANTI 8', 'MEDAN NIAGA SG BESI', '57000 KL', 'INVOICE'],
      '13,JLN MERANTI 8 MEDAN NIAGA SG BESI 57000 KL',
    ],
    [
      'takes DARUL EHSAN on the line after the state',
      ['KEDAI MAJU SDN BHD', 'NO.3, JALAN SATU,', '43300 SERI KEMBANGAN, SELANGOR', 'DARUL EHSAN', 'GST ID: 0001'],
      'NO.3, JALAN SATU, 43300 SERI KEMBANGAN, SELANGOR DARUL EHSAN',
    ],
    [
      'takes the town on the line after a line ending in the postcode',
      ['KEDAI MAJU SDN BHD', 'NO.2 JALAN PRIMA U13 40170', 'SETIA ALAM', 'TAX INVOICE'],
      'NO.2 JALAN PRIMA U13 40170 SETIA ALAM',
    ],
    [
      'starts at a unit line ending in a comma above the street line',
      ['KEDAI MAJU SDN BHD', 'A-G-06, DATARAN MAJU,', 'JALAN SS6/5A, KELANA JAYA,', '47301 PETALING JAYA', 'GST ID: 0001'],
      'A-G-06, DATARAN MAJU, JALAN SS6/5A, KELANA JAYA, 47301 PETALING JAYA',
    ],
    [
      'skips a registration line with its label',
      ['KEDAI MAJU SDN BHD', 'COMPANY NO: SA0127959-D', 'LOT 48, JALAN ULU,', '54200 KUALA LUMPUR'],
      'LOT 48, JALAN ULU, 54200 KUALA LUMPUR',
    ],
    ['does not start at a date glued to a time (20181 is not a postcode)', ['KEDAI MAJU SDN BHD', '05May201818:21', '(867388-U)', 'TAX INVOICE'], undefined],
    [
      'reads GROUND FL00R with zeros as FLOOR',
      ['KEDAI MAJU SDN BHD', 'LOT G1, GROUND FL00R,', '47500 PETALING JAYA'],
      'LOT G1, GROUND FLOOR, 47500 PETALING JAYA',
    ],
    ['reads L0T with a zero as LOT', ['KEDAI MAJU SDN BHD', 'L0T 18, JALAN KPB 6,', '43300 SERI KEMBANGAN'], 'LOT 18, JALAN KPB 6, 43300 SERI KEMBANGAN'],
    [
      'reads a point after a whole word inside the address as a comma, and keeps it after an abbreviation and at the end',
      ['KEDAI MAJU SDN BHD', 'LOT P.T. 28, JLN. MAWAR. TAMAN BUNGA.', '43000 KAJANG. SELANGOR.', 'TEL 03-1111 2222'],
      'LOT P.T. 28, JLN. MAWAR, TAMAN BUNGA, 43000 KAJANG, SELANGOR.',
    ],
    [
      'reads back an address word OCR misread by a letter: one dropped (SEANGOR), one lookalike (JA:AN, L01, Henara)',
      ['KEDAI MAJU SDN BHD', 'L01 5, JA:AN SS4C/5, Henara Maju,', 'PETALING JAYA', 'SEANGOR DARUL EHSAN', 'TEL :012-2060 778'],
      'LOT 5, JALAN SS4C/5, Menara Maju, PETALING JAYA SELANGOR DARUL EHSAN',
    ],
    [
      'reads a letter for a letter only in a long address word, and leaves other words alone',
      ['KEDAI MAJU SDN BHD', 'NO 3, JALAN JAPAN, TAMAN BUNGA,', '47500 SUBANG JAYA, GELANGOR', 'TEL 03-1111 2222'],
      'NO 3, JALAN JAPAN, TAMAN BUNGA, 47500 SUBANG JAYA, SELANGOR',
    ],
    [
      'reads i or l inside a number as 1 (8i750, 7/1l8B)',
      ['KEDAI MAJU SDN BHD', 'No 8, Jalan 7/1l8B,', '8i750 Masai Johor'],
      'No 8, Jalan 7/118B, 81750 Masai Johor',
    ],
    [
      'reads a semicolon inside the address as a comma',
      ['KEDAI MAJU SDN BHD', 'LOT 1504, JALAN KLANG LAMA; 46000 PETALING JAYA, SELANGOR.', 'TEL 03-1111 2222'],
      'LOT 1504, JALAN KLANG LAMA, 46000 PETALING JAYA, SELANGOR.',
    ],
    [
      'does not start at a line wholly in brackets (a shop code with five digits is not a postcode)',
      ['KEDAI MAJU SDN BHD', '(MAJU SHOP (95874))', 'UNIT L1-044B, MAJU MALL,', 'JALAN WAN ALWI,', '93350 KUCHING, SARAWAK.', 'GST ID : 000349356032'],
      'UNIT L1-044B, MAJU MALL, JALAN WAN ALWI, 93350 KUCHING, SARAWAK.',
    ],
    [
      'ends at a GST number glued to the word before it',
      ['KEDAI MAJU SDN BHD', '69,JALAN SATU 3/9', '43200 CHERAS', 'SELANGOR', '(NO.DGST001226018816)'],
      '69,JALAN SATU 3/9 43200 CHERAS SELANGOR',
    ],
    [
      'drops specks OCR read between the words, and keeps the colon after NO',
      ['KEDAI MAJU SDN BHD', '“ LOT NO : 20, MAJU SC : JLN SATU, —', 'TAMAN MAJU | CHERAS, 55100 KUALA LUMPUR :', 'TEL 03-1111 2222'],
      'LOT NO : 20, MAJU SC JLN SATU, TAMAN MAJU CHERAS, 55100 KUALA LUMPUR',
    ],
    [
      'drops a lone small letter before the first word and reads $ as S',
      ['KEDAI MAJU SDN BHD', 'e Lot 3, Jalan $516/1,', '40300 Shah Alam'],
      'Lot 3, Jalan S516/1, 40300 Shah Alam',
    ],
    [
      'reads LOY, LOf and Jatan back as LOT and JALAN',
      ['KEDAI MAJU SDN BHD', 'LOY 3, Jatan Satu,', 'LOf 5, 40300 Shah Alam'],
      'LOT 3, Jalan Satu, Lot 5, 40300 Shah Alam',
    ],
    ['keeps a point inside a number (a price line is not an address)', ['KEDAI MAJU SDN BHD', 'ROTI 2.50'], undefined],
    ['finds nothing when no line after the name reads as an address', ['KEDAI MAJU SDN BHD', 'TAX INVOICE', 'THANK YOU'], undefined],
  ];
  for (const [name, input, value] of cases) void it(name, () => assert.equal(findAddress(lines(...input), COMPANY)?.value, value));

  void it('names the lines the address came from', () => {
    const address = findAddress(lines('KEDAI MAJU SDN BHD', '(123456-K)', 'LOT 5, JALAN SATU,', '50000 KUALA LUMPUR', 'TEL 03-1111 2222'), COMPANY);
    assert.deepEqual(address?.lines, [2, 3]);
  });
});
