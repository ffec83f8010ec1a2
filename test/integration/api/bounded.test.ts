// The API as a real process under a pod-sized memory budget: 50 concurrent uploads of
// the maximum size (20 MiB, raw and multipart, from ten keys) must leave its resident
// memory under 512 MiB (the default API pod limit), be answered (accepted, or refused with
// 429/503 and Retry-After) rather than crash it, and leave it ready. Also: failed
// authentication is limited per client address, and the admin port holds what the main
// port no longer shows.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUEUE, startStack, stopAll, type Stack } from './helpers.ts';
import { startApiProcess, type Child } from './processes.ts';

const MAX_UPLOAD = 20 * 1024 * 1024;
const BUDGET_BYTES = 512 * 1024 * 1024;
const UPLOADS = 50;
const KEYS = Array.from({ length: 10 }, (_, i) => ({ name: `k${i}`, key: `key-bounded-${i}-0123456789` }));

let stack: Stack;
let api: Child;
let dir: string;

before(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), 'ocr-bounded-'));
  await writeFile(join(dir, 'keys'), KEYS.map((k) => `${k.name}:${k.key}`).join('\n'));
  api = await startApiProcess({
    OCR_PIPELINE: 'bounded',
    OCR_QUEUE_NAME: QUEUE,
    OCR_LANGUAGES: 'eng',
    SERVICEBUS_CONNECTION_STRING: stack.standin.connectionString,
    BLOB_CONNECTION_STRING: stack.azurite.connectionString,
    BLOB_CONTAINER: stack.storage.container,
    JOBS_TABLE: stack.storage.table,
    API_KEYS_FILE: join(dir, 'keys'),
    API_MAX_UPLOAD_BYTES: String(MAX_UPLOAD),
    // Answer the sync endpoint at once (202): no worker runs here, and the point is the upload.
    SYNC_TIMEOUT_SECONDS: '0',
    // The V8 heap a 512 MiB container leaves room for; RSS is what the limit measures.
    NODE_OPTIONS: '--max-old-space-size=384',
  });
});

after(() => stopAll({ children: [api], stack, dir }));

/** The process's resident set size, in bytes (VmRSS in /proc/<pid>/status). */
async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return Number(kib ?? 0) * 1024;
}

/** A PNG-looking image of `size` bytes (signature, filler, IEND), different per `seed` so no two are the same job. */
function image(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size, seed & 0xff);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes, 0);
  Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]).copy(bytes, size - 12);
  return bytes;
}

void describe('a bounded API process', () => {
  void it(`keeps its RSS under 512 MiB through ${UPLOADS} concurrent ${MAX_UPLOAD / 1024 / 1024} MiB uploads and stays ready`, async (t) => {
    const pid = api.child.pid;
    assert.ok(pid);
    // Two bodies shared by all requests (raw and multipart), so the test process itself stays small.
    const raw = image(MAX_UPLOAD, 1);
    const form = new FormData();
    form.append('file', new Blob([image(MAX_UPLOAD, 2)], { type: 'image/png' }), 'big.png');
    const formRequest = new Request('http://localhost/', { method: 'POST', body: form });
    const multipart = { body: Buffer.from(await formRequest.arrayBuffer()), type: formRequest.headers.get('content-type') ?? '' };

    let peak = await rss(pid);
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rss(pid).catch(() => 0));
        await new Promise((r) => setTimeout(r, 25));
      }
    })();

    const statuses = new Map<string, number>();
    const count = (what: string): void => void statuses.set(what, (statuses.get(what) ?? 0) + 1);
    await Promise.all(
      Array.from({ length: UPLOADS }, async (_, i) => {
        const key = KEYS[i % KEYS.length]?.key ?? '';
        const asForm = i % 2 === 1;
        try {
          const response = await fetch(asForm ? `${api.url}/v1/jobs` : `${api.url}/v1/ocr`, {
            method: 'POST',
            headers: { 'x-api-key': key, 'content-type': asForm ? multipart.type : 'image/png' },
            body: asForm ? multipart.body : raw,
            signal: AbortSignal.timeout(120_000),
          });
          const body = (await response.json()) as { error?: { code: string } };
          if (response.status === 429 || response.status === 503) {
            assert.ok(response.headers.get('retry-after'), `a ${response.status} carries Retry-After`);
            count(`${response.status} ${body.error?.code}`);
          } else count(String(response.status));
        } catch (error) {
          count(`client error: ${(error as Error).message}`);
        }
      }),
    );
    sampling = false;
    await sampler;

    const summary = JSON.stringify(Object.fromEntries(statuses));
    t.diagnostic(`peak RSS ${Math.round(peak / 1024 / 1024)} MiB; answers ${summary}`);
    const accepted = (statuses.get('201') ?? 0) + (statuses.get('202') ?? 0);
    const refused = (statuses.get('429 UPLOADS_PER_KEY_LIMITED') ?? 0) + (statuses.get('503 API_BUSY') ?? 0);
    assert.equal(accepted + refused, UPLOADS, `every upload is accepted or refused with a cap: ${summary}`);
    assert.ok(accepted >= 1, `some uploads were accepted: ${summary}`);
    assert.ok(refused >= 1, `the caps refused some uploads: ${summary}`);
    assert.ok(peak < BUDGET_BYTES, `peak RSS ${Math.round(peak / 1024 / 1024)} MiB is under 512 MiB (${summary})`);
    assert.equal(api.child.exitCode, null, 'the API is still running');
    const ready = await fetch(`${api.url}/ready`);
    assert.equal(ready.status, 200, await ready.text());
    const metrics = await (await fetch(`${api.adminUrl}/metrics`)).text();
    assert.match(metrics, /^ocr_api_uploads_in_flight 0$/m);
    // An accepted upload is stored whole, with the bytes that were sent.
    const stored = [];
    for await (const blob of stack.blobs.container.listBlobsFlat({ prefix: 'inputs/' })) stored.push(blob);
    assert.equal(stored.length, accepted);
    for (const blob of stored) assert.equal(blob.properties.contentLength, MAX_UPLOAD);
  });

  void it('refuses an address with 429 and Retry-After once its authentications keep failing, even with a right key', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 31; i++) {
      last = await fetch(`${api.url}/v1/jobs/job-00000000`, { headers: { 'x-api-key': `wrong-${i}` } });
      await last.body?.cancel();
      if (last.status === 429) break;
    }
    assert.equal(last?.status, 429);
    assert.ok(Number(last?.headers.get('retry-after')) >= 1);
    const right = await fetch(`${api.url}/v1/jobs/job-00000000`, { headers: { 'x-api-key': KEYS[0]?.key ?? '' } });
    assert.equal(right.status, 429);
    assert.equal(((await right.json()) as { error: { code: string } }).error.code, 'AUTH_RATE_LIMITED');
  });

  void it('keeps /metrics, /openapi.json and dependency detail off the main port', async () => {
    for (const path of ['/metrics', '/openapi.json']) {
      const main = await fetch(`${api.url}${path}`);
      await main.body?.cancel();
      assert.equal(main.status, 404, `${path} is not on the main port`);
      const admin = await fetch(`${api.adminUrl}${path}`);
      await admin.body?.cancel();
      assert.equal(admin.status, 200, `${path} is on the admin port`);
    }
    const summary = (await (await fetch(`${api.url}/health`)).json()) as { checks: Record<string, Record<string, unknown>> };
    assert.deepEqual(summary.checks.queue, { ok: true });
    const detail = (await (await fetch(`${api.adminUrl}/health`)).json()) as { checks: Record<string, Record<string, unknown>> };
    assert.equal(detail.checks.queue?.ok, true);
    assert.equal(typeof detail.checks.queue?.latencyMs, 'number');
  });
});
