// Webhook egress (issue 13, item 4): a webhook URL that points inside the network is a
// 400 at submit (against real Azurite and the stand-in, nothing left behind), and a target
// that only turns internal after DNS is refused at delivery, never contacted, counted as
// `refused` and not retried. A receiver on 127.0.0.1 is reached only when the allowlist
// names 127.0.0.1. Delivery goes through the outbox (Azurite) and the dispatcher every replica runs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { ERROR_CATALOGUE } from '../../../src/api/errors.ts';
import { ApiMetrics } from '../../../src/api/metrics.ts';
import { WebhookDispatcher } from '../../../src/api/webhooks/dispatcher.ts';
import { WebhookOutbox, type Resolver } from '../../../src/jobs/index.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { LOOPBACK_WEBHOOKS } from '../../support/api-config.ts';
import { waitFor } from '../../support/ports.ts';
import { textImage } from './images.ts';
import { KEY, footprint, multipart, startApp, startStack, type Stack, type TestApp } from './helpers.ts';

const auth = { 'x-api-key': KEY };

const SSRF_URLS: [url: string, reason: string][] = [
  ['http://169.254.169.254/latest/meta-data/', 'http'],
  ['https://169.254.169.254/latest/meta-data/', 'link_local'],
  ['https://127.0.0.1:8080/', 'loopback'],
  ['https://kubernetes.default.svc/api', 'internal_name'],
  ['https://kubernetes.default.svc.cluster.local/api', 'internal_name'],
  ['https://[::1]:9090/', 'loopback'],
  ['https://0x7f000001/', 'loopback'],
  ['https://2130706433/', 'loopback'],
  ['https://0177.0.0.1/', 'loopback'],
  ['https://127.1/', 'loopback'],
  ['https://[::ffff:127.0.0.1]/', 'loopback'],
  ['https://[fd00:ec2::254]/', 'private'],
  ['https://10.0.0.1/', 'private'],
  ['https://100.64.0.1/', 'shared_address'],
  ['https://localhost/', 'internal_name'],
  ['https://metadata.google.internal/', 'internal_name'],
  ['https://user:pass@example.com/', 'credentials'],
  ['http://example.com/hook', 'http'],
];

void describe('webhook URLs at submit', () => {
  let stack: Stack;
  let api: TestApp;

  before(async () => {
    stack = await startStack();
    api = await startApp(stack, { webhookSecret: 's3cret' });
  });

  after(async () => {
    await api?.close();
    await stack?.stop();
  });

  for (const [url, reason] of SSRF_URLS) {
    void it(`answers POST /v1/jobs with ${url} with 400 WEBHOOK_URL_REFUSED (${reason}) and leaves nothing behind`, async () => {
      const before = await footprint(stack, 'test');
      const response = await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { webhookUrl: url } });
      assert.equal(response.statusCode, ERROR_CATALOGUE.WEBHOOK_URL_REFUSED.status, response.body);
      const { error } = response.json();
      assert.equal(error.code, 'WEBHOOK_URL_REFUSED');
      assert.equal(error.details.reason, reason);
      assert.ok(error.message.length > 0);
      assert.deepEqual(await footprint(stack, 'test'), before);
    });
  }

  void it('refuses the same in a multipart form', async () => {
    const m = await multipart({ webhookUrl: 'https://169.254.169.254/' }, { bytes: await textImage(['NO HOOK']), type: 'image/png' });
    const response = await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: { ...auth, ...m.headers }, payload: m.body });
    assert.equal(response.json().error?.code, 'WEBHOOK_URL_REFUSED');
    assert.equal(response.statusCode, 400);
  });

  void it('accepts an https URL on a public host', async () => {
    const response = await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { webhookUrl: 'https://hooks.example.com/ocr' } });
    assert.equal(response.statusCode, 201, response.body);
  });

  void it('accepts a loopback receiver when the allowlist names it and http is allowed', async () => {
    const open = await startApp(stack, { webhookSecret: 's3cret', webhookEgress: LOOPBACK_WEBHOOKS });
    try {
      const response = await open.app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { webhookUrl: 'http://127.0.0.1:9/hook' } });
      assert.equal(response.statusCode, 201, response.body);
      const refused = await open.app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { webhookUrl: 'http://127.0.0.2:9/hook' } });
      assert.equal(refused.json().error?.details?.reason, 'loopback');
    } finally {
      await open.close();
    }
  });
});

void describe('webhook delivery to a receiver on 127.0.0.1', () => {
  let stack: Stack;
  let outbox: WebhookOutbox;
  let receiver: Server;
  let port: number;
  let hits = 0;
  let seq = 0;

  before(async () => {
    stack = await startStack();
    outbox = new WebhookOutbox(stack.table);
    receiver = createServer((request, response) => {
      hits++;
      request.resume();
      request.on('end', () => response.writeHead(204).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });

  after(async () => {
    receiver?.close();
    await stack?.stop();
  });

  /** A failed job with a webhook in its own partition, as the worker leaves it: the record and its outbox row, written together. */
  async function finished(url: string): Promise<{ pipeline: string; id: string }> {
    const now = new Date().toISOString();
    const pipeline = `hooks${++seq}`;
    const id = 'job-00000000-0000-4000-8000-000000000001';
    await stack.records.create({
      id,
      pipeline,
      status: 'failed',
      languages: ['eng'],
      options: { pageSegmentation: 'auto' },
      attempts: 1,
      createdAt: now,
      updatedAt: now,
      finishedAt: now,
      errorCode: 'OCR_FAILED',
      webhookUrl: url,
    });
    return { pipeline, id };
  }

  /** A dispatcher as the API builds it; `resolve` points every name at 127.0.0.1, as a rebinding DNS server would. */
  function dispatcher(pipeline: string, egress: { allowHttp: boolean; allowedHosts: readonly string[] }) {
    const metrics = new ApiMetrics();
    const resolve: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const webhooks = new WebhookDispatcher({
      settings: {
        secret: 's',
        pollIntervalMs: 50,
        batchSize: 4,
        leaseMs: 2_000,
        attempts: 3,
        baseDelayMs: 10,
        maxDelayMs: 100,
        timeoutMs: 1_000,
        egress,
        maxConcurrent: 2,
        backlogIntervalMs: 60_000,
      },
      partition: pipeline,
      outbox,
      records: stack.records,
      blobs: stack.blobs,
      metrics,
      log: silentLogger(),
      resolve,
    });
    webhooks.start();
    return { webhooks, metrics };
  }

  async function outcomes(metrics: ApiMetrics): Promise<Record<string, number>> {
    const values = (await metrics.webhooks.get()).values;
    return Object.fromEntries(values.map((v) => [String(v.labels.outcome), v.value]));
  }

  const refusedCases: [name: string, url: () => string][] = [
    ['a literal 127.0.0.1', () => `http://127.0.0.1:${port}/hook`],
    ['a public-looking name that resolves to 127.0.0.1', () => `http://hooks.example.com:${port}/hook`],
  ];
  for (const [name, url] of refusedCases) {
    void it(`refuses ${name} without the allowlist: never contacted, counted as refused, not retried, and the job says failed`, async () => {
      hits = 0;
      const job = await finished(url());
      const { webhooks, metrics } = dispatcher(job.pipeline, { allowHttp: true, allowedHosts: [] });
      await waitFor('the refused delivery', async () => (await outcomes(metrics)).refused === 1, 5_000, 10);
      await webhooks.close(100);
      assert.equal(hits, 0);
      assert.deepEqual(await outcomes(metrics), { refused: 1 });
      const record = await stack.records.get(job.pipeline, job.id);
      assert.equal(record?.webhook?.state, 'failed');
      assert.equal(record?.webhook?.attempts, 1);
      assert.match(record?.webhook?.lastError ?? '', /./);
      assert.equal(await outbox.get(job.pipeline, job.id), undefined);
    });
  }

  void it('delivers to 127.0.0.1 when the allowlist names it', async () => {
    hits = 0;
    const job = await finished(`http://127.0.0.1:${port}/hook`);
    const { webhooks, metrics } = dispatcher(job.pipeline, LOOPBACK_WEBHOOKS);
    await waitFor('the delivery', async () => (await outcomes(metrics)).delivered === 1, 5_000, 10);
    await webhooks.close(100);
    assert.equal(hits, 1);
    assert.equal((await stack.records.get(job.pipeline, job.id))?.webhook?.state, 'delivered');
  });

  void it('delivers to a name resolved to 127.0.0.1 when the allowlist names 127.0.0.1', async () => {
    hits = 0;
    const job = await finished(`http://hooks.example.com:${port}/hook`);
    const { webhooks, metrics } = dispatcher(job.pipeline, LOOPBACK_WEBHOOKS);
    await waitFor('the delivery', async () => (await outcomes(metrics)).delivered === 1, 5_000, 10);
    await webhooks.close(100);
    assert.equal(hits, 1);
  });
});
