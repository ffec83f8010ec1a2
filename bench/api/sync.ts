// The sync endpoint's added latency: the time from the worker's terminal record write to the
// client's response of POST /v1/ocr, with real processes (node src/api/main.ts and node
// src/worker/main.ts with tesseract.js) on Azurite and the Service Bus stand-in, all on loopback.
//
// Both ends are on this machine's clock: the record's updatedAt is stamped by the worker just
// before its Table write (JobRecords.transition, ms), the receive time by this process once the
// whole response is in. The API's fast poll is set to 2 s (API_POLL_INTERVAL_MS), so an answer
// within tens of ms can only come from the worker's notice (src/worker/notify.ts -> the API's
// internal port -> PushWaiter). Run: node bench/api/sync.ts [samples, default 30]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEY, KEYS_FILE, QUEUE, startStack, type Stack } from '../../test/integration/api/helpers.ts';
import { textImage } from '../../test/integration/api/images.ts';
import { killAll, startApiProcess, startWorker, type Child } from '../../test/integration/api/processes.ts';
import { freePort } from '../../test/support/ports.ts';

const PIPELINE = 'syncbench';

export interface SyncOverhead {
  p50Ms: number;
  p99Ms: number;
  samples: number;
}

/** The value below which `q` (0..1) of the sorted values lie (nearest rank). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** One sync request; the ms from the job's terminal record write to the end of the response. */
async function sample(stack: Stack, api: Child, image: Buffer): Promise<number> {
  const response = await fetch(`${api.url}/v1/ocr`, {
    method: 'POST',
    headers: { 'x-api-key': KEY, 'content-type': 'image/png' },
    body: image,
    signal: AbortSignal.timeout(120_000),
  });
  const body = (await response.json()) as { jobId?: string; status?: string; cached?: boolean };
  const received = Date.now();
  if (response.status !== 200 || body.cached !== false || !body.jobId) throw new Error(`POST /v1/ocr answered ${response.status}: ${JSON.stringify(body)}`);
  const record = await stack.records.get(PIPELINE, body.jobId);
  if (!record) throw new Error(`job ${body.jobId} has no record`);
  return received - Date.parse(record.updatedAt);
}

export async function measureSyncOverhead(options: { samples: number }): Promise<SyncOverhead> {
  const stack = await startStack();
  const dir = await mkdtemp(join(tmpdir(), 'ocr-sync-bench-'));
  let api: Child | undefined;
  let worker: Child | undefined;
  try {
    await writeFile(join(dir, 'keys'), KEYS_FILE);
    const internalPort = await freePort();
    const shared = {
      OCR_PIPELINE: PIPELINE,
      OCR_QUEUE_NAME: QUEUE,
      OCR_LANGUAGES: 'eng',
      SERVICEBUS_CONNECTION_STRING: stack.standin.connectionString,
      BLOB_CONNECTION_STRING: stack.azurite.connectionString,
      BLOB_CONTAINER: stack.storage.container,
      JOBS_TABLE: stack.storage.table,
    };
    [worker, api] = await Promise.all([
      startWorker({ ...shared, WORKER_NOTIFY_PORT: String(internalPort) }),
      startApiProcess({
        ...shared,
        API_KEYS_FILE: join(dir, 'keys'),
        API_POD_IP: '127.0.0.1',
        API_INTERNAL_PORT: String(internalPort),
        API_POLL_INTERVAL_MS: '2000',
        SYNC_TIMEOUT_SECONDS: '120',
        API_RATE_LIMIT_PER_MINUTE: '0',
      }),
    ]);
    const run = Date.now().toString(36);
    await sample(stack, api, await textImage([`WARM ${run}`])); // the first job loads the worker's models
    const overheads: number[] = [];
    for (let i = 0; i < options.samples; i++) overheads.push(await sample(stack, api, await textImage([`SYNC ${run} ${i}`])));
    overheads.sort((a, b) => a - b);
    return { p50Ms: percentile(overheads, 0.5), p99Ms: percentile(overheads, 0.99), samples: overheads.length };
  } finally {
    await api?.stop();
    await worker?.stop();
    killAll();
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const samples = Number(process.argv[2] ?? 30);
  const load = loadavg()[0]!.toFixed(2);
  const result = await measureSyncOverhead({ samples });
  console.log(
    `sync overhead (worker's result write -> client response, loopback): p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.samples} samples (load ${load} before, ${loadavg()[0]!.toFixed(2)} after)`,
  );
}
