import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobRecord, OcrResult } from '../../jobs/index.ts';
import { ResultCache, approxResultBytes } from './result-cache.ts';

function result(jobId: string): OcrResult {
  return {
    jobId,
    text: 'HELLO',
    lines: [],
    meanConfidence: 90,
    languages: ['eng'],
    image: { width: 1, height: 1, format: 'png' },
    timings: { downloadMs: 0, preprocessMs: 0, recognizeMs: 0, totalMs: 0 },
    worker: 'test',
    completedAt: '2024-01-01T00:00:00.000Z',
  };
}

/** Our own store interfaces, answered from maps, counting the reads that would be storage calls. */
function stores(
  answers: Record<string, string>,
  results: Record<string, OcrResult>,
  limits: { maxResults?: number; maxResultBytes?: number } = { maxResults: 2 },
): { cache: ResultCache; reads: { index: number; blobs: number } } {
  const reads = { index: 0, blobs: 0 };
  const cache = new ResultCache({
    pipeline: 'test',
    records: {
      findResult: async (_pipeline, key) => {
        reads.index++;
        return answers[key];
      },
    },
    blobs: {
      readResult: async (jobId) => {
        reads.blobs++;
        return results[jobId];
      },
    },
    ...limits,
    maxAnswers: 2,
  });
  return { cache, reads };
}

const succeeded = (id: string, resultOf?: string): JobRecord => ({
  id,
  pipeline: 'test',
  status: 'succeeded',
  languages: ['eng'],
  options: { pageSegmentation: 'auto' },
  attempts: 1,
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
  ...(resultOf ? { resultOf } : {}),
});

void describe('the result cache', () => {
  void it('answers a repeated lookup from memory, with no storage call', async () => {
    const { cache, reads } = stores({ k1: 'job-1' }, { 'job-1': result('job-1') });
    assert.equal((await cache.lookup('k1'))?.jobId, 'job-1');
    assert.equal((await cache.lookup('k1'))?.jobId, 'job-1');
    assert.deepEqual(reads, { index: 1, blobs: 1 });
  });

  void it('misses when the index has no entry or the result blob is gone', async () => {
    const { cache } = stores({ k1: 'job-1' }, {});
    assert.equal(await cache.lookup('k0'), undefined);
    assert.equal(await cache.lookup('k1'), undefined);
  });

  void it('gives a job that shares a result that result under its own id', async () => {
    const { cache } = stores({}, { 'job-1': result('job-1') });
    assert.equal((await cache.resultOf(succeeded('job-2', 'job-1')))?.jobId, 'job-2');
  });

  void it('reads no result for a job that has not succeeded', async () => {
    const { cache, reads } = stores({}, { 'job-1': result('job-1') });
    assert.equal(await cache.resultOf({ ...succeeded('job-1'), status: 'processing' }), undefined);
    assert.equal(reads.blobs, 0);
  });

  void it('forgets the least recently used result beyond its size', async () => {
    const { cache, reads } = stores({}, { 'job-1': result('job-1'), 'job-2': result('job-2'), 'job-3': result('job-3') });
    for (const id of ['job-1', 'job-2', 'job-1', 'job-3', 'job-1', 'job-2']) await cache.resultOf(succeeded(id));
    // job-2 was the least recently used when job-3 came in, so only it is read twice.
    assert.equal(reads.blobs, 4);
  });

  void it('forgets results beyond its byte budget even when their count is small', async () => {
    const word = {
      text: 'WORD',
      confidence: 90,
      bbox: { x0: 0, y0: 0, x1: 1, y1: 1 },
      quad: [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 1],
      ] as [number, number][],
    };
    const wordy = (id: string): OcrResult => ({ ...result(id), lines: [{ text: 'WORD', confidence: 90, bbox: word.bbox, words: Array(100).fill(word) }] });
    const budget = 2 * approxResultBytes(wordy('job-1')) + 100; // room for two of them, not three
    const { cache, reads } = stores(
      {},
      { 'job-1': wordy('job-1'), 'job-2': wordy('job-2'), 'job-3': wordy('job-3') },
      { maxResults: 100, maxResultBytes: budget },
    );
    for (const id of ['job-1', 'job-2', 'job-3', 'job-3', 'job-2', 'job-1']) await cache.resultOf(succeeded(id));
    // job-1 left when job-3 came in; job-3 and job-2 stayed; job-1 is read again (and pushes job-3 out).
    assert.equal(reads.blobs, 4);
  });

  void it('does not keep a single result larger than the whole budget', async () => {
    const { cache, reads } = stores({}, { 'job-1': result('job-1') }, { maxResults: 100, maxResultBytes: 10 });
    await cache.resultOf(succeeded('job-1'));
    await cache.resultOf(succeeded('job-1'));
    assert.equal(reads.blobs, 2);
  });

  void it('shares one read between has() (a sync notice) and the answer read beside it', async () => {
    const { cache, reads } = stores({}, { 'job-1': result('job-1') });
    const checked = cache.has('job-1');
    assert.equal((await cache.resultOf(succeeded('job-1')))?.text, 'HELLO');
    assert.equal(await checked, true);
    assert.equal(reads.blobs, 1);
  });

  void it('caches nothing when has() finds no result (a failed job, or a forged notice)', async () => {
    const { cache, reads } = stores({}, {});
    const checked = cache.has('job-9');
    assert.equal(await cache.resultOf(succeeded('job-9')), undefined);
    assert.equal(await checked, false);
    assert.equal(await cache.resultOf(succeeded('job-9')), undefined);
    assert.equal(reads.blobs, 2, 'a missing result is read again next time');
  });

  void it('has() keeps the result it read, and the answer reads nothing more', async () => {
    const { cache, reads } = stores({}, { 'job-1': result('job-1') });
    assert.equal(await cache.has('job-1'), true);
    assert.equal((await cache.resultOf(succeeded('job-1')))?.text, 'HELLO');
    assert.equal(reads.blobs, 1);
  });

  void it('has() is false for a job without a result (failed, unknown or forged)', async () => {
    const { cache } = stores({}, {});
    assert.equal(await cache.has('job-9'), false);
  });
});
