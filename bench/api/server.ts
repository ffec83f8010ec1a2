// The API under benchmark, as its own process so it can be pinned to one core.
// BENCH_MODE=azurite: the real app with real JobRecords/JobBlobs against Azurite
// and the Service Bus stand-in (connection strings from the environment).
// BENCH_MODE=memory: the real app with the in-process store ("API overhead
// without storage"). BENCH_MODE=bare: a bare Fastify route (the anchor).
// The app listens as src/api/main.ts does (src/api/listen.ts); the bare route on Fastify's one socket.
// Prints "ready <port>" on stdout. Both stores get one finished job to make cache hits.
import { ServiceBusClient } from '@azure/service-bus';
import fastify from 'fastify';
import {
  JobBlobs,
  JobRecords,
  blobServiceClient,
  dedupeKey,
  sha256Hex,
  sharedKeyCredential,
  tableClient,
  type OcrResult,
  type StorageSettings,
} from '../../src/jobs/index.ts';
import { buildApp } from '../../src/api/app.ts';
import { ApiKeys } from '../../src/api/auth.ts';
import { listenAccepting } from '../../src/api/listen.ts';
import { testConfig } from '../../test/support/api-config.ts';
import { ServiceBusJobQueue } from '../../src/api/queue.ts';
import { silentLogger } from '../../src/shared/logger.ts';
import { MemoryBlobs, MemoryQueue, MemoryRecords } from './memory-store.ts';

const mode = process.env.BENCH_MODE ?? 'memory';
const port = Number(process.env.PORT ?? 0);
const key = process.env.BENCH_KEY ?? 'bench-key';
const image = Buffer.from(process.env.BENCH_IMAGE_B64 ?? '', 'base64');
const pipeline = 'bench';

async function seed(
  write: (result: OcrResult) => Promise<unknown>,
  records: { create: JobRecords['create']; rememberResult: JobRecords['rememberResult'] },
): Promise<void> {
  const jobId = 'job-bench-cached-0001';
  const now = new Date().toISOString();
  await records
    .create({
      id: jobId,
      pipeline,
      status: 'succeeded',
      languages: ['eng'],
      options: { pageSegmentation: 'auto' },
      attempts: 1,
      createdAt: now,
      updatedAt: now,
      finishedAt: now,
    })
    .catch(() => undefined);
  await write({
    jobId,
    text: 'CACHED',
    lines: [],
    meanConfidence: 90,
    languages: ['eng'],
    image: { width: 1, height: 1, format: 'png' },
    timings: { downloadMs: 0, preprocessMs: 0, recognizeMs: 0, totalMs: 0 },
    worker: 'bench',
    completedAt: now,
  });
  await records.rememberResult(pipeline, dedupeKey(sha256Hex(image), ['eng'], { pageSegmentation: 'auto' }), jobId);
}

async function main(): Promise<void> {
  if (mode === 'bare') {
    const app = fastify({ logger: false });
    app.post('/v1/jobs', async () => ({ job: { id: 'job-00000000', status: 'awaiting_upload' }, upload: { url: 'http://127.0.0.1/x', method: 'PUT' } }));
    await app.listen({ port, host: '127.0.0.1', backlog: 4096 });
    process.stdout.write(`ready ${(app.server.address() as { port: number }).port}\n`);
    // As below: exit by draining, so --cpu-prof can write the anchor's profile too.
    process.once('SIGTERM', () => void app.close().then(() => setTimeout(() => process.exit(0), 3_000).unref()));
    return;
  }
  // Upload caps off (one key at 10 connections would otherwise meet the per-key cap): the benchmark measures the API's own cost.
  const config = testConfig({ pipeline, rateLimitPerMinute: 0, syncTimeoutSeconds: 5, maxConcurrentUploads: 100_000, maxConcurrentUploadsPerKey: 100_000 });
  const keys = ApiKeys.parse(`bench:${key}\n`);
  let app;
  if (mode === 'azurite') {
    const storage: StorageSettings = { connectionString: process.env.BLOB_CONNECTION_STRING, container: 'ocr', table: 'ocrjobs' };
    const records = new JobRecords(tableClient(storage));
    const blobs = new JobBlobs(blobServiceClient(storage), storage.container, sharedKeyCredential(storage));
    await records.ping();
    await blobs.ping();
    await seed((r) => blobs.writeResult(r), records);
    const queue = new ServiceBusJobQueue(new ServiceBusClient(process.env.SERVICEBUS_CONNECTION_STRING ?? ''), process.env.OCR_QUEUE_NAME ?? 'ocr-jobs');
    app = await buildApp({ config, records, blobs, queue, keys, logger: silentLogger() });
  } else {
    const records = new MemoryRecords();
    const blobs = new MemoryBlobs();
    await seed(async (r) => blobs.writeResult(r), records);
    app = await buildApp({ config, records, blobs, queue: new MemoryQueue(), keys, logger: silentLogger() });
  }
  // Listens as src/api/main.ts does (several accepting sockets); BENCH_ACCEPT_SOCKETS=1 listens on Fastify's one socket, for comparison.
  const sockets = process.env.BENCH_ACCEPT_SOCKETS ? Number(process.env.BENCH_ACCEPT_SOCKETS) : undefined;
  const listening = await listenAccepting(app, { port, host: '127.0.0.1', backlog: 4096, ...(sockets ? { sockets } : {}) });
  process.stdout.write(`ready ${listening.port}\n`);
  // Exit by draining the event loop (so --cpu-prof can write its profile); force after 3 s.
  process.once(
    'SIGTERM',
    () =>
      void listening
        .close()
        .then(() => app.close())
        .then(() => setTimeout(() => process.exit(0), 3_000).unref()),
  );
}

await main();
