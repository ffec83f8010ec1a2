// Helpers for the API tests: real Azurite and the Service Bus stand-in, the app
// built from the factory with real clients, multipart bodies, and counters that
// prove "no half-made job" (records in the pipeline's partition, blobs, messages).
import { ServiceBusClient } from '@azure/service-bus';
import { createServer, type Server } from 'node:http';
import { TableClient } from '@azure/data-tables';
import type { FastifyInstance } from 'fastify';
import {
  JobBlobs,
  JobRecords,
  WebhookOutbox,
  blobServiceClient,
  dedupeKey,
  inputBlobPath,
  resultBlobPath,
  sharedKeyCredential,
  tableClient,
  uploadBlobPath,
  type JobRecord,
  type StorageSettings,
} from '../../../src/jobs/index.ts';
import { ApiKeys } from '../../../src/api/auth.ts';
import { ENV } from '../../../src/contract/container.ts';
import { jobRecord, ocrResult } from '../../../src/jobs/testing/fixtures.ts';
import { buildApp } from '../../../src/api/app.ts';
import type { ApiConfig } from '../../../src/api/config.ts';
import { testConfig } from '../../support/api-config.ts';
import { ServiceBusJobQueue } from '../../../src/api/queue.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { startAzurite, type Azurite } from '../../support/azurite.ts';
import { startServiceBusStandin, type ServiceBusStandin } from '../../support/servicebus.ts';
import { rm } from 'node:fs/promises';
import { killAll, type Child } from './processes.ts';

export const QUEUE = 'ocr-jobs';
export const KEYS_FILE = 'tester:key-tester-0123456789\nother:key-other-9876543210\n';
export const KEY = 'key-tester-0123456789';

export interface Stack {
  azurite: Azurite;
  standin: ServiceBusStandin;
  storage: StorageSettings;
  records: JobRecords;
  blobs: JobBlobs;
  table: TableClient;
  stop(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const azurite = await startAzurite();
  let standin: ServiceBusStandin;
  try {
    standin = await startServiceBusStandin({ queues: [{ name: QUEUE, lockDurationSeconds: 30, maxDeliveryCount: 3 }] });
  } catch (error) {
    await azurite.stop();
    throw error;
  }
  const storage: StorageSettings = { connectionString: azurite.connectionString, container: 'ocr', table: 'ocrjobs' };
  const records = new JobRecords(tableClient(storage));
  const blobs = new JobBlobs(blobServiceClient(storage), storage.container, sharedKeyCredential(storage));
  await records.ping();
  await blobs.ping();
  return {
    azurite,
    standin,
    storage,
    records,
    blobs,
    table: tableClient(storage),
    stop: async () => {
      await standin.close().catch(() => undefined);
      await azurite.stop();
    },
  };
}

/**
 * The `after()` of a test that ran the API and/or the worker as child processes: stops the children in the
 * order given, SIGKILLs any a test left running, closes the clients, stops Azurite and the stand-in and
 * removes the temp dir. Any part may be undefined (a `before()` that failed half way). Every step runs even
 * when an earlier one fails; the failures are thrown together at the end.
 */
export async function stopAll(parts: {
  children?: (Child | undefined)[];
  clients?: ({ close(): Promise<unknown> } | undefined)[];
  stack?: Stack | undefined;
  dir?: string | undefined;
}): Promise<void> {
  const { children = [], clients = [], stack, dir } = parts;
  const steps: (() => Promise<unknown>)[] = [
    ...children.map((child) => async () => await child?.stop()),
    async () => killAll(),
    ...clients.map((client) => async () => await client?.close()),
    async () => await stack?.stop(),
    async () => (dir ? await rm(dir, { recursive: true, force: true }) : undefined),
  ];
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, `teardown: ${failures.length} step(s) failed`);
}

export interface TestApp {
  app: FastifyInstance;
  config: ApiConfig;
  close(): Promise<void>;
}

/** The app from the factory, with real storage and queue clients; `keysFile: null` runs it with authentication off (API_AUTH=disabled). */
export async function startApp(stack: Stack, overrides: Partial<ApiConfig> = {}, keysFile: string | null = KEYS_FILE): Promise<TestApp> {
  const config = testConfig({ pipeline: 'test', ...overrides });
  const queue = new ServiceBusJobQueue(serviceBusClient(stack), QUEUE);
  const app = await buildApp({
    config,
    records: stack.records,
    blobs: stack.blobs,
    queue,
    keys: keysFile === null ? undefined : ApiKeys.parse(keysFile),
    outbox: new WebhookOutbox(stack.table),
    logger: silentLogger(),
  });
  await app.ready();
  return {
    app,
    config,
    close: async () => {
      await app.close();
      await queue.close();
    },
  };
}

/** A multipart body as fetch would send it. */
export async function multipart(
  fields: Record<string, string>,
  file?: { bytes: Uint8Array; name?: string; type?: string; field?: string },
): Promise<{ body: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file) form.append(file.field ?? 'file', new Blob([file.bytes], { type: file.type ?? 'application/octet-stream' }), file.name ?? 'image.bin');
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return { body: Buffer.from(await request.arrayBuffer()), headers: { 'content-type': request.headers.get('content-type') ?? '' } };
}

/** Job records in the pipeline's partition (not the dedupe index, not the webhook outbox rows `~webhook~<jobId>`). */
export async function countRecords(stack: Stack, pipeline: string): Promise<number> {
  let n = 0;
  for await (const _ of stack.table.listEntities({ queryOptions: { filter: `PartitionKey eq '${pipeline}' and RowKey lt '~'`, select: ['RowKey'] } })) n++;
  return n;
}

/** Stored images: client uploads (`uploads/`) and the checked inputs the worker reads (`inputs/`). */
export async function countUploads(stack: Stack): Promise<number> {
  let n = 0;
  for (const prefix of ['uploads/', 'inputs/']) for await (const _ of stack.blobs.container.listBlobsFlat({ prefix })) n++;
  return n;
}

export function queued(stack: Stack): number {
  return stack.standin.counts(QUEUE).totalMessageCount;
}

/** Records, uploads and messages, for before/after comparisons. */
export async function footprint(stack: Stack, pipeline: string): Promise<{ records: number; uploads: number; messages: number }> {
  return { records: await countRecords(stack, pipeline), uploads: await countUploads(stack), messages: queued(stack) };
}

/** The environment the API and worker processes share: pipeline, queue, English and the stack's storage and broker. */
export function processEnv(stack: Stack, pipeline: string): Record<string, string> {
  return {
    [ENV.pipeline]: pipeline,
    [ENV.queueName]: QUEUE,
    [ENV.languages]: 'eng',
    [ENV.serviceBusConnectionString]: stack.standin.connectionString,
    [ENV.blobConnectionString]: stack.azurite.connectionString,
    [ENV.blobContainer]: stack.storage.container,
    [ENV.jobsTable]: stack.storage.table,
  };
}

export interface ReceivedHook {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface HookReceiver {
  /** http://127.0.0.1:<port>/hook; loopback, so the API needs LOOPBACK_WEBHOOKS_ENV to deliver to it. */
  url: string;
  /** Every delivery in arrival order; tests may empty it with `hooks.length = 0`. */
  hooks: ReceivedHook[];
  close(): Promise<void>;
}

/** A webhook receiver on loopback that answers 204 to every delivery and keeps its headers and body. */
export async function startHookReceiver(): Promise<HookReceiver> {
  const hooks: ReceivedHook[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (c: Buffer) => {
      body += c.toString();
    });
    request.on('end', () => {
      hooks.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`,
    hooks,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A client of the stack's stand-in that gives up quickly (one retry, 5 s timeout), so a broken broker fails a test at once. */
export function serviceBusClient(stack: Stack): ServiceBusClient {
  return new ServiceBusClient(stack.standin.connectionString, { retryOptions: { maxRetries: 1, timeoutInMs: 5_000, retryDelayInMs: 100 } });
}

/** A finished job as the API and worker leave it: `record` (it needs a contentHash) stored, its upload, input and result blobs written, its dedupe entry kept. */
export async function storeFinishedJob(stack: Stack, record: JobRecord): Promise<{ job: JobRecord; key: string }> {
  if (!record.contentHash) throw new Error(`storeFinishedJob: record ${record.id} has no contentHash, which its dedupe entry needs`);
  const job = await stack.records.create(record);
  await stack.blobs.putUpload(job.id, Buffer.from('upload'));
  await stack.blobs.putInput(job.id, Buffer.from('input'));
  await stack.blobs.writeResult(ocrResult({ jobId: job.id, text: 'TOTAL 1.00', completedAt: new Date().toISOString() }));
  const key = dedupeKey(record.contentHash, job.languages, job.options);
  await stack.records.rememberResult(job.pipeline, key, job.id);
  return { job, key };
}

/** Whether the job's upload, input and result blobs exist, in that order. */
export async function blobsOf(stack: Stack, jobId: string): Promise<boolean[]> {
  return await Promise.all(
    [uploadBlobPath(jobId), inputBlobPath(jobId), resultBlobPath(jobId)].map((p) => stack.blobs.container.getBlockBlobClient(p).exists()),
  );
}

/** The content hash agedRecord gives a job past awaiting_upload, unless `extra` names another. */
export const AGED_RECORD_HASH = 'a'.repeat(64);
let agedSerial = 0;

/** A record as the API writes it in `pipeline`, last changed `ageSeconds` ago; past awaiting_upload it has a content hash and queuedAt. */
export function agedRecord(pipeline: string, status: JobRecord['status'], ageSeconds: number, extra: Partial<JobRecord> = {}): JobRecord {
  const at = new Date(Date.now() - ageSeconds * 1000).toISOString();
  agedSerial++;
  return jobRecord({
    id: `job-aged-${process.pid}-${agedSerial}`,
    pipeline,
    status,
    createdAt: at,
    updatedAt: at,
    ...(status === 'awaiting_upload' ? {} : { contentHash: AGED_RECORD_HASH, queuedAt: at }),
    ...extra,
  });
}
