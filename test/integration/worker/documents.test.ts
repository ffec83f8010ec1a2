// Documents with pages (issue 15, item 3): a PDF and a multi-page TIFF go through a real worker
// process on Azurite and the Service Bus stand-in and come back page by page; a document over
// the page limit fails before any page is rendered; broken PDFs fail with a clear code. The
// splitting itself is also checked without the worker (documents.ts on real pdfjs and sharp).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PDFDocument, degrees } from 'pdf-lib';
import sharp from 'sharp';
import { documentFormat, pdfScale, splitDocument } from '../../../src/worker/ocr/documents.ts';
import { PermanentJobError } from '../../../src/worker/errors.ts';
import { renderPdf, renderTiff } from '../../fixtures/documents.ts';
import { buildLayeredPdf, type LayerPage } from '../../fixtures/pdf-layers.ts';
import { renderText } from '../../fixtures/render-text.ts';
import { killAllWorkers, startPlatform, startWorker, submitJob, waitForStatus, type Platform, type WorkerProcess } from './harness.ts';

const LIMITS = { maxPages: 3, pdfDpi: 150, maxPixels: 40_000_000 };
const squash = (text: string) => text.toUpperCase().replace(/\s+/gu, '');

void describe('splitting documents into pages', () => {
  void it('renders every page of a PDF at the DPI', async () => {
    const { format, pages } = await splitDocument(renderPdf([['FIRST'], ['SECOND'], ['THIRD']]), LIMITS);
    assert.equal(format, 'pdf');
    assert.equal(pages.length, 3);
    const meta = await sharp(pages[0] as Buffer).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 1275, 1650]);
  });

  void it('splits a multi-page TIFF and passes a single image through untouched', async () => {
    assert.equal((await splitDocument(await renderTiff([['A'], ['B']]), LIMITS)).pages.length, 2);
    const png = await renderText(['ONE']);
    assert.deepEqual(await splitDocument(png, LIMITS), { format: 'image', pages: [png] });
  });

  const refusals: [string, () => Promise<Buffer> | Buffer, string][] = [
    ['a PDF over the page limit', () => renderPdf([['1'], ['2'], ['3'], ['4']]), 'DOCUMENT_TOO_MANY_PAGES'],
    ['a TIFF over the page limit', () => renderTiff([['1'], ['2'], ['3'], ['4']]), 'DOCUMENT_TOO_MANY_PAGES'],
    ['a PDF with no pages', () => renderPdf([]), 'IMAGE_EMPTY'],
    ['a PDF that is not one', () => Buffer.from('%PDF-1.4\nthis is not a pdf at all\n%%EOF\n'), 'IMAGE_CORRUPT'],
  ];
  for (const [name, input, code] of refusals) {
    void it(`refuses ${name} as ${code}`, async () => {
      await assert.rejects(splitDocument(await input(), LIMITS), (error: unknown) => error instanceof PermanentJobError && error.code === code);
    });
  }

  const scales: [string, number, number, number, number, number][] = [
    ['a Letter page at 200 DPI keeps its DPI', 612, 792, 200, 40e6, 200 / 72],
    ['a poster page is scaled to fit the pixel limit', 2384, 3370, 300, 40e6, Math.sqrt(40e6 / (2384 * 3370)) * 0.999],
  ];
  for (const [name, w, h, dpi, max, scale] of scales) void it(name, () => assert.ok(Math.abs(pdfScale(w, h, dpi, max) - scale) < 1e-9));

  void it('knows a document by its first bytes', () => {
    assert.equal(documentFormat(Buffer.from('%PDF-1.7')), 'pdf');
    assert.equal(documentFormat(Buffer.from([0x49, 0x49, 0x2a, 0x00])), 'tiff');
    assert.equal(documentFormat(Buffer.from('GIF89a')), 'image');
    assert.equal(documentFormat(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from('%PDF-1.4')])), 'image', 'a JPEG carrying %PDF- is a JPEG');
  });
});

const LETTER = ['Dear customer, thank you for your order of 12 March.', 'Your invoice number is 4711 and the total is 12.50 EUR.'];
const RECEIPT = ['SHOP ALPHA SDN BHD', 'TOTAL RM 12.50'];
const textPage: LayerPage = { text: LETTER };
const scanPage: LayerPage = { scan: RECEIPT };

void describe('PDF pages read from their own text layer', () => {
  const layered = { ...LIMITS, pdfTextLayer: true };
  const cases: [string, LayerPage[], (string | undefined)[]][] = [
    [
      'a 2-page PDF with real text is read from its text layer on both pages',
      [textPage, { text: [...LETTER].reverse() }],
      [LETTER.join('\n'), [...LETTER].reverse().join('\n')],
    ],
    ['a scanned PDF without text is rendered for OCR', [scanPage], [undefined]],
    ['a scan under an invisible OCR layer is rendered for OCR', [{ ...scanPage, invisible: LETTER }], [undefined]],
    ['a scan with only a visible stamp is rendered for OCR', [{ ...scanPage, stamp: 'RECEIVED 2024-03-12 ACCOUNTS' }], [undefined]],
    ['a mixed PDF gives mixed pages', [textPage, scanPage], [LETTER.join('\n'), undefined]],
  ];
  for (const [name, pages, texts] of cases) {
    void it(name, async () => {
      const split = await splitDocument(await buildLayeredPdf(pages), layered);
      assert.deepEqual(
        split.pages.map((page) => (Buffer.isBuffer(page) ? undefined : page.text)),
        texts,
      );
      for (const page of split.pages) if (Buffer.isBuffer(page)) assert.equal((await sharp(page).metadata()).format, 'png');
    });
  }

  void it('a text page has its size and line boxes in pixels at the DPI, confidence 100', async () => {
    const [page] = (await splitDocument(await buildLayeredPdf([textPage]), layered)).pages;
    assert.ok(page && !Buffer.isBuffer(page));
    assert.deepEqual([page.width, page.height], [1275, 1650]);
    // Line 1's baseline is 90 pt below the top edge, 16 pt Helvetica from x = 72 pt: at 150 DPI, x0 = 150 px, the box about the baseline.
    const [first] = page.lines;
    assert.equal(first?.confidence, 100);
    assert.equal(first?.bbox.x0, 150);
    assert.ok(Math.abs(first.bbox.y1 - ((90 + 0.2 * 16) * 150) / 72) <= 1, JSON.stringify(first));
    assert.ok(Math.abs(first.bbox.y0 - ((90 - 0.8 * 16) * 150) / 72) <= 1, JSON.stringify(first));
  });

  void it('a page turned a quarter (/Rotate 90) is read along its text, line by line, its boxes on the page as turned', async () => {
    const document = await PDFDocument.load(await buildLayeredPdf([textPage]));
    document.getPage(0).setRotation(degrees(90));
    const [page] = (await splitDocument(Buffer.from(await document.save()), layered)).pages;
    assert.ok(page && !Buffer.isBuffer(page));
    assert.deepEqual([page.width, page.height, page.text], [1650, 1275, LETTER.join('\n')]);
    // Turned clockwise, the text runs down the right-hand side: boxes taller than wide, near the right edge.
    for (const { bbox } of page.lines) assert.ok(bbox.y1 - bbox.y0 > bbox.x1 - bbox.x0 && bbox.x0 > 1650 - 300, JSON.stringify(bbox));
  });

  void it('with the text layer turned off every page is rendered for OCR', async () => {
    const split = await splitDocument(await buildLayeredPdf([textPage, textPage]), { ...LIMITS, pdfTextLayer: false });
    assert.deepEqual(
      split.pages.map((page) => Buffer.isBuffer(page)),
      [true, true],
    );
  });
});

void describe('a worker reading documents', () => {
  const queue = 'documents';
  let platform: Platform;
  let worker: WorkerProcess;

  before(async () => {
    platform = await startPlatform();
    platform.createQueue(queue);
    worker = await startWorker(platform, queue, { WORKER_MAX_PAGES: '3', WORKER_PDF_DPI: '150' });
  });
  after(async () => {
    worker?.kill('SIGKILL');
    await worker?.exited;
    killAllWorkers();
    await platform?.close();
  });

  const documents: [string, () => Promise<Buffer> | Buffer, string][] = [
    ['a PDF', () => renderPdf([['INVOICE 4711'], ['TOTAL 12.50']]), 'pdf'],
    ['a multi-page TIFF', () => renderTiff([['INVOICE 4711'], ['TOTAL 12.50']]), 'tiff'],
  ];
  for (const [name, document, format] of documents) {
    void it(`reads ${name} page by page`, async () => {
      const jobId = await submitJob(platform, queue, await document());
      const record = await waitForStatus(platform, jobId, ['succeeded', 'failed']);
      assert.equal(record.status, 'succeeded', `${record.errorCode} ${record.errorMessage}`);
      const result = await platform.blobs.readResult(jobId);
      assert.equal(result?.image.format, format);
      assert.deepEqual(
        result?.pages?.map((p) => [p.page, squash(p.text)]),
        [
          [1, 'INVOICE4711'],
          [2, 'TOTAL12.50'],
        ],
      );
      assert.deepEqual([...new Set(result?.lines.map((l) => l.page))], [1, 2]);
      assert.equal(result?.text.split('\f').length, 2);
    });
  }

  void it('reads a mixed PDF page by page, the text page from its text layer and the scan by OCR', async () => {
    const jobId = await submitJob(platform, queue, await buildLayeredPdf([textPage, scanPage]));
    const record = await waitForStatus(platform, jobId, ['succeeded', 'failed']);
    assert.equal(record.status, 'succeeded', `${record.errorCode} ${record.errorMessage}`);
    const result = await platform.blobs.readResult(jobId);
    assert.deepEqual(
      result?.pages?.map((p) => [p.page, p.source, p.page === 1 ? p.text : squash(p.text)]),
      [
        [1, 'text-layer', LETTER.join('\n')],
        [2, 'ocr', squash(RECEIPT.join(''))],
      ],
    );
    assert.equal(result?.pages?.[0]?.meanConfidence, 100);
    assert.deepEqual(
      result?.lines.filter((l) => l.page === 1).map((l) => [l.text, l.confidence]),
      LETTER.map((line) => [line, 100]),
    );
  });

  void it('fails a document over the page limit as DOCUMENT_TOO_MANY_PAGES', async () => {
    const jobId = await submitJob(platform, queue, renderPdf([['1'], ['2'], ['3'], ['4']]));
    const record = await waitForStatus(platform, jobId, ['succeeded', 'failed']);
    assert.equal(record.status, 'failed');
    assert.equal(record.errorCode, 'DOCUMENT_TOO_MANY_PAGES');
  });
});
