import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findAddress, findCompany, findDate, findTotal, receiptFields, type FieldLine } from './receipt.ts';

const lines = (...texts: string[]): FieldLine[] => texts.map((text) => ({ text, confidence: 90 }));

const RECEIPT = lines(
  'BOOK TA .K (TAMAN DAYA) SDN BHD',
  '789417-W',
  'NO.53 55,57 & 59, JALAN SAGU 18,',
  'TAMAN DAYA,',
  '81100 JOHOR BAHRU, JOHOR.',
  'TEL: 07-3507405',
  'TAX INVOICE',
  'Date: 25/12/2018 8:13:39 PM',
  'SUBTOTAL 8.49',
  'GST 6% 0.51',
  'Total: 9.00',
  'Rounded Total (RM): 9.00',
  'CASH 10.00',
);

void describe('receipt fields', () => {
  void it('reads company, date, address and total from a receipt, each with the lines it came from', () => {
    const fields = receiptFields(RECEIPT);
    assert.equal(fields.company?.value, 'BOOK TA .K (TAMAN DAYA) SDN BHD');
    assert.deepEqual(fields.company?.lines, [0]);
    assert.equal(fields.date?.value, '2018-12-25');
    assert.deepEqual(fields.date?.lines, [7]);
    assert.equal(fields.address?.value, 'NO.53 55,57 & 59, JALAN SAGU 18, TAMAN DAYA, 81100 JOHOR BAHRU, JOHOR.');
    assert.deepEqual(fields.address?.lines, [2, 3, 4]);
    assert.equal(fields.total?.value, '9.00');
    assert.equal(fields.total?.currency, 'RM');
    for (const field of Object.values(fields)) assert.ok(field.confidence > 0 && field.confidence <= 1);
  });

  void it('invents nothing: lines without the fields give no fields', () => {
    assert.deepEqual(receiptFields(lines('THANK YOU', 'PLEASE COME AGAIN')), {});
    assert.deepEqual(receiptFields([]), {});
  });

  const totals: [string, FieldLine[], string | undefined][] = [
    ['the largest amount on a TOTAL row wins over subtotal and cash', lines('SUB TOTAL 20.00', 'TOTAL 21.20', 'CASH 50.00'), '21.20'],
    ['an amount on the row after a lone TOTAL label', lines('TOTAL', '45.60'), '45.60'],
    ['a point read as a dash', lines('TOTAL 22-60'), '22.60'],
    ['a comma as decimal separator', lines('Gesamtbetrag TOTAL 12,50'), '12.50'],
    ['thousands separators', lines('GRAND TOTAL 1,234.50'), '1234.50'],
    ['a total-quantity row is not the total', lines('TOTAL QTY 3.00'), undefined],
    ['the subtotal when no total is printed', lines('SUBTOTAL RM20.40'), '20.40'],
    ['TOTAL misread as ioial or lota! is still the total row', lines('ioial Sales (Incl. GST) RM36.10', 'Net lota! RM36.10', 'GST 6% 2.04'), '36.10'],
    ['paid less change settles a misread total', lines('SUB-TOTAL 4.00', 'TOTAL 4.80', 'CASH 20.00', 'CHANGE 16.00'), '4.00'],
    [
      'paid less change picks the rounded total',
      lines('Total Sales 127.37', 'Rounding Adj -0.02', 'Total After Adj 127.35', 'CASH 150.00', 'Change Amt 22.65'),
      '127.35',
    ],
    ['change printed as .00 still proves the total', lines('Total Sales RM 77.22', 'Rounding RM 77.20', 'CREDIT RM 77.20', 'CHANGE RM .00'), '77.20'],
    ['an amount tendered printed as a total is not the total', lines('Total amount 1.50', 'Accepted total 2.00', 'Change 0.50'), '1.50'],
    ['paid less change that no row above shows proves nothing', lines('TOTAL 9.00', 'CASH 50.00', 'CHANGE 40.00'), '9.00'],
    [
      'cash handed over printed as a negative still proves the total',
      lines('Total Incl. GST 31.47', 'Rounding Adj -0.02', 'Total RM 31.45', 'Cash -50.00', 'CHANGE 18.55'),
      '31.45',
    ],
    ['the amount paid with no change is the total when no TOTAL row was read', lines('SUB-TOTAL 92.50', 'GST 1.50', 'CASH 94.00', 'CHANGE 0.00'), '94.00'],
    ['a TOTAL row wins over the amount paid with no change', lines('TOTAL 18.00', 'CASH 1 718.00', 'CHANGE 0.00'), '18.00'],
    [
      'the total after the rounding row, a few cents below the unrounded one',
      lines('Total (Inclusive of GST): 65.72', 'Rounding Adj -0.02', 'TOTAL: 65.70', 'GST Summary', 'Total 62.00 3.72'),
      '65.70',
    ],
    [
      'TOTAL PAYABLE wins over larger TOTAL rows',
      lines('GROUND FLOOR, NO.4', 'Total 0% supplies: 11.10', 'Total 6% supplies (Inc. GST): -7.89', 'Total Payable: 3.21'),
      '3.21',
    ],
    ['a space OCR put after the decimal point', lines('Total Amount Payable: 72. 00', 'Cash Received : 100.00', 'Change : 28. 00'), '72.00'],
    ['the net amount is the amount to pay', lines('GST (6%): 2.86', 'Net Amt : 53.55', 'GST Summary Amount(RM) Tax(RM)', 'SR @ 6% 47.80 2.86'), '53.55'],
    ['with no TOTAL row and no change row, the amount under CASH', lines('DPI.05 RM 149.00', 'DPI.04 R 21.00', 'CASH', 'RM 170. 00'), '170.00'],
    ['with a change row that proves nothing, the amount under CASH is not taken', lines('ITEM 149.00', 'CASH 200.00', 'CHANGE 10.00'), undefined],
    [
      'TOTAL PAYABLE misread (Payal.e) still names the amount to pay',
      lines('Total 6% supplies (Inc.GST): 15.52', 'Total 0%supple -9.62', 'Total Payal.e: 5.90'),
      '5.90',
    ],
    [
      'paid less change within rounding of the TOTAL row above a rounding row, when the rounded total was not read',
      lines('Total (Inclusive of GST): 48.16', 'Rounding Ad}: -0.01', 'CASH : 50.00', 'CHANGE : 1.85'),
      '48.15',
    ],
    ['paid less change far from every TOTAL row proves nothing', lines('Total: 48.16', 'Rounding Adj: -0.01', 'CASH : 50.00', 'CHANGE : 0.85'), '48.16'],
    ['a total whose decimal point OCR read as a space', lines('Total Sales Incl GST 4B 54', 'Rounding Adj (.01', 'Total] After Adj Incl GST 46 55'), '46.55'],
  ];
  for (const [name, input, value] of totals) void it(`total: ${name}`, () => assert.equal(findTotal(input)?.value, value));

  const companies: [string, FieldLine[], string | undefined][] = [
    ['a table rule or speck OCR put before or after the name is dropped', lines('| KEDAI MAJU HARDWARE #'), 'KEDAI MAJU HARDWARE'],
    ['SDN BHD misread as SON 8HD is read back', lines('KEDAI MAJU SON 8HD', 'NO 1, JALAN SATU'), 'KEDAI MAJU SDN BHD'],
    [
      'a low-confidence logo line above the name is skipped',
      [
        { text: 'I. NE RRR EEE', confidence: 20 },
        { text: 'KEDAI MAJU', confidence: 90 },
      ],
      'KEDAI MAJU',
    ],
    ['a misread TAX INVOICE heading is not the name', lines('TAX INVQICE', 'KEDAI MAJU'), 'KEDAI MAJU'],
    ['a person named above the registered name does not win over it', lines('TAN AH KOW', 'KEDAI MAJU SDN BHD'), 'KEDAI MAJU SDN BHD'],
    ['a name broken before its legal form takes the line above', lines('POPULAR PAPER', 'CO. (M) SDN BHD', 'NO 8, JALAN 7/1'), 'POPULAR PAPER CO. (M) SDN BHD'],
    [
      'a name broken at an ampersand takes the next line',
      lines('HOME MAJU HARDWARE &', 'ELECTRICAL', 'NO.113G, JALAN SETIA'),
      'HOME MAJU HARDWARE & ELECTRICAL',
    ],
    [
      'a bracket left open takes the line below',
      lines('AIK MAJU HARDWARE', 'ENTERPRISE (BUKIT', 'INDAH) SDN BHD', '822737-X'),
      'AIK MAJU HARDWARE ENTERPRISE (BUKIT INDAH) SDN BHD',
    ],
    ['a name with two words before its legal form stands alone', lines('tan ah kow', 'KEDAI MAJU TRADING'), 'KEDAI MAJU TRADING'],
    ['a legal form glued to the name is found, and a lower-case line above does not join it', lines('tan ah kow', 'KEDAIMAJUTRADING'), 'KEDAIMAJUTRADING'],
    [
      'a legal name below the contact lines is an owner, not the shop',
      lines('KEDAI MAJU STATIONERY', 'NO.3, JALAN SATU', 'Tel:+603-3362 4137', 'GST ID No:0015', 'Owned By :', 'MAJU SUPPLY SDN BHD'),
      'KEDAI MAJU STATIONERY',
    ],
    ['an @ in a shop name is not an e-mail line', lines('KOPI MAJU @ 1 UTAMA', 'LITTLE MAJU SDN BHD', 'TEL 03-1111 2222'), 'LITTLE MAJU SDN BHD'],
    [
      'Sdn Bhd in small letters on its own line takes the name above',
      lines('PERI-PERI', 'Nando Maju Malaysia', 'Sdn Bhd', 'Unit G-13'),
      'Nando Maju Malaysia Sdn Bhd',
    ],
    ['S/B misread as 5/B before the registration number is read back', lines('99 MAJU MART 5/B(519537-X)', 'LOT 5, JALAN 5/B'), '99 MAJU MART S/B'],
    ['a road numbered 5/B is not read as S/B', lines('KEDAI MAJU', 'LOT 5, JALAN 5/B'), 'KEDAI MAJU'],
    ['SDN BHD misread as SIN BHD or SDN 3HD is read back', lines('KEDAI MAJU (SETIA) SIN 3HD'), 'KEDAI MAJU (SETIA) SDN BHD'],
    ['a date or registration label after the legal form is cut', lines('KEDAI MAJU SDN BHD 09Apr2018 18:26'), 'KEDAI MAJU SDN BHD'],
    ['a registration label in brackets after the legal form is cut', lines('KEDAI MAJU SDN BHD (CO.NO 12345-A)'), 'KEDAI MAJU SDN BHD'],
    ['a notice above the name is not the name', lines('GOODS SOLD ARE NOT RETURNABLE', 'MAJU CASH & CARRY', 'NO. 15, JLN SATU'), 'MAJU CASH & CARRY'],
    ['SDN BHD with S read as 5 or D as T is read back', lines('KEDAI MAJU 5DN BHT'), 'KEDAI MAJU SDN BHD'],
    ['BHD read as 8HD after a bracket, and SDN BHD read as SDN BAD', lines('AEON MAJU CO. (H) 8HD', 'MAJU SDN BAD'), 'AEON MAJU CO. (H) BHD'],
    ['SDN BHD read as SDN BAD', lines('KEDAI MAJU SDN BAD'), 'KEDAI MAJU SDN BHD'],
    ['an underscore between the name and its legal form is a space', lines('MAJU HANDEL_SDN BHD'), 'MAJU HANDEL SDN BHD'],
    ['S/B read as 5/8 before a registration number with a letter in it', lines('99 MAJU MART 5/8 (519S37-X)', 'LOT 5, JALAN SATU'), '99 MAJU MART S/B'],
    ['a phone line is not the name', lines('Mobile /Whatsapps : +6012-918 7937', 'KEDAI MAJU'), 'KEDAI MAJU'],
    ['a long registration number after the name is not a phone number', lines('Cash Sale :', 'KT MAJU TRADING (001904043-H)'), 'KT MAJU TRADING'],
    ['an area line is not the name', lines('TAMAN BERKELEY', 'KEDAI MAJU'), 'KEDAI MAJU'],
    [
      'a misread registration label left in brackets after the legal form is cut',
      lines('Maju Realties Sdn Bhd (Ca. No:20154-T)', 'Lot 5, Jalan Satu'),
      'Maju Realties Sdn Bhd',
    ],
    ['BHD misread after SDN (BELD, BID, BHI) is read back', lines('KEDAI MAJU (KL) SDN BELD', 'KEDAI MAJU SDN BID (12345-A)'), 'KEDAI MAJU (KL) SDN BHD'],
    ['SDN misread before BHD (SDti) is read back', lines('HERO MAJU SDti BHD'), 'HERO MAJU SDN BHD'],
    ['a name ending in SONS before BHD keeps it', lines('MAJU & SONS BHD'), 'MAJU & SONS BHD'],
    ['SDN BHD cut short at the end of the line is read back', lines('KEDAI MAJU SDN BH'), 'KEDAI MAJU SDN BHD'],
    ['a postcode line is not the name', lines('47500 SUBANG JAYA, SELANGOR', 'KEDAI MAJU'), 'KEDAI MAJU'],
    ['a street line is not the name', lines('3-113, JL SULTAN', 'KEDAI MAJU'), 'KEDAI MAJU'],
    ['two letters OCR read after the legal form are dropped', lines('ANN MAJU TRADING SDN BHD SE', 'NO 5, JALAN SATU'), 'ANN MAJU TRADING SDN BHD'],
    [
      'a line that is all legal form in small letters takes the name above in capitals',
      lines('POPULAR MAJU', 'co. (M) SDN BHD', 'NO 8, JALAN 7/1'),
      'POPULAR MAJU co. (M) SDN BHD',
    ],
    ['Sdn Bhd with letters dropped (Sd Bd) is read back', lines('Kedai Maju Restaurants Sd Bd', '(65351-M)'), 'Kedai Maju Restaurants SDN BHD'],
    [
      'a name with its registration number in brackets on the same line is the name',
      lines('Maju Denki Malaysia (308282-A)', 'Lot L6 26, Subang Parade'),
      'Maju Denki Malaysia',
    ],
    ['a registration line with its label is not the name', lines('CO. REG. NO: 000948487-V', 'KEDAI MAJU'), 'KEDAI MAJU'],
    ['a label before a colon ahead of the legal name is not part of it', lines('Kopi Maju', 'Dimiliki:kopi maju sdn bhd 1110644-W'), 'kopi maju sdn bhd'],
    ['a lone letter OCR read after the legal form is dropped', lines('MR.MAJU (M)SDN BHD R', '(CO Reg :860671-D)'), 'MR.MAJU (M)SDN BHD'],
    ['a registration number whose first digit OCR read as a letter is cut', lines('99 MAJU MART S/B (S19537-X)', 'LOT 5, JALAN SATU'), '99 MAJU MART S/B'],
    ['1 and 0 before a letter inside a word in capitals are I and O', lines('URBAN 1DEA SDN BHD (417940-M),'), 'URBAN IDEA SDN BHD'],
    ['a 0 inside a word in capitals is O, a number in the name stays', lines('KEDAI S0ON 1ST SS10 S/B'), 'KEDAI SOON 1ST SS10 S/B'],
    ['a short token with small letters after a name in capitals is noise', lines('RESTAURANT SIN MAJU As', 'K3-113,JL SULTAN'), 'RESTAURANT SIN MAJU'],
    ['a name in small letters keeps its short last word', lines('Kedai Maju Sdn Bhd', 'Lot 3, Jalan Satu'), 'Kedai Maju Sdn Bhd'],
  ];
  for (const [name, input, value] of companies) void it(`company: ${name}`, () => assert.equal(findCompany(input)?.value, value));

  const dates: [string, FieldLine[], string | undefined][] = [
    ['the first date printed when no line is labelled', lines('KEDAI MAJU', '12/03/2018 10:25', 'TOTAL 9.00'), '2018-03-12'],
    ['the dated line over an item code that reads as a date', lines('CK 11-22-31 - 10/400', 'Date: 19/09/2017'), '2017-09-19'],
    ['a four-digit year over a reference number with slashes', lines('SP-NULL-18/06/04-1016956', ': 04/06/2018'), '2018-06-04'],
    ['a date that lost the separator between day and month, when no line has a whole one', lines('KEDAI MAJU', '2703/2018 No.:CS-20242'), '2018-03-27'],
    ['a whole date wins over one that lost a separator', lines('INV 0112/2018', 'Date: 05/03/2018'), '2018-03-05'],
    ['no date from four digits that are not a day and a month', lines('KEDAI MAJU', 'REF 4513/2018'), undefined],
    ['no date when none is printed', lines('KEDAI MAJU', 'TOTAL 9.00'), undefined],
  ];
  for (const [name, input, value] of dates) void it(`date: ${name}`, () => assert.equal(findDate(input)?.value, value));

  void it('drops a registration number after the company name', () => {
    assert.equal(findCompany(lines('AEON CO. (M) BHD (126926-H)'))?.value, 'AEON CO. (M) BHD');
  });

  void it('reads full-width brackets as ASCII', () => {
    assert.equal(findCompany(lines('MR. D.I.Y. （KUCHAI) SDN BHD'))?.value, 'MR. D.I.Y. (KUCHAI) SDN BHD');
  });

  void it('ends the address at a phone number on the same row and reads O as 0 inside numbers', () => {
    const company = findCompany(lines('GIANT SDN BHD'));
    const address = findAddress(lines('GIANT SDN BHD', 'LOT F15, JALAN PUTERI 1/1,', '471O0 PUCHONG, SELANGOR 03-80604233', 'GST ID 0001'), company);
    assert.equal(address?.value, 'LOT F15, JALAN PUTERI 1/1, 47100 PUCHONG, SELANGOR');
  });
});
