// One Service Bus namespace (and credential): reads the runtime counters of every queue its
// pipelines use, at a pace that follows the traffic (schedule.ts), and reports each
// pipeline's view (view.ts) to its owner through onView. It owns only its own state: the
// subscriptions, one reading per queue, the workers' in-flight numbers and its timer.
import type { Logger } from '../../shared/logger.ts';
import type { Clock } from '../../shared/clock.ts';
import { endpointOf, type QueueCredential, type QueueReader } from './client.ts';
import { checkQueueStatus, classifyReadError, type QueueRef } from './preflight.ts';
import { nextDelay, type PollOutcome, type PollTiming } from './schedule.ts';
import { hasWork, type QueueCounts } from './signal.ts';
import { queueView, type PipelineQueueView, type QueueReading, type ViewOptions } from './view.ts';

/** What gather hands the poller for one pipeline (the connection string stays in memory). */
export interface PipelineSubscription extends ViewOptions {
  /** Work-queue key, namespace/name. */
  key: string;
  namespace: string;
  pipeline: string;
  queueName: string;
  credential: QueueCredential;
}

/** Sum of ocr_worker_jobs_in_flight per pipeline key, from Prometheus; undefined when unknown. */
export type InFlightSource = (keys: ReadonlyArray<{ namespace: string; pipeline: string }>) => Promise<Map<string, number> | undefined>;

export interface NamespacePollerOptions {
  credential: QueueCredential;
  reader: QueueReader;
  timing: PollTiming;
  /** How long dead-letter history is kept (ms); the degraded check looks at this window. */
  historyMs: number;
  clock: Clock;
  /** A number in [0, 1) for the jitter; Math.random in production. */
  random: () => number;
  inFlight: InFlightSource | undefined;
  log: Logger;
  /** A pipeline's view after a read, or after its interpretation changed. */
  onView: (sub: PipelineSubscription, view: PipelineQueueView) => void;
  /** A read of the pipeline's queue failed with this reason (for the error counter). */
  onReadError: (sub: PipelineSubscription, reason: string) => void;
}

/** A queue's reading plus when its status was last read (epoch ms). */
interface QueueState extends QueueReading {
  statusReadAtMs?: number;
}

/** One queue's read in a round: whether it succeeded, whether the queue has (or last had) work, whether it was throttled. */
interface QueueRead {
  ok: boolean;
  busy: boolean;
  throttled: boolean;
}

/** Whether the queue's status is due for a re-read: never read, older than refreshMs, or last seen with a problem. */
function statusDue(reading: QueueState, nowMs: number, refreshMs: number): boolean {
  return reading.statusReadAtMs === undefined || nowMs - reading.statusReadAtMs >= refreshMs || reading.statusProblem !== undefined;
}

/** Stores a good read of the counters, read at atMs (epoch ms); dead-letter history older than historyMs is dropped. */
function recordCounts(reading: QueueState, counts: QueueCounts, atMs: number, historyMs: number): void {
  reading.counts = counts;
  reading.observedAtMs = atMs;
  reading.problem = undefined;
  reading.lastSeenNonEmpty = hasWork(counts);
  reading.deadLetterHistory.push({ atMs, count: counts.deadLettered });
  reading.deadLetterHistory = reading.deadLetterHistory.filter((h) => atMs - h.atMs <= historyMs);
}

export class NamespacePoller {
  readonly #subscriptions = new Map<string, PipelineSubscription>();
  readonly #readings = new Map<string, QueueState>();
  /** Last sum of the workers' in-flight gauge per pipeline key (Prometheus), reused between queries. */
  readonly #workersInFlight = new Map<string, number>();
  readonly #o: NamespacePollerOptions;
  readonly #endpoint: string;
  /** The next regular round; undefined while none is scheduled. */
  #timer: NodeJS.Timeout | undefined;
  /** Reads run one at a time, in order: every round and every first read is chained here. */
  #chain: Promise<void> = Promise.resolve();
  /** A regular round is waiting in #chain (so a second request joins it). */
  #roundQueued = false;
  /** A first read of new queues is waiting in #chain (it reads whatever is unread when it starts). */
  #firstReadQueued = false;
  #failures = 0;
  /** When the last regular round started (epoch ms). */
  #lastRoundAtMs: number | undefined;
  #wasBusy = false;
  #closed = false;

  constructor(o: NamespacePollerOptions) {
    this.#o = o;
    this.#endpoint = endpointOf(o.credential);
  }

  get size(): number {
    return this.#subscriptions.size;
  }

  /**
   * Adds or updates a pipeline. A queue not read yet is read at once, alone: only the
   * pipelines of the queues that read covers are reported, so a ramp of N subscriptions
   * costs N first reads and N reports, not N rounds over every queue (issue 14, item 7).
   * A pipeline on a queue already read gets the latest reading at once, without a read;
   * so does a new interpretation of the same reading (activation, countInFlight).
   */
  subscribe(sub: PipelineSubscription): void {
    const old = this.#subscriptions.get(sub.key);
    this.#subscriptions.set(sub.key, sub);
    if (!this.#readings.get(sub.queueName)?.read) {
      this.#readUnreadSoon();
    } else if (!old || old.queueName !== sub.queueName) {
      this.#report(sub, undefined);
    } else if (
      old.countInFlight !== sub.countInFlight ||
      old.activationMessages !== sub.activationMessages ||
      old.minReplicas !== sub.minReplicas ||
      old.workersRunning !== sub.workersRunning
    ) {
      this.#report(sub, undefined);
    }
  }

  /** Removes a pipeline; returns it (undefined when unknown). A queue nobody uses is forgotten. */
  unsubscribe(key: string): PipelineSubscription | undefined {
    const sub = this.#subscriptions.get(key);
    if (!sub) return undefined;
    this.#subscriptions.delete(key);
    this.#workersInFlight.delete(key);
    if (![...this.#subscriptions.values()].some((s) => s.queueName === sub.queueName)) this.#readings.delete(sub.queueName);
    return sub;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * A regular round now instead of at its timer (coalesced with one already waiting), when the
   * API reports new jobs (activity.ts). Ignored while failing (the backoff stands), while the
   * pace is already busy, and within busyMs of the last round: a wake only moves a read that
   * is due anyway forward, it never adds reads beyond the busy pace.
   */
  wake(): void {
    if (this.#closed || this.#failures > 0 || this.#wasBusy) return;
    if (this.#lastRoundAtMs !== undefined && this.#o.clock() - this.#lastRoundAtMs < this.#o.timing.busyMs) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queueRound();
  }

  #queueRound(): void {
    if (this.#roundQueued) return;
    this.#roundQueued = true;
    this.#enqueue(() => {
      this.#roundQueued = false;
      return this.#readAll();
    });
  }

  /** A first read of every queue nobody has read yet, after whatever read is running (coalesced). */
  #readUnreadSoon(): void {
    if (this.#closed || this.#firstReadQueued) return;
    this.#firstReadQueued = true;
    this.#enqueue(() => {
      this.#firstReadQueued = false;
      return this.#readUnread();
    });
  }

  #enqueue(read: () => Promise<void>): void {
    this.#chain = this.#chain.then(read).catch((error: unknown) => this.#o.log.error({ err: error, endpoint: this.#endpoint }, 'Failed to read queues'));
  }

  /** Reads only the queues never read, reports only their pipelines; starts the regular rounds when none is scheduled. */
  async #readUnread(): Promise<void> {
    if (this.#closed) return;
    const unread = new Set([...this.#subscriptions.values()].filter((s) => !this.#readings.get(s.queueName)?.read).map((s) => s.queueName));
    if (unread.size === 0) return;
    const anyCredential = [...this.#subscriptions.values()][0]!.credential;
    const reads: QueueRead[] = [];
    for (const name of unread) reads.push(await this.#readQueue(name, anyCredential));
    const subs = [...this.#subscriptions.values()].filter((s) => unread.has(s.queueName));
    const succeeded = reads.some((r) => r.ok);
    const inFlight = succeeded && this.#o.inFlight ? await this.#o.inFlight(subs).catch(() => undefined) : undefined;
    for (const sub of subs) this.#report(sub, inFlight);
    if (this.#timer === undefined && !this.#roundQueued) {
      this.#scheduleNext(
        succeeded,
        reads.some((r) => r.busy),
        reads.some((r) => r.throttled),
      );
    }
  }

  #ref(queueName: string, cred: QueueCredential): QueueRef {
    return { endpoint: this.#endpoint, queueName, auth: cred.kind };
  }

  /** Reads every subscribed queue once, reports every pipeline's view, then schedules the next read. */
  async #readAll(): Promise<void> {
    if (this.#closed || this.#subscriptions.size === 0) return;
    const o = this.#o;
    this.#lastRoundAtMs = o.clock();
    const queueNames = [...new Set([...this.#subscriptions.values()].map((s) => s.queueName))];
    const anyCredential = [...this.#subscriptions.values()][0]!.credential;
    const reads: QueueRead[] = [];
    for (const name of queueNames) reads.push(await this.#readQueue(name, anyCredential));
    const succeeded = reads.filter((r) => r.ok).length;

    const inFlight = succeeded > 0 && o.inFlight ? await o.inFlight([...this.#subscriptions.values()]).catch(() => undefined) : undefined;
    for (const sub of this.#subscriptions.values()) this.#report(sub, inFlight);

    const busy = reads.some((r) => r.busy);
    const throttled = reads.some((r) => r.throttled);
    this.#scheduleNext(succeeded > 0 || queueNames.length === 0, busy, throttled);
  }

  /** Reads one queue's counters (and, now and then, its status) into its reading; a failure becomes its problem. */
  async #readQueue(name: string, credential: QueueCredential): Promise<QueueRead> {
    const o = this.#o;
    const reading: QueueState = this.#readings.get(name) ?? { lastSeenNonEmpty: false, deadLetterHistory: [], read: false };
    this.#readings.set(name, reading);
    const ref = this.#ref(name, credential);
    const now = o.clock();
    let read: QueueRead;
    try {
      // The status changes rarely and costs a second request: re-read it only now and then.
      if (statusDue(reading, now, o.timing.statusRefreshMs)) {
        reading.statusProblem = checkQueueStatus(await o.reader.status(name), ref);
        reading.statusReadAtMs = now;
      }
      const counts = await o.reader.counts(name);
      recordCounts(reading, counts, o.clock(), o.historyMs);
      read = { ok: true, busy: hasWork(counts), throttled: false };
    } catch (error) {
      const finding = classifyReadError(error, ref);
      reading.problem = finding;
      for (const sub of this.#subscriptions.values()) if (sub.queueName === name) o.onReadError(sub, finding.reason);
      o.log.warn({ endpoint: this.#endpoint, queue: name, reason: finding.reason }, 'Failed to read queue counters');
      read = { ok: false, busy: reading.lastSeenNonEmpty, throttled: finding.throttled };
    }
    reading.read = true;
    return read;
  }

  /**
   * Sets the timer for the next read from this round's outcome (schedule.ts).
   * @param ok at least one queue was read (or there was none to read)
   * @param busy some queue has work now; the previous round's busy keeps the pace up for one more round
   * @param throttled some read was throttled by the service
   */
  #scheduleNext(ok: boolean, busy: boolean, throttled: boolean): void {
    const outcome: PollOutcome = ok ? { ok: true, busy: busy || this.#wasBusy } : { ok: false, failures: ++this.#failures, throttled };
    if (outcome.ok) this.#failures = 0;
    this.#wasBusy = busy;
    if (!this.#closed) {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(
        () => {
          this.#timer = undefined;
          this.#queueRound();
        },
        nextDelay(this.#o.timing, outcome, this.#o.random()),
      );
    }
  }

  /** Hands a pipeline's view to the owner; inFlight undefined reuses the last Prometheus numbers. */
  #report(sub: PipelineSubscription, inFlight: Map<string, number> | undefined): void {
    const workers = inFlight ? (inFlight.get(sub.key) ?? 0) : this.#workersInFlight.get(sub.key);
    if (workers !== undefined) this.#workersInFlight.set(sub.key, workers);
    this.#o.onView(sub, queueView(this.#readings.get(sub.queueName), sub, workers));
  }
}
