// The processor's decision table, with small in-memory stand-ins for the worker's own
// ports (records, blobs, engine): which settlement each situation gets, and what the
// job record says afterwards.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BlobMissingError, BlobTooLargeError } from '../jobs/blobs.ts';
import { dedupeKey, sha256Hex } from '../jobs/dedupe.ts';
import { JobNotFoundError, type Transition } from '../jobs/records.ts';
import { inputBlobPath, type JobMessage, type JobRecord, type OcrResult } from '../jobs/schema.ts';
import { OcrTimeoutError, PermanentJobError, TransientJobError } from './errors.ts';
import { createProcessor, type ProcessorDeps } from './processor.ts';
import type { PreparedImage } from './ocr/preprocess.ts';
import { EngineRouter } from './ocr/engines.ts';
import { silentLogger } from '../shared/logger.ts';

/** The hash of a message whose image is missing or an error (nothing to hash). */
const HASH = 'a'.repeat(64);

class MemoryRecords {
  readonly rows = new Map<string, JobRecord>();
  readonly remembered = new Map<string, string>();
  /** The partition of every call, in order: a worker must only ever use its own. */
  readonly partitions: string[] = [];
  async get(pipeline: string, jobId: string): Promise<JobRecord | undefined> {
    this.partitions.push(pipeline);
    return this.rows.get(jobId);
  }
  async transition(pipeline: string, jobId: string, t: Transition): Promise<JobRecord | undefined> {
    this.partitions.push(pipeline);
    const row = this.rows.get(jobId);
    if (!row) throw new JobNotFoundError(jobId);
    if (t.from && !t.from.includes(row.status)) return undefined;
    const next = { ...row, ...t.patch, status: t.to };
    this.rows.set(jobId, next);
    return next;
  }
  async rememberResult(pipeline: string, key: string, jobId: string): Promise<void> {
    this.partitions.push(pipeline);
    if (!this.remembered.has(key)) this.remembered.set(key, jobId);
  }
}

class MemoryBlobs {
  readonly uploads = new Map<string, Buffer | Error>();
  readonly results = new Map<string, OcrResult>();
  readonly reads: string[] = [];
  async readUpload(path: string, maxBytes: number): Promise<Buffer> {
    this.reads.push(path);
    const upload = this.uploads.get(path);
    if (!upload) throw new BlobMissingError(path);
    if (upload instanceof Error) throw upload;
    if (upload.length > maxBytes) throw new BlobTooLargeError(maxBytes);
    return upload;
  }
  async writeResult(result: OcrResult): Promise<{ result: OcrResult; written: boolean }> {
    const existing = this.results.get(result.jobId);
    if (existing) return { result: existing, written: false };
    this.results.set(result.jobId, result);
    return { result, written: true };
  }
}

function prepared(): PreparedImage {
  return { data: Buffer.from('P5'), width: 200, height: 100, original: { width: 100, height: 50, format: 'png' }, scale: 2 };
}

interface Fixture {
  deps: ProcessorDeps;
  records: MemoryRecords;
  blobs: MemoryBlobs;
  ocrCalls: number;
  message: JobMessage;
}

function fixture(
  change: {
    status?: JobRecord['status'];
    upload?: Buffer | Error | null;
    prepare?: () => Promise<PreparedImage>;
    maxDeliveryCount?: number;
    languages?: string[];
    /** The worker's own records partition (default 'p'). */
    partition?: string;
    /** The message's `pipeline` (default: the worker's partition). */
    messagePipeline?: string;
  } = {},
): Fixture {
  const records = new MemoryRecords();
  const blobs = new MemoryBlobs();
  const jobId = 'job-00000001';
  const now = '2026-01-01T00:00:00.000Z';
  const upload = change.upload === undefined ? Buffer.from('image') : change.upload;
  // The hash the API recorded at submit: the image's own, as the API computes it.
  const contentHash = Buffer.isBuffer(upload) ? sha256Hex(upload) : HASH;
  records.rows.set(jobId, {
    id: jobId,
    pipeline: 'p',
    status: change.status ?? 'queued',
    languages: ['eng'],
    options: { pageSegmentation: 'auto' },
    attempts: 0,
    contentHash,
    createdAt: now,
    updatedAt: now,
  });
  if (upload !== null) blobs.uploads.set(inputBlobPath(jobId), upload);
  const f: Fixture = {
    records,
    blobs,
    ocrCalls: 0,
    message: {
      v: 1,
      jobId,
      pipeline: change.messagePipeline ?? change.partition ?? 'p',
      blobPath: inputBlobPath(jobId),
      contentHash,
      languages: change.languages ?? ['eng'],
      options: { pageSegmentation: 'auto' },
    },
    deps: undefined as never,
  };
  f.deps = {
    records,
    blobs,
    prepare: change.prepare ?? (async () => prepared()),
    engine: {
      recognize: async () => {
        f.ocrCalls++;
        return { text: 'TOTAL 12.50\n', lines: [{ text: 'TOTAL 12.50', confidence: 91, bbox: { x0: 10, y0: 20, x1: 110, y1: 40 } }], meanConfidence: 91 };
      },
    },
    languages: ['eng'],
    maxImageBytes: 1000,
    maxJobMs: 10_000,
    maxDeliveryCount: change.maxDeliveryCount ?? 3,
    workerName: 'test',
    partition: change.partition ?? 'p',
    clock: () => Date.parse(now),
  };
  return f;
}

void describe('processor', () => {
  void it('completes a good job: result stored, record succeeded, dedupe key remembered', async () => {
    const f = fixture();
    const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0 });
    assert.equal(settlement.action, 'complete');
    assert.equal(settlement.outcome, 'succeeded');
    const record = f.records.rows.get(f.message.jobId);
    assert.equal(record?.status, 'succeeded');
    assert.equal(record?.attempts, 1);
    const result = f.blobs.results.get(f.message.jobId);
    assert.equal(result?.text, 'TOTAL 12.50\n');
    assert.deepEqual(result?.lines[0]?.bbox, { x0: 5, y0: 10, x1: 55, y1: 20 }, 'boxes are in the pixels of the uploaded image');
    assert.deepEqual(result?.image, { width: 100, height: 50, format: 'png' });
    assert.equal(f.records.remembered.size, 1);
  });

  void it('reads a job asking for paddle with paddle on a tesseract worker: its result says so and its dedupe key names paddle', async () => {
    const f = fixture();
    const asked: (string | undefined)[] = [];
    const router = new EngineRouter({
      engines: [
        { name: 'tesseract', model: 'fast' },
        { name: 'paddle', model: 'PP-OCRv4' },
      ],
      open: async (name) => ({
        recognize: async (_image, request) => {
          asked.push(request.engine);
          return { text: `read by ${name}\n`, lines: [], meanConfidence: 90 };
        },
        close: async () => {},
      }),
      log: silentLogger(),
    });
    await router.start();
    const options = { pageSegmentation: 'auto' as const, engine: 'paddle' as const };
    const message = { ...f.message, options };
    const settlement = await createProcessor({ ...f.deps, engine: router, engineInfo: { name: 'tesseract', model: 'fast' } })({
      body: message,
      deliveryCount: 0,
    });
    assert.equal(settlement.outcome, 'succeeded');
    const result = f.blobs.results.get(message.jobId);
    assert.deepEqual([result?.text, result?.engine, asked], ['read by paddle\n', { name: 'paddle', model: 'PP-OCRv4' }, ['paddle']]);
    assert.deepEqual([...f.records.remembered.keys()], [dedupeKey(message.contentHash, message.languages, options)]);
  });

  void it('reports a finished job right after its terminal record write, before the dedupe entry, and not when it is retried', async () => {
    const seen: string[] = [];
    const f = fixture();
    const finished = await createProcessor({
      ...f.deps,
      onFinished: (job) => seen.push(`${job.jobId} ${f.records.rows.get(job.jobId)?.status} remembered=${f.records.remembered.size}`),
    })({ body: f.message, deliveryCount: 0 });
    assert.equal(finished.outcome, 'succeeded');
    assert.deepEqual(seen, [`${f.message.jobId} succeeded remembered=0`]);
    const missing = fixture({ upload: null }); // no image yet: transient, worth another delivery
    const retried = await createProcessor({ ...missing.deps, onFinished: () => seen.push('retried') })({ body: missing.message, deliveryCount: 0 });
    assert.notEqual(retried.outcome, 'succeeded');
    assert.equal(seen.length, 1);
    const refused = fixture({ languages: ['deu'] }); // not loaded here: permanent, the record fails
    const failed = await createProcessor({
      ...refused.deps,
      onFinished: (job) => seen.push(`${job.jobId} ${refused.records.rows.get(job.jobId)?.status}`),
    })({ body: refused.message, deliveryCount: 0 });
    assert.equal(failed.outcome, 'dead_lettered');
    assert.deepEqual(seen.slice(1), [`${refused.message.jobId} failed`]);
  });

  void it('reads and writes records only in its own <namespace>.<pipeline> partition', async () => {
    const f = fixture({ partition: 'finance.p' });
    const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0 });
    assert.equal(settlement.outcome, 'succeeded');
    assert.ok(f.records.partitions.length > 0);
    assert.deepEqual(new Set(f.records.partitions), new Set(['finance.p']));
  });

  void it('keeps the first stored result when a redelivered job is processed again', async () => {
    const f = fixture();
    const process = createProcessor(f.deps);
    await process({ body: f.message, deliveryCount: 0 });
    const first = f.blobs.results.get(f.message.jobId);
    f.records.rows.set(f.message.jobId, { ...f.records.rows.get(f.message.jobId)!, status: 'processing' });
    const settlement = await process({ body: f.message, deliveryCount: 1 });
    assert.equal(settlement.action, 'complete');
    assert.equal(settlement.action === 'complete' ? settlement.result : undefined, first);
  });

  void it('completes a message for a job that already finished without running OCR again', async () => {
    for (const status of ['succeeded', 'failed'] as const) {
      const f = fixture({ status });
      const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0 });
      assert.deepEqual([settlement.action, settlement.outcome], ['complete', 'duplicate'], status);
      assert.equal(f.ocrCalls, 0);
    }
  });

  // untouched: the message belongs to another partition, so no record is read or written (nor any blob).
  const deadLetterCases: { name: string; change: Parameters<typeof fixture>[0]; body?: unknown; code: string; untouched?: true }[] = [
    { name: 'a body that is not a job', change: {}, body: { hello: 'world' }, code: 'INVALID_MESSAGE' },
    { name: 'an image over the byte limit', change: { upload: Buffer.alloc(2000) }, code: 'IMAGE_TOO_LARGE' },
    {
      name: 'an image the preprocessor calls corrupt',
      change: {
        prepare: async () => {
          throw new PermanentJobError('IMAGE_CORRUPT', 'truncated');
        },
      },
      code: 'IMAGE_CORRUPT',
    },
    { name: 'a language this worker has not loaded', change: { languages: ['deu'] }, code: 'INVALID_MESSAGE' },
    { name: 'a message for another pipeline', change: { partition: 'finance.p', messagePipeline: 'finance.q' }, code: 'PIPELINE_MISMATCH', untouched: true },
    {
      name: 'a message for the same pipeline name in another namespace',
      change: { partition: 'finance.p', messagePipeline: 'sales.p' },
      code: 'PIPELINE_MISMATCH',
      untouched: true,
    },
    {
      name: 'a message naming the bare pipeline when the worker serves <namespace>.<pipeline>',
      change: { partition: 'finance.p', messagePipeline: 'p' },
      code: 'PIPELINE_MISMATCH',
      untouched: true,
    },
  ];
  for (const c of deadLetterCases) {
    void it(`dead-letters ${c.name} at once as ${c.code} ${c.untouched ? 'without touching any job record' : 'and marks the job failed'}`, async () => {
      const f = fixture(c.change);
      if (c.change?.languages) f.message.languages = c.change.languages;
      const settlement = await createProcessor(f.deps)({ body: c.body ?? f.message, deliveryCount: 0 });
      assert.equal(settlement.action, 'deadLetter');
      assert.equal(settlement.action === 'deadLetter' ? settlement.code : '', c.code);
      if (c.untouched) {
        assert.deepEqual(f.records.partitions, [], 'no record read or written in any partition');
        assert.deepEqual(f.blobs.reads, [], 'no image read');
        assert.equal(f.ocrCalls, 0);
        assert.equal(f.records.rows.get(f.message.jobId)?.status, 'queued');
        assert.equal(settlement.action === 'deadLetter' ? settlement.jobId : '', f.message.jobId);
        assert.match(settlement.action === 'deadLetter' ? settlement.reason : '', new RegExp(`"${f.message.pipeline}".*"${f.deps.partition}"`));
      } else if (c.body === undefined) {
        const record = f.records.rows.get(f.message.jobId);
        assert.equal(record?.status, 'failed');
        assert.equal(record?.errorCode, c.code);
      }
    });
  }

  void it('dead-letters a job whose record does not exist', async () => {
    const f = fixture();
    f.records.rows.clear();
    const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0 });
    assert.equal(settlement.action, 'deadLetter');
  });

  void it('abandons a missing upload while deliveries remain, leaving the job processing', async () => {
    const f = fixture({ upload: null });
    const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0 });
    assert.deepEqual([settlement.action, settlement.outcome], ['abandon', 'abandoned']);
    assert.equal(f.records.rows.get(f.message.jobId)?.status, 'processing');
  });

  void it('marks the job failed on the last delivery before abandoning it to the dead-letter queue', async () => {
    const f = fixture({ upload: null, maxDeliveryCount: 3 });
    const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 2 });
    assert.deepEqual([settlement.action, settlement.outcome], ['abandon', 'failed_after_retries']);
    const record = f.records.rows.get(f.message.jobId);
    assert.equal(record?.status, 'failed');
    assert.equal(record?.errorCode, 'DELIVERY_LIMIT_EXCEEDED');
    assert.match(record?.errorMessage ?? '', /UPLOAD_MISSING/);
    assert.equal(record?.attempts, 3);
  });

  void it('treats an unexpected error as transient', async () => {
    const f = fixture({ upload: new Error('socket hang up') });
    const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0 });
    assert.equal(settlement.action, 'abandon');
    assert.match(settlement.action === 'abandon' ? settlement.reason : '', /socket hang up/);
  });

  void it('abandons an OCR timeout so another delivery can try', async () => {
    const f = fixture();
    f.deps.engine = {
      recognize: async () => {
        throw new TransientJobError('OCR_FAILED', 'recognition took longer than 10 s');
      },
    };
    const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0 });
    assert.deepEqual([settlement.action, settlement.action === 'abandon' ? settlement.code : ''], ['abandon', 'OCR_FAILED']);
  });
  void describe('integrity: only the bytes hashed at submit, only from the blob of the job', () => {
    /** The settlement, record and side effects of one delivery: nothing may be OCRed, stored or remembered on refusal. */
    async function refused(f: Fixture, code: string): Promise<void> {
      const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0 });
      assert.equal(settlement.action, 'deadLetter');
      assert.equal(settlement.action === 'deadLetter' ? settlement.code : '', code);
      assert.ok(settlement.action === 'deadLetter' && settlement.reason.length > 20, 'the reason says what was refused');
      const record = f.records.rows.get(f.message.jobId);
      assert.deepEqual([record?.status, record?.errorCode], ['failed', code]);
      assert.equal(f.ocrCalls, 0, 'never OCRed');
      assert.equal(f.blobs.results.size, 0, 'never a result');
      assert.equal(f.records.remembered.size, 0, 'never a dedupe entry');
    }

    void it('fails as CONTENT_MISMATCH an image whose bytes changed after submit', async () => {
      const f = fixture();
      f.blobs.uploads.set(inputBlobPath(f.message.jobId), Buffer.from('another image'));
      await refused(f, 'CONTENT_MISMATCH');
    });

    void it('fails as CONTENT_MISMATCH a message whose hash is forged (the bytes do not have it)', async () => {
      const f = fixture();
      f.message.contentHash = 'b'.repeat(64);
      await refused(f, 'CONTENT_MISMATCH');
    });

    void it('fails as CONTENT_MISMATCH a message whose hash is not the one recorded at submit, even when the bytes have it', async () => {
      const f = fixture();
      const other = Buffer.from('another image');
      f.blobs.uploads.set(inputBlobPath(f.message.jobId), other);
      f.message.contentHash = sha256Hex(other);
      await refused(f, 'CONTENT_MISMATCH');
    });

    for (const blobPath of ['uploads/job-00000002', 'inputs/job-00000002', 'results/job-00000001.json', 'inputs/job-00000001/../x', '/etc/passwd']) {
      void it(`refuses as BLOB_PATH_MISMATCH a message naming ${blobPath}, without reading it`, async () => {
        const f = fixture();
        f.blobs.uploads.set(blobPath, Buffer.from('image'));
        f.message.blobPath = blobPath;
        await refused(f, 'BLOB_PATH_MISMATCH');
        assert.deepEqual(f.blobs.reads, []);
      });
    }

    void it('reads the blob derived from the job id when the message has no blobPath', async () => {
      const f = fixture();
      delete f.message.blobPath;
      const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0 });
      assert.equal(settlement.outcome, 'succeeded');
      assert.deepEqual(f.blobs.reads, [inputBlobPath(f.message.jobId)]);
    });

    void it('reads uploads/<jobId> for a message queued before inputs/ existed, still checking its hash', async () => {
      const f = fixture();
      const legacy = `uploads/${f.message.jobId}`;
      f.message.blobPath = legacy;
      f.blobs.uploads.set(legacy, f.blobs.uploads.get(inputBlobPath(f.message.jobId))!);
      f.blobs.uploads.delete(inputBlobPath(f.message.jobId));
      const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0 });
      assert.equal(settlement.outcome, 'succeeded');
      assert.deepEqual(f.blobs.reads, [legacy]);

      const changed = fixture();
      changed.message.blobPath = legacy;
      changed.blobs.uploads.set(legacy, Buffer.from('overwritten after submit'));
      await refused(changed, 'CONTENT_MISMATCH');
    });
  });

  void describe('retries with backoff', () => {
    interface Scheduled {
      jobId: string;
      attempt: number;
      timeouts: number;
      at: string;
      cancelled: boolean;
    }
    /** The fixture with retries on (5 attempts, 1 s to 60 s, 2 timeouts, jitter 0) and a schedule that records what it sent. */
    function retrying(change: Parameters<typeof fixture>[0] = {}, scheduleFails = false): Fixture & { scheduled: Scheduled[] } {
      const f = fixture(change);
      const scheduled: Scheduled[] = [];
      f.deps.retries = {
        policy: { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 60_000, maxTimeouts: 2 },
        random: () => 0,
        schedule: async (job, next, at) => {
          if (scheduleFails) throw new Error('amqp:unauthorized-access: Send is required');
          const entry = { jobId: job.jobId, attempt: next.attempt, timeouts: next.timeouts, at: at.toISOString(), cancelled: false };
          scheduled.push(entry);
          return async () => {
            entry.cancelled = true;
          };
        },
      };
      return Object.assign(f, { scheduled });
    }
    const timeoutEngine = {
      recognize: async (): Promise<never> => {
        throw new OcrTimeoutError('OCR_FAILED', 'recognition took longer than 10 s');
      },
    };

    void it('schedules the next attempt after its backoff, queues the record with nextAttemptAt and the error, and completes the message', async () => {
      const f = retrying({ upload: null });
      const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0 });
      assert.deepEqual([settlement.action, settlement.outcome], ['complete', 'retried']);
      assert.deepEqual(f.scheduled, [{ jobId: f.message.jobId, attempt: 2, timeouts: 0, at: '2026-01-01T00:00:01.000Z', cancelled: false }]);
      const record = f.records.rows.get(f.message.jobId);
      assert.deepEqual(
        [record?.status, record?.nextAttemptAt, record?.lastErrorCode, record?.errorCode],
        ['queued', '2026-01-01T00:00:01.000Z', 'UPLOAD_MISSING', undefined],
      );
    });

    void it("hands the failed message's properties to the retry, so a sync job's notice URL goes along", async () => {
      const f = retrying({ upload: null });
      const seen: (Record<string, unknown> | undefined)[] = [];
      const schedule = f.deps.retries!.schedule;
      f.deps.retries!.schedule = async (job, next, at, properties) => {
        seen.push(properties);
        return await schedule(job, next, at, properties);
      };
      const properties = { ocrNotify: 'http://10.0.0.7:8081/internal/v1/jobs/x/done' };
      await createProcessor(f.deps)({ body: f.message, deliveryCount: 0, properties });
      assert.deepEqual(seen, [properties]);
    });

    void it('counts the attempt from the message properties and backs off longer each time', async () => {
      const f = retrying({ upload: null });
      f.deps.retries!.random = () => 0.999_999;
      const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0, properties: { ocrAttempt: 3 } });
      assert.equal(settlement.outcome, 'retried');
      assert.deepEqual(
        f.scheduled.map((e) => [e.attempt, e.at]),
        [[4, '2026-01-01T00:00:04.000Z']],
      );
      assert.equal(f.records.rows.get(f.message.jobId)?.attempts, 3, 'the record counts the runs of this job: this was the third');
    });

    void it('marks the job failed and dead-letters it when the last attempt fails, scheduling nothing', async () => {
      const f = retrying({ upload: null });
      const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0, properties: { ocrAttempt: 5 } });
      assert.deepEqual([settlement.action, settlement.outcome], ['deadLetter', 'failed_after_retries']);
      assert.deepEqual(f.scheduled, []);
      const record = f.records.rows.get(f.message.jobId);
      assert.deepEqual([record?.status, record?.errorCode], ['failed', 'DELIVERY_LIMIT_EXCEEDED']);
      assert.match(record?.errorMessage ?? '', /gave up after 5 attempts.*UPLOAD_MISSING/);
    });

    void it('retries a first OCR timeout and counts it in the next message', async () => {
      const f = retrying();
      f.deps.engine = timeoutEngine;
      const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0 });
      assert.equal(settlement.outcome, 'retried');
      assert.deepEqual(
        f.scheduled.map((e) => [e.attempt, e.timeouts]),
        [[2, 1]],
      );
    });

    void it('fails a job on its second OCR timeout instead of spending another time budget on it', async () => {
      const f = retrying();
      f.deps.engine = timeoutEngine;
      const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0, properties: { ocrAttempt: 2, ocrTimeouts: 1 } });
      assert.deepEqual([settlement.action, settlement.outcome], ['deadLetter', 'failed_after_retries']);
      assert.deepEqual(f.scheduled, []);
      const record = f.records.rows.get(f.message.jobId);
      assert.deepEqual([record?.status, record?.errorCode], ['failed', 'OCR_FAILED']);
      assert.match(record?.errorMessage ?? '', /timed out on 2 attempts/);
    });

    void it('dead-letters a permanent error at once without scheduling a retry', async () => {
      const f = retrying({ upload: Buffer.alloc(2000) });
      const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0 });
      assert.deepEqual([settlement.action, settlement.outcome], ['deadLetter', 'dead_lettered']);
      assert.deepEqual(f.scheduled, []);
      assert.equal(f.records.rows.get(f.message.jobId)?.status, 'failed');
    });

    void it('falls back to abandoning the message, saying why, when the retry cannot be scheduled', async () => {
      const f = retrying({ upload: null }, true);
      const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0 });
      assert.deepEqual([settlement.action, settlement.outcome], ['abandon', 'abandoned']);
      assert.match(settlement.action === 'abandon' ? settlement.reason : '', /could not be scheduled.*Send is required/);
      assert.equal(f.records.rows.get(f.message.jobId)?.status, 'processing', 'the broker redelivers it');
    });

    // What happens to the record when the worker writes it back to queued, and how the delivery then settles: either way the retry is cancelled.
    const cancels: { name: string; onRequeue: (f: ReturnType<typeof retrying>, jobId: string) => void; settled: [string, string] }[] = [
      {
        name: 'cancels the scheduled retry and abandons when the record cannot be written',
        onRequeue: () => {
          throw new Error('storage unavailable');
        },
        settled: ['abandon', 'abandoned'],
      },
      {
        name: 'cancels the scheduled retry when another delivery finished the job meanwhile',
        onRequeue: (f, jobId) => f.records.rows.set(jobId, { ...f.records.rows.get(jobId)!, status: 'succeeded' }),
        settled: ['complete', 'duplicate'],
      },
    ];
    for (const c of cancels) {
      void it(c.name, async () => {
        const f = retrying({ upload: null });
        const transition = f.records.transition.bind(f.records);
        f.records.transition = async (pipeline, jobId, t) => {
          if (t.to === 'queued') c.onRequeue(f, jobId);
          return await transition(pipeline, jobId, t);
        };
        const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0 });
        assert.deepEqual([settlement.action, settlement.outcome], c.settled);
        assert.deepEqual(
          f.scheduled.map((e) => e.cancelled),
          [true],
        );
      });
    }

    void it('dead-letters a message whose retry properties are malformed as INVALID_MESSAGE', async () => {
      const f = retrying();
      const settlement = await createProcessor(f.deps)({ body: f.message, deliveryCount: 0, properties: { ocrAttempt: 'two' } });
      assert.deepEqual([settlement.action, settlement.action === 'deadLetter' ? settlement.code : ''], ['deadLetter', 'INVALID_MESSAGE']);
      assert.deepEqual(f.scheduled, []);
    });
  });
});
