// Structured output and fields end to end (issue 15, items 5 and 6): the API (node src/api/main.ts)
// and a real worker (tesseract.js) on Azurite and the Service Bus stand-in. A receipt and an ID card
// rendered with sharp go through POST /v1/ocr/receipt and /v1/parse; a 2-page PDF comes back from
// GET /v1/jobs/{id}/result in every format and from GET /v1/jobs/{id}/fields, page by page.
// Answers are read field by field with assertions; typing every shape here would only repeat schemas.ts.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verhoeffValid } from '../../../src/fields/ids.ts';
import { TSV_HEADER } from '../../../src/api/formats/tsv.ts';
import { renderPdf, renderTiff } from '../../fixtures/documents.ts';
import { renderText } from '../../fixtures/render-text.ts';
import { waitFor } from '../../support/ports.ts';
import { KEY, KEYS_FILE, processEnv, startStack, stopAll, type Stack } from './helpers.ts';
import { startApiProcess, startWorker, type Child } from './processes.ts';

const PIPELINE = 'fields';
let stack: Stack;
let api: Child;
let worker: Child | undefined;
let dir: string;
let shared: Record<string, string>;

before(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), 'ocr-fields-'));
  await writeFile(join(dir, 'keys'), KEYS_FILE);
  shared = processEnv(stack, PIPELINE);
  // The worker starts in the second describe: the first reads jobs that no worker has taken yet.
  api = await startApiProcess({ ...shared, API_KEYS_FILE: join(dir, 'keys'), SYNC_TIMEOUT_SECONDS: '90', API_POLL_INTERVAL_MS: '100' });
});

after(() => stopAll({ children: [api, worker], stack, dir }));

async function call(
  method: string,
  path: string,
  body?: FormData | Buffer,
  key = KEY,
  contentType?: string,
): Promise<{ status: number; type: string; text: string; json: any; headers: Headers }> {
  const response = await fetch(api.url + path, {
    method,
    headers: { 'x-api-key': key, ...(contentType ? { 'content-type': contentType } : {}) },
    body: body ?? null,
    signal: AbortSignal.timeout(120_000),
  });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, type, text, json: type.startsWith('application/json') ? JSON.parse(text) : undefined, headers: response.headers };
}

function form(bytes: Buffer, type: string, name: string): FormData {
  const data = new FormData();
  data.append('file', new Blob([bytes], { type }), name);
  return data;
}

async function pollUntilDone(jobId: string): Promise<any> {
  let job: any;
  await waitFor(
    `job ${jobId} to finish`,
    async () => {
      job = (await call('GET', `/v1/jobs/${jobId}`)).json;
      return job.status === 'succeeded' || job.status === 'failed';
    },
    120_000,
    200,
  );
  return job;
}

/** An Aadhaar-shaped number (starts 2-9) completed with its Verhoeff check digit. */
function aadhaarWithCheckDigit(first11: string): string {
  for (let digit = 0; digit < 10; digit++) if (verhoeffValid(`${first11}${digit}`)) return `${first11}${digit}`;
  throw new Error(`no Verhoeff digit for ${first11}`);
}

void describe('reading a job that has no result yet', () => {
  const cases = [
    { name: 'the result of a queued job is 409 JOB_NO_RESULT with its status', path: (id: string) => `/v1/jobs/${id}/result` },
    { name: 'the text of a queued job is 409 JOB_NO_RESULT with its status', path: (id: string) => `/v1/jobs/${id}/result?format=text` },
    { name: 'the fields of a queued job are 409 JOB_NO_RESULT with its status', path: (id: string) => `/v1/jobs/${id}/fields` },
  ];
  let jobId: string;
  before(async () => {
    const created = await call('POST', '/v1/jobs', form(await renderText(['WAITING 1']), 'image/png', 'waiting.png'));
    assert.equal(created.status, 201, created.text);
    jobId = created.json.job.id;
  });
  for (const c of cases) {
    void it(c.name, async () => {
      const answer = await call('GET', c.path(jobId));
      assert.equal(answer.status, 409, answer.text);
      assert.equal(answer.json.error.code, 'JOB_NO_RESULT');
      assert.equal(answer.json.error.details.status, 'queued');
    });
  }
});

void describe('structured output and fields with a real worker', () => {
  before(async () => {
    worker = await startWorker(shared);
  });

  void it('a receipt through POST /v1/ocr/receipt comes back with its company, date, address and total', async () => {
    const receipt = await renderText([
      'SUNRISE TRADING SDN BHD',
      'NO 12 JALAN MAWAR',
      '47301 PETALING JAYA',
      'TEL 03-7877 1234',
      'DATE: 15/03/2024',
      'ITEM A        4.50',
      'ITEM B        4.50',
      'TOTAL      RM 9.00',
    ]);
    const answer = await call('POST', '/v1/ocr/receipt', form(receipt, 'image/png', 'receipt.png'));
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.status, 'succeeded');
    assert.ok(answer.json.result.lines.length >= 8, answer.text);
    const { receipt: fields } = answer.json.fields;
    assert.equal(fields.company?.value, 'SUNRISE TRADING SDN BHD', answer.text);
    assert.equal(fields.date?.value, '2024-03-15', answer.text);
    assert.equal(fields.total?.value, '9.00', answer.text);
    assert.equal(fields.total?.currency, 'RM', answer.text);
    assert.match(fields.address?.value ?? '', /JALAN MAWAR.*PETALING JAYA/u, answer.text);
    // Every field names the result lines it came from, and its value is on them.
    for (const field of [fields.company, fields.date, fields.total]) {
      assert.ok(field.lines.length > 0 && field.confidence > 0 && field.confidence <= 1, JSON.stringify(field));
      for (const index of field.lines) assert.ok(answer.json.result.lines[index], `line ${index} exists`);
    }
    assert.match(answer.json.result.lines[fields.total.lines[0]].text, /9\.00/u);
    assert.deepEqual(answer.json.fields.ids, {}, 'a receipt carries no ID numbers');
    // The same image again is a cache hit: answered at once, with the same fields.
    const again = await call('POST', '/v1/ocr/receipt', form(receipt, 'image/png', 'receipt.png'));
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.cached, true);
    assert.deepEqual(again.json.fields, answer.json.fields);
  });

  void it('an ID card through the alias POST /v1/parse comes back with its PAN and UDYAM number, and an Aadhaar number only when read exactly', async (t) => {
    const aadhaar = aadhaarWithCheckDigit('52349876012');
    const grouped = `${aadhaar.slice(0, 4)} ${aadhaar.slice(4, 8)} ${aadhaar.slice(8)}`;
    const card = await renderText(['INCOME TAX DEPARTMENT', 'PERMANENT ACCOUNT NUMBER', 'ABCPE1234F', `AADHAAR ${grouped}`, 'UDYAM-MH-01-0001234']);
    // The raw image as the body, as POST /v1/ocr takes it.
    const answer = await call('POST', '/v1/parse?languages=eng', card, KEY, 'image/png');
    assert.equal(answer.status, 200, answer.text);
    const { ids } = answer.json.fields;
    assert.equal(ids.pan?.value, 'ABCPE1234F', answer.text);
    assert.equal(ids.udyam?.value, 'UDYAM-MH-01-0001234', answer.text);
    // A misread digit fails the Verhoeff check: the number is then absent, never a different one.
    assert.ok(ids.aadhaar === undefined || ids.aadhaar.value === grouped, answer.text);
    t.diagnostic(`Aadhaar ${ids.aadhaar ? 'read exactly' : 'absent'}`);
    assert.equal(ids.passport, undefined);
    assert.equal(ids.drivingLicence, undefined);
  });

  void describe('a passport data page with a driving licence number through POST /v1/ocr/receipt', () => {
    // ICAO 9303's specimen TD3 MRZ: every check digit is right.
    const mrz = ['P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L898902C36UTO7408122F1204159ZE184226B<<<<<10'];
    const passport = {
      number: 'L898902C3',
      nationality: 'UTO',
      surname: 'ERIKSSON',
      givenNames: 'ANNA MARIA',
      birthDate: '1974-08-12',
      expiryDate: '2012-04-15',
      sex: 'F',
    };
    let answer: Awaited<ReturnType<typeof call>>;
    before(async () => {
      answer = await call(
        'POST',
        '/v1/ocr/receipt',
        form(await renderText(['PASSPORT', 'DRIVING LICENCE MH12 20110012345', ...mrz]), 'image/png', 'passport.png'),
      );
      assert.equal(answer.status, 200, answer.text);
    });

    void it('the parts the check digits cover and the licence number are absent or exact', (t) => {
      const { ids } = answer.json.fields;
      // A misread digit fails its check digit: the passport is then absent, never a different number or date.
      if (ids.passport !== undefined) {
        const { number, birthDate, expiryDate } = ids.passport.value;
        assert.deepEqual({ number, birthDate, expiryDate }, { number: passport.number, birthDate: passport.birthDate, expiryDate: passport.expiryDate });
      }
      if (ids.drivingLicence !== undefined) assert.equal(ids.drivingLicence.value, 'MH12 20110012345', answer.text);
      t.diagnostic(`passport ${ids.passport ? 'read' : 'absent'}, driving licence ${ids.drivingLicence ? 'read exactly' : 'absent'}`);
      assert.equal(ids.pan, undefined);
      assert.equal(ids.aadhaar, undefined);
    });

    // Nationality, names and sex are under no TD3 check digit: tesseract reads the MRZ's UTO as UT0 here, which
    // src/fields/ids.ts maps back (a digit in a letter-only field is a misread letter) or refuses.
    void it('the whole passport is absent or exact', () => {
      const { ids } = answer.json.fields;
      if (ids.passport !== undefined) assert.deepEqual(ids.passport.value, passport, answer.text);
    });
  });

  void it('a 2-page TIFF receipt through POST /v1/ocr/receipt comes back page by page with the fields of both pages', async () => {
    const tiff = await renderTiff(
      [
        ['BLUE HARBOUR TRADING SDN BHD', 'DATE: 02/01/2025'],
        ['ITEM C        7.25', 'TOTAL      RM 7.25'],
      ],
      720,
    );
    const answer = await call('POST', '/v1/ocr/receipt', form(tiff, 'image/tiff', 'receipt.tiff'));
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(
      answer.json.result.pages.map((p: any) => p.page),
      [1, 2],
    );
    const { receipt } = answer.json.fields;
    assert.equal(receipt.company?.value, 'BLUE HARBOUR TRADING SDN BHD', answer.text);
    assert.equal(receipt.date?.value, '2025-01-02', answer.text);
    assert.equal(receipt.total?.value, '7.25', answer.text);
    assert.equal(answer.json.result.lines[receipt.company.lines[0]].page, 1);
    assert.equal(answer.json.result.lines[receipt.total.lines[0]].page, 2);
  });

  void describe('a 2-page PDF submitted as a job', () => {
    let jobId: string;
    let result: any;
    before(async () => {
      const pdf = renderPdf([
        ['FIRST PAGE HELLO', 'SHOP ALPHA SDN BHD'],
        ['SECOND PAGE WORLD', 'TOTAL RM 12.50'],
      ]);
      const created = await call('POST', '/v1/jobs', form(pdf, 'application/pdf', 'two.pdf'));
      assert.equal(created.status, 201, created.text);
      jobId = created.json.job.id;
      const job = await pollUntilDone(jobId);
      assert.equal(job.status, 'succeeded', JSON.stringify(job));
      result = job.result;
      assert.equal(result.pages?.length, 2, JSON.stringify(result));
    });

    void it('format=json (the default) is the result GET /v1/jobs/{id} carries', async () => {
      for (const path of [`/v1/jobs/${jobId}/result`, `/v1/jobs/${jobId}/result?format=json`]) {
        const answer = await call('GET', path);
        assert.equal(answer.status, 200, answer.text);
        assert.match(answer.type, /^application\/json/u);
        assert.deepEqual(answer.json, result);
      }
    });

    void it('format=text is plain text, the pages in order split by a form feed', async () => {
      const answer = await call('GET', `/v1/jobs/${jobId}/result?format=text`);
      assert.equal(answer.status, 200, answer.text);
      assert.match(answer.type, /^text\/plain; charset=utf-8/u);
      const pages = answer.text.split('\f');
      assert.equal(pages.length, 2, JSON.stringify(answer.text));
      assert.match(pages[0]!.toUpperCase(), /FIRST PAGE/u);
      assert.match(pages[1]!.toUpperCase(), /SECOND PAGE/u);
    });

    void it('format=tsv has a page row per page with its size and every line under its own page', async () => {
      const answer = await call('GET', `/v1/jobs/${jobId}/result?format=tsv`);
      assert.equal(answer.status, 200, answer.text);
      assert.match(answer.type, /^text\/tab-separated-values/u);
      const rows = answer.text.trimEnd().split('\n');
      assert.equal(rows[0], TSV_HEADER);
      const cells = rows.slice(1).map((row) => row.split('\t'));
      for (const row of cells) assert.equal(row.length, 12, row.join('|'));
      const pageRows = cells.filter((row) => row[0] === '1');
      assert.deepEqual(
        pageRows.map((row) => [row[1], row[8], row[9]]),
        result.pages.map((p: any) => [String(p.page), String(p.width), String(p.height)]),
      );
      const lineRows = cells.filter((row) => row[0] === '4');
      assert.equal(lineRows.length, result.lines.length);
      assert.ok(
        lineRows.some((row) => row[1] === '2' && /SECOND PAGE/iu.test(row[11]!)),
        answer.text,
      );
      // Every line box lies inside its own page, in that page's pixels.
      for (const row of lineRows) {
        const page = result.pages[Number(row[1]) - 1];
        const [left, top, width, height] = row.slice(6, 10).map(Number) as [number, number, number, number];
        assert.ok(left >= 0 && top >= 0 && left + width <= page.width && top + height <= page.height, `${row.join('|')} inside ${page.width}x${page.height}`);
      }
    });

    void it('format=hocr is an hOCR document with one ocr_page per page and its lines inside', async () => {
      const answer = await call('GET', `/v1/jobs/${jobId}/result?format=hocr`);
      assert.equal(answer.status, 200, answer.text);
      assert.match(answer.type, /^application\/xhtml\+xml/u);
      assert.equal(answer.headers.get('content-security-policy'), "default-src 'none'");
      assert.equal(answer.headers.get('x-content-type-options'), 'nosniff');
      const pages = [...answer.text.matchAll(/<div class="ocr_page" id="page_(\d+)" title="bbox 0 0 (\d+) (\d+); ppageno (\d+)">([\s\S]*?)<\/div>/gu)];
      assert.deepEqual(
        pages.map((m) => [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])]),
        result.pages.map((p: any) => [p.page, p.width, p.height, p.page - 1]),
      );
      // The line reads SECOND PAGE: as ocrx_word spans when the engine gave words, as the line's own text when not (a PDF text layer).
      assert.match(
        pages[1]![5]!,
        /class="ocr_line"[^>]*title="bbox \d+ \d+ \d+ \d+; x_wconf \d+">(?:[^<]*SECOND PAGE|\s*<span class="ocrx_word"[^>]*title="bbox \d+ \d+ \d+ \d+; x_wconf \d+">SECOND<\/span>\s*<span class="ocrx_word"[^>]*>PAGE<\/span>)/iu,
      );
    });

    void it('GET /v1/jobs/{id}/fields reads the fields across both pages', async () => {
      const answer = await call('GET', `/v1/jobs/${jobId}/fields`);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.json.jobId, jobId);
      assert.equal(answer.json.fields.receipt.total?.value, '12.50', answer.text);
      assert.equal(result.lines[answer.json.fields.receipt.total.lines[0]].page, 2);
    });

    const refusals = [
      {
        name: 'a format the API does not render is 400 INVALID_REQUEST',
        path: () => `/v1/jobs/${jobId}/result?format=docx`,
        key: KEY,
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        name: "another key's job result does not exist for the caller",
        path: () => `/v1/jobs/${jobId}/result`,
        key: 'key-other-9876543210',
        status: 404,
        code: 'JOB_NOT_FOUND',
      },
      {
        name: "another key's job fields do not exist for the caller",
        path: () => `/v1/jobs/${jobId}/fields`,
        key: 'key-other-9876543210',
        status: 404,
        code: 'JOB_NOT_FOUND',
      },
    ];
    for (const c of refusals) {
      void it(c.name, async () => {
        const answer = await call('GET', c.path(), undefined, c.key);
        assert.equal(answer.status, c.status, answer.text);
        assert.equal(answer.json.error.code, c.code);
      });
    }
  });

  void it('the result of a failed job is 422 JOB_FAILED with its reason', async () => {
    const created = await call('POST', '/v1/jobs', form(renderPdf([]), 'application/pdf', 'empty.pdf'));
    assert.equal(created.status, 201, created.text);
    const job = await pollUntilDone(created.json.job.id);
    assert.equal(job.status, 'failed', JSON.stringify(job));
    for (const path of [`/v1/jobs/${job.id}/result?format=hocr`, `/v1/jobs/${job.id}/fields`]) {
      const answer = await call('GET', path);
      assert.equal(answer.status, 422, answer.text);
      assert.equal(answer.json.error.code, 'JOB_FAILED');
      assert.equal(answer.json.error.details.reason, job.error.code);
    }
  });
});

void describe('fields and formats with the paddle engine', () => {
  before(async () => {
    // One worker at a time on the queue: the tesseract worker stops, a paddle worker takes its place.
    await worker?.stop();
    worker = await startWorker({ ...shared, OCR_ENGINE: 'paddle' });
    const health = (await (await fetch(`${worker.url}/health`)).json()) as { engine: { name: string } };
    assert.equal(health.engine.name, 'paddle');
  });

  void it('a receipt read by the paddle engine comes back with the same fields and renders as hOCR and TSV', async (t) => {
    const receipt = await renderText(['SUNRISE TRADING SDN BHD', 'NO 12 JALAN MAWAR', '47301 PETALING JAYA', 'DATE: 15/03/2024', 'TOTAL      RM 9.00']);
    const answer = await call('POST', '/v1/ocr/receipt', form(receipt, 'image/png', 'paddle-receipt.png'));
    assert.equal(answer.status, 200, answer.text);
    t.diagnostic(`paddle read ${JSON.stringify(answer.json.result.lines.map((l: any) => l.text))}`);
    const { receipt: fields } = answer.json.fields;
    assert.equal(fields.date?.value, '2024-03-15', answer.text);
    assert.equal(fields.total?.value, '9.00', answer.text);
    assert.match(fields.company?.value ?? '', /^SUNRISE ?TRADING ?SDN ?BHD$/u, answer.text);
    const hocr = await call('GET', `/v1/jobs/${answer.json.jobId}/result?format=hocr`);
    assert.equal(hocr.status, 200, hocr.text);
    assert.equal(hocr.text.match(/class="ocr_line"/gu)?.length, answer.json.result.lines.length);
    const tsv = await call('GET', `/v1/jobs/${answer.json.jobId}/result?format=tsv`);
    assert.equal(
      tsv.text
        .trimEnd()
        .split('\n')
        .filter((row) => row.startsWith('4\t')).length,
      answer.json.result.lines.length,
    );
  });
});
