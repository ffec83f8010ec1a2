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

  const bad: { name: string; env: Record<string, string>; message: RegExp }[] = [
    { name: 'no queue', env: { BLOB_CONNECTION_STRING: 'x' }, message: /SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE/ },
    { name: 'no storage', env: { SERVICEBUS_NAMESPACE: 'x.servicebus.windows.net' }, message: /BLOB_CONNECTION_STRING or BLOB_ACCOUNT_URL/ },
    { name: 'a zero concurrency', env: { ...base, WORKER_CONCURRENCY: '0' }, message: /WORKER_CONCURRENCY must be an integer between 1 and 64, got "0"/ },
    { name: 'a language that is not a code', env: { ...base, OCR_LANGUAGES: 'eng,English' }, message: /"English"/ },
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
