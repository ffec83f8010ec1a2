// The load's receipts (receipts.ts): distinct, of real length, with totals that add up, rendered at a scan's size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { LOAD_RECEIPTS, RECEIPT_LINES, readSampleReceipt, renderLoadReceipts, renderReceiptPng, tillReceipt } from './receipts.ts';

void test('a till receipt lists each item, multiplies quantities and totals them with the VAT included', () => {
  const lines = tillReceipt({
    shop: ['SHOP'],
    number: '1',
    date: '01/01/2026 10:00',
    items: [
      ['Tea', 2, 1.5],
      ['Cake', 1, 2.25],
    ],
    vatRate: 0.2,
    footer: ['Bye'],
  });
  assert.ok(lines.includes('Tea 2 x 1.50 3.00'));
  assert.ok(lines.includes('Cake 2.25'));
  assert.ok(lines.includes('Items 3'));
  assert.ok(lines.includes('TOTAL 5.25'));
  assert.ok(lines.includes('incl. VAT 20% 0.88'));
  assert.equal(lines.at(-1), 'Bye');
});

void test('the load has four distinct receipts of 20 or more lines', () => {
  assert.equal(LOAD_RECEIPTS.length, 4);
  assert.equal(new Set(LOAD_RECEIPTS.map((r) => r.lines.join('\n'))).size, 4);
  for (const r of LOAD_RECEIPTS) assert.ok(r.lines.filter(Boolean).length >= 20, `${r.name}: ${r.lines.length} lines`);
});

void test('the load receipts render at a scan size: 640 px wide, over 1,000 px tall, tens of kilobytes', async () => {
  for (const r of await renderLoadReceipts()) {
    const meta = await sharp(r.png).metadata();
    assert.equal(meta.width, 640, r.name);
    assert.ok((meta.height ?? 0) > 1_000, `${r.name}: ${meta.height} px tall`);
    assert.ok(r.png.length > 50_000, `${r.name}: ${r.png.length} bytes`);
  }
});

void test('the committed sample still renders byte for byte from its lines', async () => {
  assert.ok((await renderReceiptPng(RECEIPT_LINES)).equals(await readSampleReceipt()));
});
