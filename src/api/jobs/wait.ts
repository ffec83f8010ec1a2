// The wait behind the sync endpoint (POST /v1/ocr): the API never runs OCR, so it
// re-reads the job record every `pollIntervalMs` until a worker has finished the
// job, the timeout passes or the caller stops waiting. A poll for now: a later
// change replaces it with a push (the worker telling the API), behind the same
// `JobWaiter` shape.
import type { JobRecord } from '../../jobs/index.ts';
import { systemClock, type Clock } from '../../shared/clock.ts';
import type { RecordStore } from '../deps.ts';

export interface JobWaiter {
  /** The record once finished (succeeded or failed), or as last read when the wait ends first. */
  finished(job: JobRecord, timeoutMs: number, signal?: AbortSignal): Promise<JobRecord>;
}

export interface PollingWaiterDeps {
  /** The records partition (pipelinePartition: `<namespace>.<pipeline>`). */
  pipeline: string;
  records: Pick<RecordStore, 'get'>;
  /** Time between two reads of the record, in ms (API_POLL_INTERVAL_MS, default 250). */
  pollIntervalMs: number;
  clock?: Clock;
}

const FINISHED = new Set(['succeeded', 'failed']);

export class PollingWaiter implements JobWaiter {
  private readonly pipeline: string;
  private readonly records: Pick<RecordStore, 'get'>;
  private readonly pollIntervalMs: number;
  private readonly clock: Clock;

  constructor(deps: PollingWaiterDeps) {
    this.pipeline = deps.pipeline;
    this.records = deps.records;
    this.pollIntervalMs = deps.pollIntervalMs;
    this.clock = deps.clock ?? systemClock;
  }

  async finished(job: JobRecord, timeoutMs: number, signal?: AbortSignal): Promise<JobRecord> {
    const deadline = this.clock() + timeoutMs;
    let current = job;
    while (!FINISHED.has(current.status) && this.clock() < deadline && !signal?.aborted) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.pollIntervalMs, Math.max(0, deadline - this.clock()))));
      // A record that vanished mid-wait keeps its last known state.
      current = (await this.records.get(this.pipeline, job.id)) ?? current;
    }
    return current;
  }
}
