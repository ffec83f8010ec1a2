// Stage timeouts: a stage over its limit is aborted and the job settles as a transient STAGE_TIMEOUT;
// a slow preprocess counts as an OCR timeout, a slow download or store does not.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sha256Hex } from '../jobs/dedupe.ts';
import type { Transition } from '../jobs/records.ts';
import type { JobMessage, JobRecord, OcrResult } from '../jobs/schema.ts';
import { describeError } from './errors.ts';
import { createProcessor } from './processor.ts';
import { withStageTimeout, type Stage } from './stage-timeout.ts';

/** Resolves when `signal` aborts (rejecting like the SDK does), or after `ms`. */
function slow<T>(ms: number, value: T, signal?: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(value), ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' }));
    });
  });
}

void describe('a stage with a time limit', () => {
  void it('gives the work its result when it finishes in time', async () => {
    assert.equal(await withStageTimeout('download', 1_000, (signal) => slow(5, 'bytes', signal)), 'bytes');
  });

  void it('runs without a signal and without a limit when none is set', async () => {
    let seen: AbortSignal | undefined = new AbortController().signal;
    assert.equal(
      await withStageTimeout('store', undefined, async (signal) => {
        seen = signal;
        return 'written';
      }),
      'written',
    );
    assert.equal(seen, undefined);
  });

  const stages: { stage: Stage; countsAsOcrTimeout: boolean }[] = [
    { stage: 'download', countsAsOcrTimeout: false },
    { stage: 'preprocess', countsAsOcrTimeout: true },
    { stage: 'store', countsAsOcrTimeout: false },
  ];
  for (const { stage, countsAsOcrTimeout } of stages) {
    void it(`aborts a ${stage} over its limit with a transient STAGE_TIMEOUT${countsAsOcrTimeout ? ' that counts as an OCR timeout' : ''}`, async () => {
      let aborted = false;
      const error = await withStageTimeout(stage, 20, (signal) => {
        signal?.addEventListener('abort', () => (aborted = true));
        return slow(5_000, 'late', signal);
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.equal(aborted, true, 'the signal fired');
      const described = describeError(error);
      assert.deepEqual([described.code, described.permanent, described.timeout], ['STAGE_TIMEOUT', false, countsAsOcrTimeout]);
      assert.match(described.reason, new RegExp(`${stage} stage took longer than 0.02 s`));
    });
  }

  void it('answers at the limit even when the work ignores its signal', async () => {
    const started = performance.now();
    await assert.rejects(withStageTimeout('preprocess', 30, () => slow(2_000, 'ignored')));
    assert.ok(performance.now() - started < 1_000);
  });
});

void describe('the processor with stage timeouts', () => {
  const JOB = 'job-00000000-0000-4000-8000-00000000aaaa';
  const image = Buffer.from('an image');
  const message: JobMessage = {
    v: 1,
    jobId: JOB,
    pipeline: 'p',
    contentHash: sha256Hex(image),
    languages: ['eng'],
    options: { pageSegmentation: 'auto' },
  };

  function processor(slowStage: Stage) {
    const now = new Date().toISOString();
    let row: JobRecord = {
      id: JOB,
      pipeline: 'p',
      status: 'queued',
      languages: ['eng'],
      options: { pageSegmentation: 'auto' },
      attempts: 0,
      contentHash: message.contentHash,
      createdAt: now,
      updatedAt: now,
    };
    const records = {
      get: async () => row,
      transition: async (_p: string, _id: string, t: Transition) => {
        if (t.from && !t.from.includes(row.status)) return undefined;
        row = { ...row, ...t.patch, status: t.to };
        return row;
      },
      rememberResult: async () => undefined,
    };
    const blobs = {
      readUpload: (_path: string, _max: number, signal?: AbortSignal) => slow(slowStage === 'download' ? 5_000 : 0, image, signal),
      writeResult: (result: OcrResult, signal?: AbortSignal) => slow(slowStage === 'store' ? 5_000 : 0, { result, written: true }, signal),
    };
    const run = createProcessor({
      records,
      blobs,
      prepare: () =>
        slow(slowStage === 'preprocess' ? 5_000 : 0, {
          data: Buffer.from('P5'),
          width: 1,
          height: 1,
          original: { width: 1, height: 1, format: 'png' },
          scale: 1,
        }),
      engine: { recognize: async () => ({ text: 'TEXT', lines: [], meanConfidence: 90 }) },
      languages: ['eng'],
      maxImageBytes: 1024,
      maxJobMs: 10_000,
      maxDeliveryCount: 10,
      workerName: 'test',
      partition: 'p',
      stageTimeouts: { download: 30, preprocess: 30, store: 30 },
    });
    return { run, record: () => row };
  }

  for (const stage of ['download', 'preprocess', 'store'] as const) {
    void it(`abandons a job whose ${stage} runs over its limit as STAGE_TIMEOUT, and does not mark it finished`, async () => {
      const { run, record } = processor(stage);
      const started = performance.now();
      const settlement = await run({ body: message, deliveryCount: 0 });
      assert.ok(performance.now() - started < 2_000, 'settled at the limit, not when the stage would have ended');
      assert.equal(settlement.action, 'abandon');
      assert.equal('code' in settlement ? settlement.code : undefined, 'STAGE_TIMEOUT');
      assert.equal(record().status, 'processing');
    });
  }
});
