// Results that cannot be forged (docs/api.md "Direct upload", src/worker/README.md failures):
// a PUT through the upload URL after submit, forged queue messages and foreign blob paths.
// Everything is queued by prepare(), before the worker starts, so each answer is what the
// worker did with the attack, not a race it happened to win.
import { randomUUID } from 'node:crypto';
import { inputBlobPath, sha256Hex } from '../../src/jobs/index.ts';
import { submitJob } from '../integration/worker/harness.ts';
import { waitFor } from '../support/ports.ts';
import * as corpus from './corpus.ts';
import type { ApiClient } from './http.ts';
import { PIPELINE, QUEUE, type Targets } from './platform.ts';
import type { Case } from './runner.ts';

const WORKER_BOUND_MS = 150_000;
const normalize = (text: string): string => text.toUpperCase().replace(/\s+/g, ' ').trim();

interface Created {
  id: string;
  upload: { url: string; headers: Record<string, string>; token: string };
}

export interface IntegrityCases {
  /** Queues every attack; call before the worker starts. */
  prepare(): Promise<void>;
  cases: Case[];
  /** The job id of a prepared attack (`overwrite-image` is a job of the tester key with V's text). */
  job(key: string): string;
  /** V, the image whose text the tester's job holds. */
  invoice(): Buffer;
}

export function integrityCases(targets: () => Targets, http: ApiClient): IntegrityCases {
  const jobs = new Map<string, string>();
  let invoice: Buffer = Buffer.alloc(0);
  let forged: Buffer = Buffer.alloc(0);

  async function create(body: Record<string, unknown> = { fileName: 'invoice.png' }): Promise<Created> {
    const a = await http.call('/v1/jobs', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (a.status !== 201) throw new Error(`POST /v1/jobs answered ${a.status}: ${a.text}`);
    const { job, upload } = a.json as { job: { id: string }; upload: Created['upload'] };
    return { id: job.id, upload };
  }
  const put = async (c: Created, bytes: Buffer): Promise<number> =>
    (await fetch(c.upload.url, { method: 'PUT', headers: c.upload.headers, body: bytes, signal: AbortSignal.timeout(20_000) })).status;
  const submit = (id: string): Promise<string> => http.ask(`/v1/jobs/${id}/submit`, { method: 'POST' });

  /** Submits `first`, then PUTs `then` through the same upload URL. */
  async function submitThenOverwrite(first: Buffer, then: Buffer): Promise<string> {
    const c = await create();
    await put(c, first);
    const submitted = await submit(c.id);
    if (submitted !== '202') throw new Error(`submit answered ${submitted}`);
    if ((await put(c, then)) !== 201) throw new Error('the upload URL refused the PUT after submit; the attack needs it');
    return c.id;
  }

  /**
   * Status and text of a finished job: through the API for jobs made through it, from Table and
   * Blob Storage for jobs queued behind its back (they have no API key owner to read them with).
   */
  async function finished(id: string, via: 'api' | 'storage' = 'api'): Promise<{ status: string; text: string; code: string | undefined }> {
    let seen = { status: '', text: '', code: undefined as string | undefined };
    const read = async (): Promise<typeof seen> => {
      if (via === 'storage') {
        const record = await targets().stack.records.get(PIPELINE, id);
        const text = record?.status === 'succeeded' ? ((await targets().stack.blobs.readResult(id))?.text ?? '') : '';
        return { status: record?.status ?? 'missing', text: normalize(text), code: record?.errorCode };
      }
      const job = (await http.call(`/v1/jobs/${id}`)).json as { status?: string; result?: { text?: string }; error?: { code?: string } };
      return { status: job.status ?? '', text: normalize(job.result?.text ?? ''), code: job.error?.code };
    };
    await waitFor(
      `job ${id} to finish`,
      async () => {
        seen = await read();
        return seen.status === 'succeeded' || seen.status === 'failed';
      },
      WORKER_BOUND_MS - 10_000,
      { intervalMs: 200, detail: () => `last seen: ${JSON.stringify(seen)}` },
    );
    return seen;
  }

  /** What became of a job the worker was given: `succeeded: <which text>` or `failed <code>; dead-lettered <reason>`. */
  async function outcome(id: string, via: 'api' | 'storage' = 'api'): Promise<string> {
    const job = await finished(id, via);
    if (job.status === 'succeeded') return `succeeded: ${whose(job.text)}`;
    return `failed ${job.code}; dead-lettered ${await deadLetterReason(id)}`;
  }
  const whose = (text: string): string => (/INVOICE 3141/.test(text) && !/FORGED/.test(text) ? "V's text" : /FORGED/.test(text) ? "X's text" : `"${text}"`);

  const letters = new Map<string, string | undefined>();
  /** The dead-letter reason of the message for `key`: a job id from the body, or a message id. */
  async function deadLetterReason(key: string): Promise<string> {
    await waitFor(
      `a dead letter for ${key}`,
      async () => {
        const receiver = targets().sb.createReceiver(QUEUE, { subQueueType: 'deadLetter' });
        try {
          for (const m of await receiver.peekMessages(200)) {
            const body = m.body as { jobId?: unknown } | undefined;
            letters.set(String(m.messageId), m.deadLetterReason);
            if (typeof body?.jobId === 'string') letters.set(body.jobId, m.deadLetterReason);
          }
        } finally {
          await receiver.close();
        }
        return letters.has(key);
      },
      60_000,
      250,
    );
    return letters.get(key) ?? '(none)';
  }

  async function sendRaw(body: unknown): Promise<string> {
    const messageId = `raw-${randomUUID()}`;
    const sender = targets().sb.createSender(QUEUE);
    try {
      await sender.sendMessages({ body, messageId, contentType: 'application/json' });
    } finally {
      await sender.close();
    }
    return messageId;
  }

  async function prepare(): Promise<void> {
    invoice = await corpus.textPng(['INVOICE 3141']);
    forged = await corpus.textPng(['FORGED 2718']);
    jobs.set('overwrite-image', await submitThenOverwrite(invoice, forged));
    jobs.set('overwrite-script', await submitThenOverwrite(invoice, corpus.SHELL));
    // Queue messages written by someone who can send to the queue but not change the API's records.
    const victim = `job-${randomUUID()}`;
    await targets().platform.blobs.putUpload(victim, forged);
    jobs.set('forged-hash', await submitJob(targets().platform, QUEUE, forged, { contentHash: sha256Hex(invoice) }));
    const replaced = await submitJob(targets().platform, QUEUE, invoice);
    await targets().platform.blobs.container.getBlockBlobClient(inputBlobPath(replaced)).uploadData(forged);
    jobs.set('input-replaced', replaced);
    jobs.set('path-upload', await submitJob(targets().platform, QUEUE, invoice, { blobPath: `uploads/${victim}` }));
    jobs.set('path-result', await submitJob(targets().platform, QUEUE, invoice, { blobPath: `results/${victim}.json` }));
    jobs.set('path-dotdot', await submitJob(targets().platform, QUEUE, invoice, { blobPath: `inputs/x/../../uploads/${victim}` }));
    jobs.set('path-url', await submitJob(targets().platform, QUEUE, invoice, { blobPath: 'http://169.254.169.254/latest/meta-data/' }));
    jobs.set('msg-not-a-job', await sendRaw({ hello: 'world' }));
    jobs.set('msg-no-record', await sendRaw({ v: 1, jobId: `job-${randomUUID()}`, pipeline: PIPELINE, contentHash: sha256Hex(invoice), languages: ['eng'] }));
  }

  const job = (key: string): string => {
    const id = jobs.get(key);
    if (id === undefined) throw new Error(`${key} was not prepared`);
    return id;
  };
  const worker = (id: string, attack: string, expected: string, run: () => Promise<string>): Case => ({
    id,
    attack,
    expected,
    run,
    timeoutMs: WORKER_BOUND_MS,
  });

  const cases: Case[] = [
    worker('upload-overwrite', 'PUT V, submit, PUT image X through the same upload URL', "succeeded: V's text", () => outcome(job('overwrite-image'))),
    worker('upload-overwrite-cache', 'then POST /v1/ocr with V: the cache answers', "200 cached: V's text", async () => {
      await finished(job('overwrite-image'));
      const a = await http.call('/v1/ocr', { headers: { 'content-type': 'image/png' }, body: invoice, timeoutMs: 60_000 });
      const result = a.json as { cached?: boolean; result?: { text?: string } } | undefined;
      return `${a.status} ${result?.cached ? 'cached' : 'not cached'}: ${whose(normalize(result?.result?.text ?? ''))}`;
    }),
    worker('upload-overwrite-script', 'PUT V, submit, PUT a shell script (past the magic-byte check)', "succeeded: V's text", () =>
      outcome(job('overwrite-script')),
    ),
    worker('msg-forged-hash', "a queue message claiming V's hash for X", 'failed CONTENT_MISMATCH; dead-lettered CONTENT_MISMATCH', () =>
      outcome(job('forged-hash'), 'storage'),
    ),
    worker('msg-input-replaced', 'inputs/<jobId> replaced in storage after submit', 'failed CONTENT_MISMATCH; dead-lettered CONTENT_MISMATCH', () =>
      outcome(job('input-replaced'), 'storage'),
    ),
    worker('msg-path-upload', "blobPath naming another job's upload", 'failed BLOB_PATH_MISMATCH; dead-lettered BLOB_PATH_MISMATCH', () =>
      outcome(job('path-upload'), 'storage'),
    ),
    worker('msg-path-result', "blobPath naming another job's result", 'failed BLOB_PATH_MISMATCH; dead-lettered BLOB_PATH_MISMATCH', () =>
      outcome(job('path-result'), 'storage'),
    ),
    worker('msg-path-dotdot', 'blobPath inputs/x/../../uploads/<other>', 'failed BLOB_PATH_MISMATCH; dead-lettered BLOB_PATH_MISMATCH', () =>
      outcome(job('path-dotdot'), 'storage'),
    ),
    worker('msg-path-url', 'blobPath http://169.254.169.254/...', 'failed BLOB_PATH_MISMATCH; dead-lettered BLOB_PATH_MISMATCH', () =>
      outcome(job('path-url'), 'storage'),
    ),
    worker(
      'msg-not-a-job',
      'a queue message {"hello":"world"}',
      'dead-lettered INVALID_MESSAGE',
      async () => `dead-lettered ${await deadLetterReason(job('msg-not-a-job'))}`,
    ),
    worker('msg-no-record', 'a well-formed message for a job with no record', 'dead-lettered INVALID_MESSAGE', async () => {
      return `dead-lettered ${await deadLetterReason(job('msg-no-record'))}`;
    }),
    {
      id: 'sas-other-blob',
      attack: "the upload URL's signature used for inputs/<jobId>",
      expected: '403',
      run: async () => {
        const c = await create();
        const url = new URL(c.upload.url);
        url.pathname = url.pathname.replace(`uploads/${c.id}`, `inputs/${c.id}`);
        return String((await fetch(url, { method: 'PUT', headers: c.upload.headers, body: forged })).status);
      },
    },
    {
      id: 'sas-read',
      attack: 'GET through the upload URL (create and write only)',
      expected: '403',
      run: async () => {
        const c = await create();
        await put(c, invoice);
        return String((await fetch(c.upload.url)).status);
      },
    },
    {
      id: 'submit-nothing',
      attack: 'submit with the job token before anything was uploaded',
      expected: '409 UPLOAD_MISSING',
      run: async () => {
        const c = await create();
        return await http.json(`/v1/jobs/${c.id}/submit`, { token: c.upload.token });
      },
    },
    {
      id: 'submit-no-token',
      attack: 'submit before anything was uploaded, without the job token (nothing is recorded before submit)',
      expected: '404 JOB_NOT_FOUND',
      run: async () => submit((await create()).id),
    },
    {
      id: 'submit-forged-token',
      attack: 'upload, then submit with a job token whose owner was rewritten',
      expected: '403 JOB_TOKEN_INVALID',
      run: async () => {
        const c = await create();
        await put(c, invoice);
        const [version, payload, signature] = c.upload.token.split('.');
        const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
        const forgedToken = `${version}.${Buffer.from(JSON.stringify({ ...claims, owner: 'someone-else' })).toString('base64url')}.${signature}`;
        return await http.json(`/v1/jobs/${c.id}/submit`, { token: forgedToken });
      },
    },
    {
      id: 'submit-size-lie',
      attack: 'declare sizeBytes 100, upload more',
      expected: '422 UPLOAD_SIZE_MISMATCH',
      run: async () => {
        const c = await create({ sizeBytes: 100 });
        await put(c, invoice);
        return await submit(c.id);
      },
    },
    {
      id: 'submit-gif',
      attack: 'upload a GIF through the upload URL and submit',
      expected: '415 IMAGE_TYPE_UNSUPPORTED',
      run: async () => {
        const c = await create();
        await put(c, corpus.GIF);
        return await submit(c.id);
      },
    },
    {
      id: 'submit-oversize',
      attack: 'upload more than API_MAX_UPLOAD_BYTES through the upload URL and submit',
      expected: '413 IMAGE_TOO_LARGE',
      run: async () => {
        const c = await create();
        await put(c, Buffer.alloc(2 * 1024 * 1024, 1));
        return await submit(c.id);
      },
    },
  ];
  return { prepare, cases, job, invoice: () => invoice };
}
