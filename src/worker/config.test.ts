import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SETTINGS, helpText, loadConfig } from './config.ts';

const base = { SERVICEBUS_CONNECTION_STRING: 'Endpoint=sb://x;SharedAccessKeyName=k;SharedAccessKey=v', BLOB_CONNECTION_STRING: 'UseDevelopmentStorage=true' };

void describe('worker config', () => {
  void it('uses the documented defaults', () => {
    const config = loadConfig(base);
    assert.deepEqual(
      [config.languages, config.concurrency, config.maxJobSeconds, config.maxPixels, config.port, config.queue.queueName],
      [['eng'], 2, 120, 40_000_000, 9090, 'ocr-jobs'],
    );
  });

  void it('reads PORT when METRICS_PORT is unset, and METRICS_PORT first', () => {
    assert.equal(loadConfig({ ...base, PORT: '8081' }).port, 8081);
    assert.equal(loadConfig({ ...base, PORT: '8081', METRICS_PORT: '9191' }).port, 9191);
  });

  void it('serves the records partition <namespace>.<pipeline>, or the pipeline alone without OCR_NAMESPACE', () => {
    assert.equal(loadConfig({ ...base, OCR_PIPELINE: 'invoices', OCR_NAMESPACE: 'finance' }).partition, 'finance.invoices');
    assert.equal(loadConfig({ ...base, OCR_PIPELINE: 'invoices' }).partition, 'invoices');
  });

  void it('retries 5 attempts with 5 s to 300 s of backoff and fails after 2 timeouts by default', () => {
    assert.deepEqual(loadConfig(base).retries, { maxAttempts: 5, baseDelayMs: 5_000, maxDelayMs: 300_000, maxTimeouts: 2 });
  });

  void it('reads the retry settings, with fractions of a second for the delays', () => {
    const env = {
      ...base,
      WORKER_RETRY_MAX_ATTEMPTS: '3',
      WORKER_RETRY_BASE_DELAY_SECONDS: '0.25',
      WORKER_RETRY_MAX_DELAY_SECONDS: '1.5',
      WORKER_RETRY_MAX_TIMEOUTS: '1',
    };
    assert.deepEqual(loadConfig(env).retries, { maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 1_500, maxTimeouts: 1 });
  });

  // dedupeEngine: the engine the dedupe key of a job naming none names, only when OCR_REQUEST_ENGINES is set (as the API).
  const engines: {
    name: string;
    env: Record<string, string>;
    requestEngines: string[];
    tesseractModel: string | undefined;
    dedupeEngine: string | undefined;
  }[] = [
    {
      name: 'every engine of the image by default, the pipeline engine first, keys naming no engine',
      env: { OCR_ENGINE: 'paddle' },
      requestEngines: ['paddle', 'tesseract'],
      tesseractModel: 'best',
      dedupeEngine: undefined,
    },
    {
      name: 'the pipeline engine even when OCR_REQUEST_ENGINES leaves it out, keys naming it',
      env: { OCR_REQUEST_ENGINES: 'paddle' },
      requestEngines: ['tesseract', 'paddle'],
      tesseractModel: 'best',
      dedupeEngine: 'tesseract',
    },
    {
      name: 'paddle alone, without tesseract models to resolve',
      env: { OCR_ENGINE: 'paddle', OCR_REQUEST_ENGINES: 'paddle' },
      requestEngines: ['paddle'],
      tesseractModel: undefined,
      dedupeEngine: 'paddle',
    },
  ];
  for (const c of engines) {
    void it(`offers ${c.name}`, () => {
      const config = loadConfig({ ...base, OCR_TESSERACT_MODEL: 'best', ...c.env });
      assert.deepEqual([config.requestEngines, config.tesseractModel, config.dedupeEngine], [c.requestEngines, c.tesseractModel, c.dedupeEngine]);
    });
  }

  const bad: { name: string; env: Record<string, string>; message: RegExp }[] = [
    {
      name: 'a request engine it does not have',
      env: { ...base, OCR_REQUEST_ENGINES: 'tesseract,easyocr' },
      message: /OCR_REQUEST_ENGINES must list tesseract and\/or paddle; got "easyocr"/,
    },
    {
      name: 'zero retry attempts',
      env: { ...base, WORKER_RETRY_MAX_ATTEMPTS: '0' },
      message: /WORKER_RETRY_MAX_ATTEMPTS must be an integer between 1 and 100/,
    },
    { name: 'a retry delay that is not a number', env: { ...base, WORKER_RETRY_BASE_DELAY_SECONDS: 'soon' }, message: /WORKER_RETRY_BASE_DELAY_SECONDS/ },
    { name: 'no queue', env: { BLOB_CONNECTION_STRING: 'x' }, message: /SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE/ },
    { name: 'no storage', env: { SERVICEBUS_NAMESPACE: 'x.servicebus.windows.net' }, message: /BLOB_CONNECTION_STRING or BLOB_ACCOUNT_URL/ },
    { name: 'a zero concurrency', env: { ...base, WORKER_CONCURRENCY: '0' }, message: /WORKER_CONCURRENCY must be an integer between 1 and 64, got "0"/ },
    { name: 'a language that is not a code', env: { ...base, OCR_LANGUAGES: 'eng,English' }, message: /"English"/ },
    { name: 'an engine it does not have', env: { ...base, OCR_ENGINE: 'easyocr' }, message: /OCR_ENGINE must be one of tesseract, paddle/ },
    {
      name: 'the paddle engine with a language it cannot read',
      env: { ...base, OCR_ENGINE: 'paddle', OCR_LANGUAGES: 'eng,deu' },
      message: /OCR_ENGINE=paddle reads eng and chi_sim only; .* deu/,
    },
    { name: 'a page limit of zero', env: { ...base, WORKER_MAX_PAGES: '0' }, message: /WORKER_MAX_PAGES must be an integer between 1 and 500/ },
    {
      name: 'a namespace that is not a DNS label',
      env: { ...base, OCR_NAMESPACE: 'a.b' },
      message: /OCR_NAMESPACE: namespace "a\.b" is not a Kubernetes namespace/,
    },
  ];
  for (const c of bad) {
    void it(`refuses ${c.name} with a message naming the variable`, () => {
      assert.throws(() => loadConfig(c.env), c.message);
    });
  }

  void it('documents every variable it reads in --help', () => {
    const help = helpText();
    for (const { env } of SETTINGS) assert.ok(help.includes(env), env);
    for (const name of ['OCR_PIPELINE', 'OCR_LANGUAGES', 'WORKER_MAX_PIXELS', 'METRICS_PORT', 'PORT', 'LOG_LEVEL']) assert.ok(help.includes(name), name);
  });
});
