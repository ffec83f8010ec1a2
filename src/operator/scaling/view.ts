// The queue view of one pipeline, as pure functions: what the poller's last reading of a
// queue means for a pipeline on it (the signal, activation), what in it a reconcile cares
// about (the fingerprint), when its observedAt stamp moves, and how many messages were
// dead-lettered lately. No I/O and no clock: times come in as epoch milliseconds.
import type { QueueProblem } from '../conditions/checks.ts';
import { queueSignal, type QueueCounts, type QueueSignal } from './signal.ts';

/** What the reconcile reads for one pipeline. */
export interface PipelineQueueView {
  /** The last good reading, kept through failures so the status can show what was last seen. */
  signal?: QueueSignal;
  observedAt?: Date;
  /** Why the queue cannot be scaled on right now (unreachable, not found, ReceiveDisabled, ...). */
  problem?: QueueProblem;
  /** The last successful reading found work (live messages > 0): never scale to zero then. */
  lastSeenNonEmpty: boolean;
  /** Dead-lettered message counts with their time, oldest first, for the growth check. */
  deadLetterHistory: Array<{ atMs: number; count: number }>;
  /** Set until the first read of this pipeline's queue finished. */
  pending: boolean;
}

/** What a poller knows about one queue (shared by every pipeline on it). */
export interface QueueReading {
  counts?: QueueCounts;
  /** When counts were read, epoch ms. */
  observedAtMs?: number;
  /** Why the last read of the counters failed. */
  problem?: QueueProblem;
  /** Why the queue's status (ReceiveDisabled, ...) keeps workers from receiving. */
  statusProblem?: QueueProblem;
  lastSeenNonEmpty: boolean;
  deadLetterHistory: Array<{ atMs: number; count: number }>;
  /** At least one read (good or failed) finished. */
  read: boolean;
}

/** How one pipeline interprets the reading of its queue. */
export interface ViewOptions {
  countInFlight: boolean;
  /** Backlog at or below which idle workers stay at zero (only with replicas.min 0). */
  activationMessages: number;
  minReplicas: number;
  /** Worker replicas currently running (Deployment status), for activation. */
  workersRunning: number;
}

export const pendingView = (): PipelineQueueView => ({ pending: true, lastSeenNonEmpty: false, deadLetterHistory: [] });

/** A view that only carries a problem: no reading will come (bad Secret, invalid connection string). */
export const problemView = (problem: QueueProblem): PipelineQueueView => ({ pending: false, lastSeenNonEmpty: false, deadLetterHistory: [], problem });

/**
 * Activation (KEDA's activationThreshold): with replicas.min 0 and no worker running, a
 * trickle at or below activationMessages does not wake the fleet, so the backlog reads 0.
 */
export function withActivation(signal: QueueSignal, o: ViewOptions): QueueSignal {
  const idle = o.minReplicas === 0 && o.workersRunning === 0;
  return idle && signal.backlog <= o.activationMessages ? { ...signal, backlog: 0 } : signal;
}

/**
 * @param workersInFlight sum of the workers' in-flight gauge (Prometheus), or undefined when unknown
 */
export function queueView(reading: QueueReading | undefined, o: ViewOptions, workersInFlight: number | undefined): PipelineQueueView {
  if (!reading?.read) return pendingView();
  const signal = reading.counts ? withActivation(queueSignal(reading.counts, workersInFlight, o.countInFlight), o) : undefined;
  return {
    signal,
    observedAt: reading.observedAtMs !== undefined ? new Date(reading.observedAtMs) : undefined,
    problem: reading.problem ?? reading.statusProblem,
    lastSeenNonEmpty: reading.lastSeenNonEmpty,
    deadLetterHistory: [...reading.deadLetterHistory],
    pending: false,
  };
}

/** What a reconcile cares about; a change of any of these requeues the pipeline. */
export function fingerprint(v: PipelineQueueView): string {
  const s = v.signal;
  return JSON.stringify([v.pending, v.problem?.reason, v.lastSeenNonEmpty, s?.activeMessages, s?.inFlight, s?.scheduled, s?.deadLettered, s?.backlog]);
}

/**
 * The status shows when the numbers were last confirmed, but that stamp only moves when
 * they change or it is older than reportEveryMs (ms): an idle pipeline's reconcile then
 * writes nothing (no status write per poll). Returns the view with the stamp to publish.
 */
export function stampObservedAt(
  previous: PipelineQueueView | undefined,
  next: PipelineQueueView,
  unchanged: boolean,
  reportEveryMs: number,
): PipelineQueueView {
  const before = previous?.observedAt;
  if (unchanged && before && next.observedAt && next.observedAt.getTime() - before.getTime() < reportEveryMs) return { ...next, observedAt: before };
  return next;
}

/** Dead letters added over the kept history (latest minus the lowest earlier count; purges do not count as growth). */
export function deadLetterGrowth(history: ReadonlyArray<{ atMs: number; count: number }>): number {
  if (history.length < 2) return 0;
  const latest = history[history.length - 1]!.count;
  const lowest = Math.min(...history.slice(0, -1).map((h) => h.count));
  return Math.max(0, latest - lowest);
}
