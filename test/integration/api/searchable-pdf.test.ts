// GET /v1/jobs/{id}/result?format=pdf end to end (issue 15, item 5): the API (node src/api/main.ts) and a real
// worker on Azurite and the Service Bus stand-in. A rendered image comes back as a PDF whose text (read with
// pdfjs) holds the words the worker read; a PDF read wholly from its text layer comes back byte for byte (its
// words in the TSV and hOCR as an OCRed page's); a mixed one keeps its pages with text on both; a PDF asked for
// again comes from the API's memory until its input is deleted; a job whose input is gone is 410 JOB_INPUT_GONE.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLayeredPdf } from '../../fixtures/pdf-layers.ts';
import { renderText } from '../../fixtures/render-text.ts';
import { waitFor } from '../../support/ports.ts';
import { KEY, KEYS_FILE, processEnv, startStack, stopAll, type Stack } from './helpers.ts';
import { startApiProcess, startWorker, type Child } from './processes.ts';

const PIPELINE = 'searchable';
let stack: Stack;
let api: Child;
let worker: Child;
let dir: string;

before(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), 'ocr-pdf-'));
  await writeFile(join(dir, 'keys'), KEYS_FILE);
  const shared = processEnv(stack, PIPELINE);
  api = await startApiProcess({ ...shared, API_KEYS_FILE: join(dir, 'keys'), API_POLL_INTERVAL_MS: '100' });
  worker = await startWorker({ ...shared, WORKER_PDF_DPI: '150' });
});

after(() => stopAll({ children: [api, worker], stack, dir }));

async function call(
  method: string,
  path: string,
  body?: FormData,
  key = KEY,
): Promise<{ status: number; type: string; disposition: string | null; headers: Headers; bytes: Buffer; json: any }> {
  const response = await fetch(api.url + path, { method, headers: { 'x-api-key': key }, body: body ?? null, signal: AbortSignal.timeout(120_000) });
  const bytes = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    type,
    disposition: response.headers.get('content-disposition'),
    headers: response.headers,
    bytes,
    json: type.startsWith('application/json') ? JSON.parse(bytes.toString('utf8')) : undefined,
  };
}

/** Submits a file as a job and waits until it succeeded; the job as GET /v1/jobs/{id} answers it. */
async function finishedJob(bytes: Buffer, type: string, name: string): Promise<any> {
  const data = new FormData();
  data.append('file', new Blob([bytes], { type }), name);
  const created = await call('POST', '/v1/jobs', data);
  assert.equal(created.status, 201, created.bytes.toString());
  let job: any;
  await waitFor(
    `job ${created.json.job.id} to finish`,
    async () => {
      job = (await call('GET', `/v1/jobs/${created.json.job.id}`)).json;
      return job.status === 'succeeded' || job.status === 'failed';
    },
    120_000,
    200,
  );
  assert.equal(job.status, 'succeeded', JSON.stringify(job));
  return job;
}

/** Each page's text as pdfjs reads it, items joined by spaces. */
async function pdfText(bytes: Buffer): Promise<string[]> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const document = await pdfjs.getDocument({ data: new Uint8Array(bytes), verbosity: 0, isEvalSupported: false }).promise;
  const pages: string[] = [];
  for (let number = 1; number <= document.numPages; number++) {
    const { items } = await (await document.getPage(number)).getTextContent();
    pages.push(items.map((item) => ('str' in item ? item.str : '')).join(' '));
  }
  await document.destroy();
  return pages;
}

const words = (text: string): string[] => text.split(/\s+/u).filter((w) => w.length > 0);

void describe('GET /v1/jobs/{id}/result?format=pdf', () => {
  void it('of a rendered image is a PDF whose text holds every word the worker read', async () => {
    const job = await finishedJob(await renderText(['INVOICE 4711 PAID', 'TOTAL 12.50 EUR']), 'image/png', 'invoice.png');
    const answer = await call('GET', `/v1/jobs/${job.id}/result?format=pdf`);
    assert.equal(answer.status, 200, answer.bytes.toString().slice(0, 500));
    assert.equal(answer.type, 'application/pdf');
    assert.equal(answer.disposition, `inline; filename="${job.id}.pdf"`);
    const [page, ...rest] = await pdfText(answer.bytes);
    assert.equal(rest.length, 0);
    const read = words(job.result.text);
    assert.ok(read.length >= 5, job.result.text);
    assert.deepEqual(
      words(page!).filter((w) => read.includes(w)),
      read,
      `PDF text: ${page}`,
    );
    assert.match(page!, /INVOICE/u);
  });

  void it('of a PDF read wholly from its text layer is that PDF, byte for byte', async () => {
    const pdf = await buildLayeredPdf([
      { text: ['A letter with enough real text to be read from its layer.', 'Second line of it.'] },
      { text: ['Page two, also real text and long enough for the layer rule.'] },
    ]);
    const job = await finishedJob(pdf, 'application/pdf', 'letter.pdf');
    assert.deepEqual(
      job.result.pages.map((p: any) => p.source),
      ['text-layer', 'text-layer'],
    );
    const answer = await call('GET', `/v1/jobs/${job.id}/result?format=pdf`);
    assert.equal(answer.status, 200);
    assert.equal(Buffer.compare(answer.bytes, pdf), 0);
    // Its lines have words as OCRed lines do (confidence 100, boxes inside the line's), and the other formats carry them.
    for (const line of job.result.lines) {
      assert.equal(line.words.map((w: any) => w.text).join(' '), line.text);
      for (const word of line.words) {
        assert.equal(word.confidence, 100);
        assert.ok(
          word.bbox.x0 >= line.bbox.x0 && word.bbox.x1 <= line.bbox.x1 && word.bbox.y0 >= line.bbox.y0 && word.bbox.y1 <= line.bbox.y1,
          JSON.stringify({ word, line }),
        );
      }
    }
    const tsv = (await call('GET', `/v1/jobs/${job.id}/result?format=tsv`)).bytes.toString('utf8');
    const wordRows = tsv.split('\n').filter((row) => row.startsWith('5\t'));
    assert.deepEqual(
      wordRows.map((row) => row.split('\t')[11]),
      job.result.lines.flatMap((l: any) => l.words.map((w: any) => w.text)),
    );
    const hocr = (await call('GET', `/v1/jobs/${job.id}/result?format=hocr`)).bytes.toString('utf8');
    assert.equal(hocr.match(/class="ocrx_word"/gu)?.length, wordRows.length);
  });

  void it('of a mixed PDF keeps both pages, the scanned one with the text the worker read', async () => {
    const pdf = await buildLayeredPdf([{ text: ['A letter with enough real text to be read from its layer.'] }, { scan: ['SCANNED RECEIPT', 'TOTAL 9.00'] }]);
    const job = await finishedJob(pdf, 'application/pdf', 'mixed.pdf');
    assert.deepEqual(
      job.result.pages.map((p: any) => p.source),
      ['text-layer', 'ocr'],
    );
    const answer = await call('GET', `/v1/jobs/${job.id}/result?format=pdf`);
    assert.equal(answer.status, 200);
    const [first, second] = await pdfText(answer.bytes);
    assert.match(first!, /A letter with enough real text/u);
    assert.ok(
      words(job.result.pages[1].text).every((w) => words(second!).includes(w)),
      `${job.result.pages[1].text} in ${second}`,
    );
  });

  void it('is built once: asked again it comes from memory, byte for byte, until its input is gone', async () => {
    const job = await finishedJob(await renderText(['KEPT 4711', 'TOTAL 3.00']), 'image/png', 'kept.png');
    const first = await call('GET', `/v1/jobs/${job.id}/result?format=pdf`);
    const second = await call('GET', `/v1/jobs/${job.id}/result?format=pdf`);
    assert.deepEqual([first.status, second.status], [200, 200]);
    assert.deepEqual([first.headers.get('x-pdf-cache'), second.headers.get('x-pdf-cache')], ['miss', 'hit']);
    assert.equal(Buffer.compare(first.bytes, second.bytes), 0);
    // A kept PDF holds the input's pages: it is not served once the input is deleted.
    await stack.blobs.deleteInput(job.id);
    const gone = await call('GET', `/v1/jobs/${job.id}/result?format=pdf`);
    assert.equal(gone.status, 410, gone.bytes.toString());
    assert.equal(gone.json.error.code, 'JOB_INPUT_GONE');
  });

  void it('of a job whose input is gone is 410 JOB_INPUT_GONE, and its other formats still answer', async () => {
    const job = await finishedJob(await renderText(['GONE 1']), 'image/png', 'gone.png');
    await stack.blobs.deleteInput(job.id);
    const answer = await call('GET', `/v1/jobs/${job.id}/result?format=pdf`);
    assert.equal(answer.status, 410, answer.bytes.toString());
    assert.equal(answer.json.error.code, 'JOB_INPUT_GONE');
    assert.equal((await call('GET', `/v1/jobs/${job.id}/result?format=text`)).status, 200);
  });
});
