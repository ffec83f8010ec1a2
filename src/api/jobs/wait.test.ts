import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobRecord } from '../../jobs/index.ts';
import { PollingWaiter, PushWaiter } from './wait.ts';

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

/** A record store whose job is finished once `finish()` was called; counts reads. */
function pushed(options: { finishedAgoMs?: number } = {}) {
  let status: JobRecord['status'] = 'processing';
  let reads = 0;
  const records = {
    get: async () => {
      reads++;
      return { ...queued, status, updatedAt: new Date(Date.now() - (options.finishedAgoMs ?? 0)).toISOString() };
    },
  };
  const waiter = new PushWaiter({ pipeline: 'test', records, pollIntervalMs: 20, slowPollMs: 60_000 });
  return { waiter, reads: () => reads, finish: () => (status = 'succeeded') };
}

void describe('waiting for a job to finish, woken by a notice', () => {
  void it('answers as soon as the notice comes, with one read of the record', async () => {
    const p = pushed();
    p.waiter.notify('other-job'); // a notice makes the channel count as working: slow polls from now on
    const waiting = p.waiter.finished(queued, 30_000);
    await new Promise((r) => setTimeout(r, 50));
    p.finish();
    const started = performance.now();
    assert.equal(p.waiter.notify(queued.id), true);
    assert.equal((await waiting).status, 'succeeded');
    assert.ok(performance.now() - started < 50, 'answered within 50 ms of the notice');
    assert.equal(p.reads(), 1);
    assert.deepEqual(p.waiter.stats, { pushed: 1, polled: 0, unmatched: 1 });
  });

  void it('polls at the fast interval until the first notice has been seen', async () => {
    const p = pushed();
    const waiting = p.waiter.finished(queued, 30_000);
    await new Promise((r) => setTimeout(r, 100));
    p.finish();
    assert.equal((await waiting).status, 'succeeded');
    assert.ok(p.reads() >= 3, `polled ${p.reads()} times in 100 ms`);
    assert.equal(p.waiter.pushWorking, false);
  });

  void it('falls back to the fast interval when a poll finds a job whose notice never came', async () => {
    const p = pushed({ finishedAgoMs: 5_000 });
    p.waiter.notify('other-job');
    assert.equal(p.waiter.pushWorking, true);
    p.finish();
    // A wait that a lost notice leaves to the slow poll: its timeout ends it here, then a poll finds it finished.
    const first = await p.waiter.finished(queued, 10);
    assert.equal(first.status, 'succeeded');
    assert.equal(p.waiter.pushWorking, false, 'the missed notice marks the channel down');
    p.waiter.notify('another-job');
    assert.equal(p.waiter.pushWorking, true, 'the next notice marks it working again');
  });

  void it('a notice that comes while the record is being read ends the next sleep at once', async () => {
    let status: JobRecord['status'] = 'processing';
    let waiter: PushWaiter | undefined = undefined;
    const records = {
      get: async () => {
        const answer = { ...queued, status };
        // The worker finishes and its notice arrives while this read is on the wire.
        status = 'succeeded';
        waiter?.notify(queued.id);
        return answer;
      },
    };
    waiter = new PushWaiter({ pipeline: 'test', records, pollIntervalMs: 20, slowPollMs: 60_000 });
    waiter.notify('other-job');
    const started = performance.now();
    const waiting = waiter.finished(queued, 30_000);
    // An early notice (a redelivered job's first attempt) wakes the wait; its read still finds the job processing.
    setTimeout(() => waiter?.notify(queued.id), 10);
    assert.equal((await waiting).status, 'succeeded');
    assert.ok(performance.now() - started < 1_000);
  });

  void it('stops at once when the caller goes away, and forgets the wait', async () => {
    const p = pushed();
    p.waiter.notify('other-job');
    const gone = new AbortController();
    const waiting = p.waiter.finished(queued, 30_000, gone.signal);
    gone.abort();
    assert.equal((await waiting).status, 'queued');
    assert.equal(p.waiter.notify(queued.id), false, 'nobody waits any more');
  });

  void it('answers at once when the notice came before the request began to wait', async () => {
    const p = pushed();
    p.waiter.notify('other-job');
    p.finish();
    assert.equal(p.waiter.notify(queued.id), false, 'nobody waits yet');
    const started = performance.now();
    assert.equal((await p.waiter.finished(queued, 30_000)).status, 'succeeded');
    assert.ok(performance.now() - started < 1_000);
    assert.equal(p.reads(), 1);
  });

  void it('returns a finished job without waiting or reading', async () => {
    const p = pushed();
    assert.equal((await p.waiter.finished({ ...queued, status: 'failed' }, 30_000)).status, 'failed');
    assert.equal(p.reads(), 0);
  });
});

void describe('waiting for a job to finish, woken by a notice, with a cheaper success check', () => {
  /** A waiter whose job's record says `recordStatus`; `succeeded` answers as the case says. */
  function checked(recordStatus: JobRecord['status'], succeeded: () => Promise<boolean>) {
    let reads = 0;
    let checks = 0;
    const records = {
      get: async () => {
        reads++;
        return { ...queued, status: recordStatus };
      },
    };
    const waiter = new PushWaiter({
      pipeline: 'test',
      records,
      pollIntervalMs: 20,
      slowPollMs: 60_000,
      succeeded: async () => {
        checks++;
        return succeeded();
      },
    });
    waiter.notify('other-job');
    return { waiter, reads: () => reads, checks: () => checks };
  }

  const cases: { name: string; recordStatus: JobRecord['status']; succeeded: () => Promise<boolean>; status: JobRecord['status']; reads: number }[] = [
    {
      name: 'a success the check confirms is answered without reading the record',
      recordStatus: 'processing',
      succeeded: async () => true,
      status: 'succeeded',
      reads: 0,
    },
    { name: 'a failed job (no result) is answered from its record', recordStatus: 'failed', succeeded: async () => false, status: 'failed', reads: 1 },
    {
      name: 'a check that fails leaves the answer to the record',
      recordStatus: 'succeeded',
      succeeded: () => Promise.reject(new Error('storage down')),
      status: 'succeeded',
      reads: 1,
    },
  ];
  for (const c of cases) {
    void it(c.name, async () => {
      const w = checked(c.recordStatus, c.succeeded);
      const waiting = w.waiter.finished(queued, 30_000);
      await new Promise((r) => setTimeout(r, 10));
      w.waiter.notify(queued.id);
      const job = await waiting;
      assert.equal(job.status, c.status);
      assert.equal(job.id, queued.id);
      assert.equal(w.reads(), c.reads);
      assert.equal(w.checks(), 1);
    });
  }

  void it('does not ask the check on a poll, only on a notice', async () => {
    let checks = 0;
    let reads = 0;
    const records = { get: async () => ({ ...queued, status: reads++ < 2 ? ('processing' as const) : ('succeeded' as const) }) };
    const waiter = new PushWaiter({ pipeline: 'test', records, pollIntervalMs: 5, succeeded: async () => (checks++, true) });
    assert.equal((await waiter.finished(queued, 30_000)).status, 'succeeded');
    assert.equal(checks, 0);
    assert.equal(reads, 3);
  });
});
