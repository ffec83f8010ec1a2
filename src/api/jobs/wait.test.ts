import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobRecord } from '../../jobs/index.ts';
import { PollingWaiter } from './wait.ts';

const queued: JobRecord = {
  id: 'job-1',
  pipeline: 'test',
  status: 'queued',
  languages: ['eng'],
  options: { pageSegmentation: 'auto' },
  attempts: 0,
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
};

/** A record store whose job moves through the given statuses, one per read. */
function waiter(statuses: JobRecord['status'][]): { waiter: PollingWaiter; reads: () => number } {
  let reads = 0;
  const records = { get: async () => ({ ...queued, status: statuses[Math.min(reads++, statuses.length - 1)] ?? 'queued' }) };
  return { waiter: new PollingWaiter({ pipeline: 'test', records, pollIntervalMs: 1 }), reads: () => reads };
}

void describe('waiting for a job to finish', () => {
  void it('re-reads the record until the job is finished', async () => {
    const w = waiter(['queued', 'processing', 'succeeded']);
    assert.equal((await w.waiter.finished(queued, 5_000)).status, 'succeeded');
    assert.equal(w.reads(), 3);
  });

  void it('returns a finished job without reading it again', async () => {
    const w = waiter(['failed']);
    assert.equal((await w.waiter.finished({ ...queued, status: 'failed' }, 5_000)).status, 'failed');
    assert.equal(w.reads(), 0);
  });

  void it('answers with the last state read when the timeout passes', async () => {
    const w = waiter(['processing']);
    assert.equal((await w.waiter.finished(queued, 20)).status, 'processing');
  });

  void it('stops at once when the caller goes away', async () => {
    const w = waiter(['processing']);
    assert.equal((await w.waiter.finished(queued, 5_000, AbortSignal.abort())).status, 'queued');
    assert.equal(w.reads(), 0);
  });
});
