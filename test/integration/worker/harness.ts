// Shared set-up for the worker tests: a real Azurite and the Service Bus stand-in, the
// worker as a real child process (node src/worker/main.ts), and small helpers to submit a
// job the way the API does (record queued, checked image written to inputs/<jobId>, message enqueued).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { ServiceBusClient } from '@azure/service-bus';
import {
  JobBlobs,
  JobRecords,
  blobServiceClient,
  enqueueJob,
  inputBlobPath,
  sha256Hex,
  sharedKeyCredential,
  tableClient,
  type JobMessage,
  type JobRecord,
  type JobStatus,
  type StorageSettings,
} from '../../../src/jobs/index.ts';
import { startAzurite, type Azurite } from '../../support/azurite.ts';
import { freePort, waitFor } from '../../support/ports.ts';
import { serviceBusClient, startServiceBusStandin, type ServiceBusStandin, type StandinOptions } from '../../support/servicebus.ts';

export const PIPELINE = 'receipts';
export const LOCK_SECONDS = 5;
export const MAX_DELIVERIES = 3;
const MAIN = resolve(import.meta.dirname, '../../../src/worker/main.ts');

export interface Platform {
  azurite: Azurite;
  standin: ServiceBusStandin;
  sb: ServiceBusClient;
  records: JobRecords;
  blobs: JobBlobs;
  createQueue(name: string): void;
  close(): Promise<void>;
}

/** `keys`: the stand-in's SAS keys (default: one with every right), e.g. a Send+Listen key for the worker. */
export async function startPlatform(options: { keys?: StandinOptions['keys'] } = {}): Promise<Platform> {
  const azurite = await startAzurite();
  let standin: ServiceBusStandin | undefined;
  try {
    standin = await startServiceBusStandin({ logger: undefined, ...(options.keys ? { keys: options.keys } : {}) });
  } catch (error) {
    await azurite.stop();
    throw error;
  }
  const settings: StorageSettings = { connectionString: azurite.connectionString, container: 'ocr', table: 'ocrjobs' };
  const sb = serviceBusClient(standin);
  const started = standin;
  return {
    azurite,
    standin,
    sb,
    records: new JobRecords(tableClient(settings)),
    blobs: new JobBlobs(blobServiceClient(settings), settings.container, sharedKeyCredential(settings)),
    createQueue: (name) => started.createQueue({ name, lockDurationSeconds: LOCK_SECONDS, maxDeliveryCount: MAX_DELIVERIES }),
    close: async () => {
      await sb.close().catch(() => {});
      await started.close().catch(() => {});
      await azurite.stop();
    },
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  port: number;
  logs(): string;
  exited: Promise<number | null>;
  get(path: string): Promise<{ status: number; body: string }>;
  waitReady(timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

export async function startWorker(platform: Platform, queue: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      OCR_PIPELINE: PIPELINE,
      OCR_QUEUE_NAME: queue,
      SERVICEBUS_CONNECTION_STRING: platform.standin.connectionString,
      BLOB_CONNECTION_STRING: platform.azurite.connectionString,
      BLOB_CONTAINER: 'ocr',
      JOBS_TABLE: 'ocrjobs',
      WORKER_CONCURRENCY: '1',
      WORKER_MAX_JOB_SECONDS: '60',
      WORKER_MAX_DELIVERY_COUNT: String(MAX_DELIVERIES),
      // Retries fast enough for tests: MAX_DELIVERIES attempts, 0.2 s to 0.4 s apart.
      WORKER_RETRY_MAX_ATTEMPTS: String(MAX_DELIVERIES),
      WORKER_RETRY_BASE_DELAY_SECONDS: '0.2',
      WORKER_RETRY_MAX_DELAY_SECONDS: '0.4',
      METRICS_PORT: String(port),
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  live.add(child);
  void exited.then(() => live.delete(child));
  const get = async (path: string): Promise<{ status: number; body: string }> => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2_000) });
    return { status: response.status, body: await response.text() };
  };
  return {
    child,
    port,
    exited,
    get,
    logs: () => output,
    kill: (signal) => {
      child.kill(signal);
    },
    waitReady: async (timeoutMs = 60_000) => {
      await waitFor(
        'the worker to be ready',
        async () => {
          if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}: ${output.slice(-2000)}`);
          return (await get('/ready')).status === 200;
        },
        timeoutMs,
        100,
      );
    },
  };
}

const live = new Set<ChildProcess>();
/** Kills every worker a test left running (call from `after`). */
export function killAllWorkers(): void {
  for (const child of live) child.kill('SIGKILL');
}

/**
 * A job as the API queues it: record (with the image's hash), image at `inputs/<jobId>`, message.
 * `message` overrides fields of the queue message only (a forged hash, a foreign blobPath).
 * `upload: false` records the image's hash but writes no image (it is "not visible yet").
 */
export async function submitJob(
  platform: Platform,
  queue: string,
  image: Buffer | undefined,
  message: Partial<Pick<JobMessage, 'blobPath' | 'contentHash'>> = {},
  options: { upload?: boolean } = {},
): Promise<string> {
  const jobId = `job-${randomUUID()}`;
  const now = new Date().toISOString();
  const contentHash = sha256Hex(image ?? Buffer.from(jobId));
  const record: JobRecord = {
    id: jobId,
    pipeline: PIPELINE,
    status: 'queued',
    languages: ['eng'],
    options: { pageSegmentation: 'auto' },
    attempts: 0,
    contentHash,
    createdAt: now,
    updatedAt: now,
    queuedAt: now,
  };
  await platform.records.create(record);
  if (image && options.upload !== false) await platform.blobs.putInput(jobId, image);
  const sender = platform.sb.createSender(queue);
  try {
    await enqueueJob(sender, {
      v: 1,
      jobId,
      pipeline: PIPELINE,
      blobPath: inputBlobPath(jobId),
      contentHash,
      languages: ['eng'],
      options: { pageSegmentation: 'auto' },
      ...message,
    });
  } finally {
    await sender.close();
  }
  return jobId;
}

/** The job's record once `check` holds for it; `what` names the wait in the timeout error. Polls every `pollMs` ms. */
export async function waitForRecord(
  platform: Platform,
  jobId: string,
  what: string,
  check: (r: JobRecord) => boolean,
  timeoutMs = 60_000,
  pollMs = 100,
): Promise<JobRecord> {
  let record: JobRecord | undefined;
  await waitFor(
    `job ${jobId}: ${what}`,
    async () => {
      record = await platform.records.get(PIPELINE, jobId);
      return record !== undefined && check(record);
    },
    timeoutMs,
    pollMs,
  );
  return record!;
}

export async function waitForStatus(platform: Platform, jobId: string, statuses: readonly JobStatus[], timeoutMs = 60_000): Promise<JobRecord> {
  return await waitForRecord(platform, jobId, `to reach ${statuses.join(' or ')}`, (r) => statuses.includes(r.status), timeoutMs);
}

/** Dead-lettered messages of a queue, read with peek (they stay there). */
export async function deadLetters(
  platform: Platform,
  queue: string,
): Promise<{ jobId: string; reason: string | undefined; description: string | undefined }[]> {
  const receiver = platform.sb.createReceiver(queue, { subQueueType: 'deadLetter' });
  try {
    const messages = await receiver.peekMessages(100);
    return messages.map((m) => ({ jobId: (m.body as { jobId: string }).jobId, reason: m.deadLetterReason, description: m.deadLetterErrorDescription }));
  } finally {
    await receiver.close();
  }
}

/** The dead letter of `jobId` in `queue` once it is there (peeked, so it stays), waiting up to `timeoutMs`. */
export async function deadLetterOf(
  platform: Platform,
  queue: string,
  jobId: string,
  timeoutMs = 15_000,
): Promise<{ reason: string | undefined; description: string | undefined }> {
  let letter: { reason: string | undefined; description: string | undefined } | undefined;
  await waitFor(
    `job ${jobId} in the dead-letter queue`,
    async () => {
      letter = (await deadLetters(platform, queue)).find((m) => m.jobId === jobId);
      return letter !== undefined;
    },
    timeoutMs,
  );
  return letter!;
}
