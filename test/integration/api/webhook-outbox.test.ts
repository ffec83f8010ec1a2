// Durable webhooks (issue 12, item 5) on real parts: Azurite holds the records and the outbox,
// the app is the real one (built by the factory, with the stand-in queue), and a receiver on
// 127.0.0.1 answers as each case needs. A terminal move writes the record and its outbox row
// in one transaction; any replica delivers; a replica that dies holding a claim loses nothing;
// a failing receiver gets the same delivery id until it answers 2xx; the job shows where its
// webhook stands.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, WebhookOutbox, verifyWebhook, type JobRecord } from '../../../src/jobs/index.ts';
import { ENV } from '../../../src/contract/container.ts';
import { LOOPBACK_WEBHOOKS, LOOPBACK_WEBHOOKS_ENV } from '../../support/api-config.ts';
import { waitFor } from '../../support/ports.ts';
import { KEY, QUEUE, processEnv, startApp, startStack, type Stack, type TestApp } from './helpers.ts';
import { killAll, startApiProcess } from './processes.ts';
import { startServiceBusStandin } from '../../support/servicebus.ts';
import { textImage } from './images.ts';

const SECRET = 'outbox-s3cret';
const auth = { 'x-api-key': KEY };

interface Delivery {
  id: string;
  event: string;
  body: string;
  signed: boolean;
}

/** What the receiver does with the next request: answer with a status, or never answer. */
type Answer = number | 'hang';

interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** Decides each answer; default 204. */
  answer: (delivery: Delivery) => Answer;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const hanging: ServerResponse[] = [];
  const receiver: Receiver = { url: '', deliveries: [], answer: () => 204, close: async () => undefined };
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const delivery: Delivery = {
        id: String(request.headers[DELIVERY_HEADER]),
        event: String(request.headers[EVENT_HEADER]),
        body,
        signed: verifyWebhook(SECRET, request.headers[SIGNATURE_HEADER] as string | undefined, body),
      };
      receiver.deliveries.push(delivery);
      const answer = receiver.answer(delivery);
      if (answer === 'hang') hanging.push(response);
      else response.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  receiver.url = `http://127.0.0.1:${port}/hook`;
  receiver.close = async () => {
    for (const response of hanging) response.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

let seq = 0;

/** A processing job of the key "tester" in `pipeline`, with a webhook to `url`, as the worker finds it. */
async function processingJob(stack: Stack, pipeline: string, url: string | undefined): Promise<JobRecord> {
  const now = new Date().toISOString();
  const id = `job-outbox-${process.pid}-${++seq}`;
  return await stack.records.create({
    id,
    pipeline,
    owner: 'tester',
    status: 'processing',
    languages: ['eng'],
    options: { pageSegmentation: 'auto' },
    attempts: 1,
    createdAt: now,
    updatedAt: now,
    queuedAt: now,
    startedAt: now,
    ...(url ? { webhookUrl: url } : {}),
  });
}

/** Fails a job as the worker does (records.transition), which must write its outbox row in the same transaction. */
async function fail(stack: Stack, job: JobRecord): Promise<JobRecord | undefined> {
  return await stack.records.transition(job.pipeline, job.id, {
    to: 'failed',
    from: ['processing'],
    patch: { errorCode: 'IMAGE_CORRUPT', errorMessage: 'not an image', finishedAt: new Date().toISOString() },
  });
}

async function view(api: TestApp, jobId: string): Promise<Record<string, unknown>> {
  const response = await api.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}`, headers: auth });
  assert.equal(response.statusCode, 200, response.body);
  return response.json();
}

void describe('the webhook outbox', () => {
  let stack: Stack;
  let outbox: WebhookOutbox;
  let receiver: Receiver;
  const apps: TestApp[] = [];

  before(async () => {
    stack = await startStack();
    outbox = new WebhookOutbox(stack.table);
    receiver = await startReceiver();
  });

  after(async () => {
    killAll();
    for (const api of apps) await api.close().catch(() => undefined);
    await receiver?.close();
    await stack?.stop();
  });

  async function replica(overrides: Parameters<typeof startApp>[1] = {}): Promise<TestApp> {
    const api = await startApp(stack, { webhookSecret: SECRET, webhookEgress: LOOPBACK_WEBHOOKS, ...overrides });
    apps.push(api);
    return api;
  }

  void describe('terminal transitions', () => {
    void it('a job with a webhook that fails gets its record and a pending outbox row with a stable delivery id', async () => {
      const job = await processingJob(stack, 'outbox-writes', receiver.url);
      const failed = await fail(stack, job);
      assert.deepEqual(failed?.webhook, { state: 'pending', attempts: 0 });
      const stored = await stack.records.get(job.pipeline, job.id);
      assert.deepEqual(stored?.webhook, { state: 'pending', attempts: 0 });
      const row = await outbox.get(job.pipeline, job.id);
      assert.equal(row?.deliveryId, `${job.id}.failed`);
      assert.equal(row?.event, 'job.failed');
      assert.equal(row?.url, receiver.url);
      assert.equal(row?.attempts, 0);
    });

    void it('two workers finishing the same job at once: one move wins, the other sees the ETag conflict and backs off', async () => {
      const job = await processingJob(stack, 'outbox-writes', receiver.url);
      const outcomes = await Promise.all([fail(stack, job), fail(stack, job), fail(stack, job)]);
      assert.equal(outcomes.filter((o) => o !== undefined).length, 1);
      assert.equal((await outbox.get(job.pipeline, job.id))?.deliveryId, `${job.id}.failed`);
    });

    void it('a job without a webhook gets no outbox row and no webhook state', async () => {
      const job = await processingJob(stack, 'outbox-writes', undefined);
      const failed = await fail(stack, job);
      assert.equal(failed?.webhook, undefined);
      assert.equal(await outbox.get(job.pipeline, job.id), undefined);
    });

    void it('a move that is not terminal writes no outbox row', async () => {
      const job = await processingJob(stack, 'outbox-writes', receiver.url);
      await stack.records.transition(job.pipeline, job.id, { to: 'queued', from: ['processing'] });
      assert.equal(await outbox.get(job.pipeline, job.id), undefined);
      assert.equal((await stack.records.get(job.pipeline, job.id))?.webhook, undefined);
    });

    void it('a finished record whose write fails leaves no outbox row behind (one transaction)', async () => {
      const job = await processingJob(stack, 'outbox-writes', receiver.url);
      const now = new Date().toISOString();
      // The same id again, born succeeded (as a cache hit is): the record's create fails (409), so the row must not exist.
      await assert.rejects(stack.records.create({ ...job, status: 'succeeded', finishedAt: now, updatedAt: now }));
      assert.equal(await outbox.get(job.pipeline, job.id), undefined);
      assert.equal((await stack.records.get(job.pipeline, job.id))?.status, 'processing');
    });
  });

  void describe('delivery', () => {
    void it('a replica delivers the signed event once, with the delivery id, and the job shows delivered', async () => {
      const api = await replica();
      const job = await processingJob(stack, api.config.pipeline, receiver.url);
      receiver.answer = () => 204;
      await fail(stack, job);
      await waitFor('the delivery', () => receiver.deliveries.some((d) => d.id === `${job.id}.failed`), 10_000, 20);
      await waitFor('the delivered state', async () => ((await view(api, job.id)).webhookDelivery as { state: string }).state === 'delivered', 5_000, 20);
      const mine = receiver.deliveries.filter((d) => d.id === `${job.id}.failed`);
      assert.equal(mine.length, 1);
      assert.equal(mine[0]?.event, 'job.failed');
      assert.equal(mine[0]?.signed, true);
      assert.deepEqual(JSON.parse(mine[0]?.body ?? '{}').error, { code: 'IMAGE_CORRUPT', message: 'not an image' });
      const shown = await view(api, job.id);
      assert.equal(shown.webhook, true);
      const delivery = shown.webhookDelivery as { state: string; attempts: number; deliveredAt?: string };
      assert.equal(delivery.state, 'delivered');
      assert.equal(delivery.attempts, 1);
      assert.ok(delivery.deliveredAt && !Number.isNaN(Date.parse(delivery.deliveredAt)));
      await api.close();
    });

    void it('a receiver that answers 500 for a while gets the same delivery id until it answers 2xx, and the job shows the attempts', async () => {
      const api = await replica({ webhookAttempts: 10, webhookBaseDelayMs: 20, webhookMaxDelayMs: 100 });
      const job = await processingJob(stack, api.config.pipeline, receiver.url);
      let failing = true;
      receiver.answer = (d) => (d.id === `${job.id}.failed` && failing ? 500 : 204);
      await fail(stack, job);
      // While the receiver fails, the job shows pending with the attempts so far and why they failed.
      await waitFor(
        'two failed attempts on the job',
        async () => {
          const delivery = (await view(api, job.id)).webhookDelivery as { state: string; attempts: number } | undefined;
          return delivery?.state === 'pending' && delivery.attempts >= 2;
        },
        10_000,
        20,
      );
      const pending = (await view(api, job.id)).webhookDelivery as { state: string; lastError?: string };
      assert.equal(pending.lastError, 'receiver answered 500');
      failing = false;
      await waitFor('the delivered state', async () => ((await view(api, job.id)).webhookDelivery as { state: string }).state === 'delivered', 10_000, 20);
      const mine = receiver.deliveries.filter((d) => d.id === `${job.id}.failed`);
      const delivered = (await view(api, job.id)).webhookDelivery as { attempts: number };
      assert.ok(delivered.attempts > 2, `attempts ${delivered.attempts}`);
      assert.equal(mine.length, delivered.attempts);
      assert.ok(mine.every((d) => d.signed && d.event === 'job.failed'));
      assert.equal(await outbox.get(job.pipeline, job.id), undefined);
      await api.close();
    });

    void it('a webhook whose attempts run out is failed with its last error, and its row is gone', async () => {
      const api = await replica({ webhookAttempts: 2, webhookBaseDelayMs: 20, webhookMaxDelayMs: 50 });
      const job = await processingJob(stack, api.config.pipeline, receiver.url);
      receiver.answer = (d) => (d.id === `${job.id}.failed` ? 503 : 204);
      await fail(stack, job);
      await waitFor('the failed state', async () => ((await view(api, job.id)).webhookDelivery as { state: string }).state === 'failed', 10_000, 20);
      assert.deepEqual((await view(api, job.id)).webhookDelivery, { state: 'failed', attempts: 2, lastError: 'receiver answered 503' });
      assert.equal(receiver.deliveries.filter((d) => d.id === `${job.id}.failed`).length, 2);
      assert.equal(await outbox.get(job.pipeline, job.id), undefined);
      await api.close();
    });

    void it('a replica that dies holding a claim loses nothing: another replica delivers after the claim runs out', async () => {
      const leaseMs = 6_000;
      const first = await replica({ webhookLeaseMs: leaseMs, webhookTimeoutMs: 2_500 });
      const job = await processingJob(stack, first.config.pipeline, receiver.url);
      // The first attempt never gets an answer; the first replica dies while it waits.
      receiver.answer = (d) => (d.id === `${job.id}.failed` && receiver.deliveries.filter((x) => x.id === d.id).length === 1 ? 'hang' : 204);
      await fail(stack, job);
      await waitFor('the first attempt', () => receiver.deliveries.some((d) => d.id === `${job.id}.failed`), 10_000, 20);
      const claimed = await outbox.get(job.pipeline, job.id);
      assert.ok(claimed && Date.parse(claimed.claimedUntil) > Date.now(), 'the first replica holds a claim');
      await first.close();
      const diedAt = Date.now();
      const second = await replica({ webhookLeaseMs: leaseMs, webhookTimeoutMs: 2_500 });
      await waitFor(
        'the delivered state',
        async () => ((await view(second, job.id)).webhookDelivery as { state: string } | undefined)?.state === 'delivered',
        15_000,
        50,
      );
      const mine = receiver.deliveries.filter((d) => d.id === `${job.id}.failed`);
      assert.equal(mine.length, 2, 'the lost attempt and the one that delivered, with the same delivery id');
      // Not before the claim ran out: the second replica waited for it.
      assert.ok(Date.now() >= Date.parse(claimed.claimedUntil), `delivered ${Date.now() - diedAt} ms after the first replica died`);
      assert.equal(await outbox.get(job.pipeline, job.id), undefined);
      await second.close();
    });

    void it('a replica claims no more webhooks than it has room for (twice its concurrency), leaving the rest to others', async () => {
      const api = await replica({ webhookMaxConcurrent: 1, webhookLeaseMs: 5_000, webhookTimeoutMs: 4_000 });
      const jobs = await Promise.all(Array.from({ length: 5 }, () => processingJob(stack, api.config.pipeline, receiver.url)));
      const ids = new Set(jobs.map((job) => `${job.id}.failed`));
      receiver.answer = (d) => (ids.has(d.id) ? 'hang' : 204);
      for (const job of jobs) await fail(stack, job);
      await waitFor('the first attempt', () => receiver.deliveries.some((d) => ids.has(d.id)), 10_000, 20);
      await new Promise((resolve) => setTimeout(resolve, 500)); // ten more polls
      const rows = await Promise.all(jobs.map((job) => outbox.get(job.pipeline, job.id)));
      const claimed = rows.filter((row) => row && Date.parse(row.claimedUntil) > Date.now());
      assert.equal(claimed.length, 2);
      assert.equal(receiver.deliveries.filter((d) => ids.has(d.id)).length, 1, 'one attempt on the wire, one waiting for the slot');
      await api.close();
    });

    void it('two replicas polling the same outbox deliver every webhook exactly once when nothing fails', async (t) => {
      const pipeline = `outbox-pair-${process.pid}`;
      // A generous attempt timeout: on a busy machine a 1 s timeout can cut off an answered attempt, which is then (rightly) sent again.
      const settings = { pipeline, webhookTimeoutMs: 15_000, webhookLeaseMs: 30_000 };
      const pair = [await replica(settings), await replica(settings)];
      const jobs = await Promise.all(Array.from({ length: 60 }, () => processingJob(stack, pipeline, receiver.url)));
      const ids = new Set(jobs.map((job) => `${job.id}.failed`));
      receiver.answer = () => 204;
      const started = Date.now();
      await Promise.all(jobs.map((job) => fail(stack, job)));
      const mine = () => receiver.deliveries.filter((d) => ids.has(d.id));
      await waitFor('60 deliveries', () => new Set(mine().map((d) => d.id)).size === ids.size, 30_000, 20);
      t.diagnostic(`60 webhooks delivered by 2 replicas in ${Date.now() - started} ms`);
      await new Promise((resolve) => setTimeout(resolve, 300)); // a late duplicate would show up by now
      assert.equal(mine().length, ids.size, 'no delivery id twice');
      for (const api of pair) await api.close();
    });

    void it('the backlog gauges count the pending rows and the age of the oldest', async () => {
      const pipeline = `outbox-gauges-${process.pid}`;
      for (let i = 0; i < 3; i++) await fail(stack, await processingJob(stack, pipeline, receiver.url));
      const backlog = await outbox.backlog(pipeline, 100);
      assert.equal(backlog.rows, 3);
      assert.equal(backlog.truncated, false);
      assert.ok(backlog.oldestCreatedAt && Date.parse(backlog.oldestCreatedAt) <= Date.now());
      const capped = await outbox.backlog(pipeline, 2);
      assert.equal(capped.rows, 2);
      assert.equal(capped.truncated, true);
    });
  });
  void describe('jobs the API fails itself', () => {
    void it('a submitted job the API could not queue is failed with ENQUEUE_FAILED and its webhook still goes out', async () => {
      const standin = await startServiceBusStandin({ queues: [QUEUE] });
      const api = await startApp({ ...stack, standin }, { pipeline: 'outbox-noqueue', webhookSecret: SECRET, webhookEgress: LOOPBACK_WEBHOOKS });
      apps.push(api);
      receiver.answer = () => 204;
      const created = await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: { webhookUrl: receiver.url } });
      assert.equal(created.statusCode, 201, created.body);
      const { job, upload } = created.json();
      await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: await textImage(['NO QUEUE HOOK']) });
      await standin.close();
      const response = await api.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/submit`, headers: auth });
      assert.equal(response.json().error?.code, 'QUEUE_UNAVAILABLE', response.body);
      await waitFor('the webhook of the failed job', () => receiver.deliveries.some((d) => d.id === `${job.id}.failed`), 10_000, 20);
      const delivery = receiver.deliveries.find((d) => d.id === `${job.id}.failed`);
      assert.equal(JSON.parse(delivery?.body ?? '{}').error?.code, 'ENQUEUE_FAILED');
      await waitFor('the delivered state', async () => ((await view(api, job.id)).webhookDelivery as { state: string }).state === 'delivered', 5_000, 20);
      await api.close();
    });
  });

  void describe('with API processes', () => {
    void it('an API process SIGKILLed while its attempt is on the wire loses nothing: the next process delivers with the same delivery id', async () => {
      const pipeline = `outbox-procs-${process.pid}`;
      const env = {
        ...processEnv(stack, pipeline),
        [ENV.apiAuth]: 'disabled',
        [ENV.webhookSecret]: SECRET,
        ...LOOPBACK_WEBHOOKS_ENV,
        [ENV.webhookPollIntervalMs]: '100',
        [ENV.webhookLeaseMs]: '6000',
        [ENV.webhookTimeoutMs]: '2500',
      };
      const first = await startApiProcess(env);
      const job = await processingJob(stack, pipeline, receiver.url);
      const id = `${job.id}.failed`;
      receiver.answer = (d) => (d.id === id && receiver.deliveries.filter((x) => x.id === id).length === 1 ? 'hang' : 204);
      await fail(stack, job);
      await waitFor('the first attempt', () => receiver.deliveries.some((d) => d.id === id), 15_000, 20);
      assert.equal(await first.stop('SIGKILL'), null);
      const second = await startApiProcess(env);
      await waitFor('the delivered state', async () => (await stack.records.get(pipeline, job.id))?.webhook?.state === 'delivered', 20_000, 50);
      const mine = receiver.deliveries.filter((d) => d.id === id);
      assert.equal(mine.length, 2, 'the attempt the killed process never finished, and the one that delivered');
      assert.ok(mine.every((d) => d.signed));
      assert.equal(await outbox.get(pipeline, job.id), undefined);
      assert.equal(await second.stop('SIGTERM'), 0, second.logs().slice(-2000));
    });
  });
});
