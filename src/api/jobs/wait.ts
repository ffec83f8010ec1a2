// The wait behind the sync endpoint (POST /v1/ocr): the API never runs OCR, so it waits
// until a worker has finished the job, the timeout passes or the caller stops waiting.
//
// PollingWaiter re-reads the job record every `pollIntervalMs`. PushWaiter is woken by a
// notice: the job message names this replica's internal address (its ocrNotify property, NOTIFY_PROPERTY), the
// worker POSTs to it right after it wrote the terminal record (src/worker/notify.ts), and
// the internal route calls `notify(jobId)`. The notice carries only the job id, so the
// waiter looks the job up again and a forged notice only wakes a waiter early: first by
// `succeeded` (app.ts: the result blob, which the worker writes once, before its terminal
// record write), then, when that does not show a success (a failed job, a forged notice),
// by reading the record. A success reported by a notice thus costs one storage read, not
// two: the record read waited behind the worker's own writes to the same storage and was
// most of the sync endpoint's added latency (bench/api/RESULTS.md).
// While notices arrive, PushWaiter still polls, slowly (every SLOW_POLL_MS), in case one
// is lost; when a poll finds a job finished whose notice never came (the worker cannot
// reach this replica, an older worker, a NetworkPolicy), it polls at `pollIntervalMs`
// again until the next notice arrives.
import { completionPath, type JobRecord } from '../../jobs/index.ts';
import { systemClock, type Clock } from '../../shared/clock.ts';
import type { RecordStore } from '../deps.ts';

export interface JobWaiter {
  /**
   * The record once finished (succeeded or failed), or as last read when the wait ends first. A success
   * found without reading the record (PushWaiter's `succeeded`) is the record as last read with status
   * `succeeded`: its id and status are current, its timestamps are not.
   */
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

/** The poll interval while notices arrive, in ms: a safety net for a lost notice, not the way answers are found. */
export const SLOW_POLL_MS = 2_000;
/**
 * How long after a job finished its notice may still be on its way, in ms: a poll that finds a job finished
 * longer ago than this without a notice counts as a missed notice (the push channel is down).
 */
export const NOTICE_GRACE_MS = 1_000;

/** Notices remembered for a request that has not started waiting yet (about 100 bytes each). */
export const EARLY_NOTICES = 1_000;

export interface PushWaiterDeps extends PollingWaiterDeps {
  /** Poll interval while notices arrive, in ms; default SLOW_POLL_MS. */
  slowPollMs?: number;
  /** Called when a wait found its job finished, with what ended it (for /metrics). */
  onFinished?: (by: 'notice' | 'poll') => void;
  /**
   * Whether job `jobId` has succeeded, by something cheaper than its record; tried first when a notice wakes
   * a wait. true only when that is certain; false (or a rejection): the record is read.
   */
  succeeded?: (jobId: string) => Promise<boolean>;
}

/** One waiting request: `wake` ends its current sleep; `pending` remembers a notice that came while it was reading. */
interface Sleeper {
  wake?: () => void;
  pending: boolean;
}

/** What the sync endpoint's waits found so far; for /metrics and tests. */
export interface PushStats {
  /** Waits a notice ended. */
  pushed: number;
  /** Waits a poll ended (the notice was late or never came). */
  polled: number;
  /** Notices for a job no request on this replica waits for (answered already, or forged). */
  unmatched: number;
}

export class PushWaiter implements JobWaiter {
  private readonly pipeline: string;
  private readonly records: Pick<RecordStore, 'get'>;
  private readonly pollIntervalMs: number;
  private readonly slowPollMs: number;
  private readonly clock: Clock;
  private readonly onFinished: ((by: 'notice' | 'poll') => void) | undefined;
  private readonly succeeded: ((jobId: string) => Promise<boolean>) | undefined;
  private readonly sleepers = new Map<string, Set<Sleeper>>();
  /**
   * Notices no request waited for yet, oldest first (at most EARLY_NOTICES): a job can finish before its request starts
   * waiting (the message is sent first), and that request must not sleep a whole poll interval for it.
   */
  private readonly early = new Set<string>();
  /** Sequence numbers of the last notice and of the last finished job found without one (0: never). */
  private events = 0;
  private lastNotice = 0;
  private lastMiss = 0;
  readonly stats: PushStats = { pushed: 0, polled: 0, unmatched: 0 };

  constructor(deps: PushWaiterDeps) {
    this.pipeline = deps.pipeline;
    this.records = deps.records;
    this.pollIntervalMs = deps.pollIntervalMs;
    this.slowPollMs = Math.max(deps.slowPollMs ?? SLOW_POLL_MS, deps.pollIntervalMs);
    this.clock = deps.clock ?? systemClock;
    this.onFinished = deps.onFinished;
    this.succeeded = deps.succeeded;
  }

  /** True while notices arrive: a notice came after the last miss. Until the first notice, waits poll at pollIntervalMs. */
  get pushWorking(): boolean {
    return this.lastNotice > this.lastMiss;
  }

  /** A worker says job `jobId` is finished: wakes every request waiting for it. False when none waits. */
  notify(jobId: string): boolean {
    this.lastNotice = ++this.events;
    const waiting = this.sleepers.get(jobId);
    if (!waiting) {
      this.stats.unmatched++;
      this.early.add(jobId);
      if (this.early.size > EARLY_NOTICES) this.early.delete(this.early.values().next().value!);
      return false;
    }
    for (const sleeper of waiting) {
      sleeper.pending = true;
      sleeper.wake?.();
    }
    return true;
  }

  async finished(job: JobRecord, timeoutMs: number, signal?: AbortSignal): Promise<JobRecord> {
    if (FINISHED.has(job.status)) return job;
    const deadline = this.clock() + timeoutMs;
    // A notice that came before this wait began wakes its first sleep at once.
    const sleeper: Sleeper = { pending: this.early.delete(job.id) };
    const waiting = this.sleepers.get(job.id) ?? new Set<Sleeper>();
    waiting.add(sleeper);
    this.sleepers.set(job.id, waiting);
    let current = job;
    try {
      while (!FINISHED.has(current.status) && this.clock() < deadline && !signal?.aborted) {
        const interval = this.pushWorking ? this.slowPollMs : this.pollIntervalMs;
        const woken = await this.sleep(sleeper, Math.min(interval, Math.max(0, deadline - this.clock())), signal);
        if (signal?.aborted) break;
        if (woken && (await this.confirmedSuccess(job.id))) {
          current = { ...current, status: 'succeeded' };
          this.count(current, true);
          break;
        }
        // A record that vanished mid-wait keeps its last known state.
        current = (await this.records.get(this.pipeline, job.id)) ?? current;
        if (FINISHED.has(current.status)) this.count(current, woken);
      }
    } finally {
      waiting.delete(sleeper);
      if (waiting.size === 0) this.sleepers.delete(job.id);
    }
    return current;
  }

  /** `succeeded`'s answer; false without it or when it fails (the record read decides then). */
  private async confirmedSuccess(jobId: string): Promise<boolean> {
    if (!this.succeeded) return false;
    try {
      return await this.succeeded(jobId);
    } catch {
      return false;
    }
  }

  /** Counts how a wait ended; a job found finished by a poll, long enough ago that its notice should have come, is a miss. */
  private count(record: JobRecord, woken: boolean): void {
    this.onFinished?.(woken ? 'notice' : 'poll');
    if (woken) {
      this.stats.pushed++;
      return;
    }
    this.stats.polled++;
    const finishedAt = Date.parse(record.updatedAt);
    if (Number.isFinite(finishedAt) && this.clock() - finishedAt > NOTICE_GRACE_MS) this.lastMiss = ++this.events;
  }

  /** Sleeps `ms`, or less when a notice comes or the caller goes away; true when a notice ended it. */
  private sleep(sleeper: Sleeper, ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (sleeper.pending) {
      sleeper.pending = false;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const done = (woken: boolean): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        sleeper.wake = undefined;
        sleeper.pending = false;
        resolve(woken);
      };
      const aborted = (): void => done(false);
      const timer = setTimeout(() => done(false), ms);
      sleeper.wake = () => done(true);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }
}

/**
 * This replica's address for "job finished" notices (`http://<pod IP>:<internal port>`), known once the
 * internal app listens (main.ts sets it); until then, and without a pod IP, messages carry no notify URL.
 */
export class NoticeAddress {
  private base: string | undefined;

  /** `host` is the pod IP (an IPv6 address is bracketed here); `port` the internal app's bound port. */
  listening(host: string, port: number): void {
    this.base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  /** The URL a worker POSTs to when job `jobId` is finished, or undefined when this replica takes no notices. */
  urlFor(jobId: string): string | undefined {
    return this.base === undefined ? undefined : `${this.base}${completionPath(jobId)}`;
  }
}
