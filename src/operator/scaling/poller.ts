// Queue-depth polling for every OcrPipeline: one poller per Service Bus namespace (and
// credential) reads the runtime counters of every queue its pipelines use, at a pace that
// follows the traffic (schedule.ts), and keeps a cache the reconcile reads. When a
// pipeline's numbers or reachability change, it calls onChange(key) so the pipeline is
// requeued and its status and HPA follow.
//
//   const pollers = new QueuePollers({ gauges: queueGauges(registry), onChange: (key) => queue.add(key) });
//   pollers.upsert({ key: 'finance/receipts', ..., credential, queueName: 'ocr-jobs' }); // from gather
//   const view = pollers.view('finance/receipts');                                      // in gather
import { defaultQueueReader, pollerKey, endpointOf, InvalidConnectionStringError, type QueueCredential, type QueueReader } from './client.ts';
import { checkQueueStatus, classifyReadError, type QueueFinding, type QueueRef } from './preflight.ts';
import type { QueueGauges } from './metrics.ts';
import { QUEUE_REASON } from './reasons.ts';
import { DEFAULT_POLL_TIMING, nextDelay, type PollTiming } from './schedule.ts';
import { hasWork, queueSignal, type QueueCounts, type QueueSignal } from './signal.ts';

/** What gather hands the poller for one pipeline (the connection string stays in memory). */
export interface PipelineSubscription {
  /** Work-queue key, namespace/name. */
  key: string;
  namespace: string;
  pipeline: string;
  queueName: string;
  credential: QueueCredential;
  countInFlight: boolean;
  /** Backlog at or below which idle workers stay at zero (only with replicas.min 0). */
  activationMessages: number;
  minReplicas: number;
  /** Worker replicas currently running (Deployment status), for activation. */
  workersRunning: number;
}

/** What the reconcile reads for one pipeline. */
export interface PipelineQueueView {
  /** The last good reading, kept through failures so the status can show what was last seen. */
  signal?: QueueSignal;
  observedAt?: Date;
  /** Why the queue cannot be scaled on right now (unreachable, not found, ReceiveDisabled, ...). */
  problem?: QueueFinding;
  /** The last successful reading found work (live messages > 0): never scale to zero then. */
  lastSeenNonEmpty: boolean;
  /** Dead-lettered message counts with their time, oldest first, for the growth check. */
  deadLetterHistory: Array<{ atMs: number; count: number }>;
  /** Set until the first read of this pipeline's queue finished. */
  pending: boolean;
}

/** Sum of ocr_worker_jobs_in_flight per pipeline key, from Prometheus; undefined when unknown. */
export type InFlightSource = (keys: ReadonlyArray<{ namespace: string; pipeline: string }>) => Promise<Map<string, number> | undefined>;

export interface QueuePollersOptions {
  gauges?: QueueGauges;
  onChange?: (key: string) => void;
  inFlight?: InFlightSource;
  timing?: Partial<PollTiming>;
  /** A reading older than this is dropped from /metrics, so the HPA holds instead of acting on it (ms). Default 2 x idleMs. */
  staleAfterMs?: number;
  /** While the numbers do not change, the view's observedAt moves at most this often (ms). Default 300 000. */
  reportEveryMs?: number;
  /** How long dead-letter history is kept (ms); the degraded check looks at this window. Default 300 000. */
  historyMs?: number;
  readerFor?: (cred: QueueCredential) => QueueReader;
  now?: () => number;
  random?: () => number;
  log?: { warn(obj: object, msg: string): void; debug?(obj: object, msg: string): void };
}

interface QueueState {
  counts?: QueueCounts;
  observedAtMs?: number;
  problem?: QueueFinding;
  statusProblem?: QueueFinding;
  statusReadAtMs?: number;
  lastSeenNonEmpty: boolean;
  deadLetterHistory: Array<{ atMs: number; count: number }>;
  read: boolean;
}

class NamespacePoller {
  readonly subscriptions = new Map<string, PipelineSubscription>();
  readonly queues = new Map<string, QueueState>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private wasBusy = false;
  private closed = false;
  private readonly reader: QueueReader;
  private readonly endpoint: string;
  private readonly owner: QueuePollers;

  constructor(owner: QueuePollers, credential: QueueCredential) {
    this.owner = owner;
    this.endpoint = endpointOf(credential);
    this.reader = owner.readerFor(credential);
  }

  ref(queueName: string, cred: QueueCredential): QueueRef {
    return { endpoint: this.endpoint, queueName, auth: cred.kind };
  }

  /** Reads now (coalesced with a read already running), then reschedules. */
  pollSoon(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), 0);
  }

  private async tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.readAll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async readAll(): Promise<void> {
    if (this.closed || this.subscriptions.size === 0) return;
    const o = this.owner;
    const queueNames = [...new Set([...this.subscriptions.values()].map((s) => s.queueName))];
    const anyCred = [...this.subscriptions.values()][0]!.credential;
    let succeeded = 0;
    let throttled = false;
    let busy = false;
    for (const name of queueNames) {
      const state = this.queues.get(name) ?? { lastSeenNonEmpty: false, deadLetterHistory: [], read: false };
      this.queues.set(name, state);
      const ref = this.ref(name, anyCred);
      const now = o.now();
      try {
        // The status changes rarely and costs a second request: re-read it only now and then.
        if (state.statusReadAtMs === undefined || now - state.statusReadAtMs >= o.timing.statusRefreshMs || state.statusProblem) {
          state.statusProblem = checkQueueStatus(await this.reader.status(name), ref);
          state.statusReadAtMs = now;
        }
        const counts = await this.reader.counts(name);
        const at = o.now();
        state.counts = counts;
        state.observedAtMs = at;
        state.problem = undefined;
        state.lastSeenNonEmpty = hasWork(counts);
        state.deadLetterHistory.push({ atMs: at, count: counts.deadLettered });
        state.deadLetterHistory = state.deadLetterHistory.filter((h) => at - h.atMs <= o.historyMs);
        succeeded += 1;
        busy ||= hasWork(counts);
      } catch (error) {
        const finding = classifyReadError(error, ref);
        state.problem = finding;
        throttled ||= finding.throttled;
        busy ||= state.lastSeenNonEmpty;
        for (const sub of this.subscribersOf(name)) o.gauges?.readError(labels(sub), finding.reason);
        o.log?.warn({ endpoint: this.endpoint, queue: name, reason: finding.reason }, 'Reading queue counters failed');
      }
      state.read = true;
    }

    const inFlight = succeeded > 0 && o.inFlight ? await o.inFlight([...this.subscriptions.values()]).catch(() => undefined) : undefined;
    for (const sub of this.subscriptions.values()) this.publish(sub, inFlight);

    const outcome = succeeded > 0 || queueNames.length === 0
      ? { ok: true as const, busy: busy || this.wasBusy }
      : { ok: false as const, failures: ++this.failures, throttled };
    if (outcome.ok) this.failures = 0;
    this.wasBusy = busy;
    if (!this.closed) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.tick(), nextDelay(o.timing, outcome, o.random()));
    }
  }

  private subscribersOf(queueName: string): PipelineSubscription[] {
    return [...this.subscriptions.values()].filter((s) => s.queueName === queueName);
  }

  /** Updates gauges and the cached view of one pipeline; requeues it when something changed. */
  publish(sub: PipelineSubscription, inFlight: Map<string, number> | undefined): void {
    const o = this.owner;
    const state = this.queues.get(sub.queueName);
    const before = o.fingerprints.get(sub.key);
    const workers = inFlight ? inFlight.get(sub.key) ?? 0 : o.workersInFlight.get(sub.key);
    if (workers !== undefined) o.workersInFlight.set(sub.key, workers);
    const view = this.view(sub, workers);
    if (view.signal && view.observedAt && o.now() - view.observedAt.getTime() <= o.staleAfterMs) {
      o.gauges?.set(labels(sub), view.signal, view.observedAt.getTime());
    } else if (state?.read) {
      // Stale: take the series away so the HPA holds its count (and says why) instead of acting on old numbers.
      o.gauges?.remove(labels(sub));
    }
    const after = fingerprint(view);
    // The status shows when the numbers were last confirmed, but only moves that stamp
    // when they change or it is older than reportEveryMs: an idle pipeline's reconcile
    // then writes nothing (no status write per poll).
    const previous = o.views.get(sub.key)?.observedAt;
    if (before === after && previous && view.observedAt && view.observedAt.getTime() - previous.getTime() < o.reportEveryMs) view.observedAt = previous;
    o.views.set(sub.key, view);
    o.fingerprints.set(sub.key, after);
    if (before !== undefined && before !== after) o.onChange?.(sub.key);
  }

  view(sub: PipelineSubscription, workersInFlight: number | undefined): PipelineQueueView {
    const state = this.queues.get(sub.queueName);
    if (!state?.read) return { pending: true, lastSeenNonEmpty: false, deadLetterHistory: [] };
    let signal = state.counts ? queueSignal(state.counts, workersInFlight, sub.countInFlight) : undefined;
    if (signal && sub.minReplicas === 0 && sub.workersRunning === 0 && signal.backlog <= sub.activationMessages) {
      // Activation (KEDA's activationThreshold): a trickle at or below it does not wake an idle fleet.
      signal = { ...signal, backlog: 0 };
    }
    return {
      signal,
      observedAt: state.observedAtMs !== undefined ? new Date(state.observedAtMs) : undefined,
      problem: state.problem ?? state.statusProblem,
      lastSeenNonEmpty: state.lastSeenNonEmpty,
      deadLetterHistory: [...state.deadLetterHistory],
      pending: false,
    };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}

function labels(sub: PipelineSubscription) {
  return { namespace: sub.namespace, pipeline: sub.pipeline, queue: sub.queueName };
}

/** What a reconcile cares about; a change of any of these requeues the pipeline. */
function fingerprint(v: PipelineQueueView): string {
  const s = v.signal;
  return JSON.stringify([v.pending, v.problem?.reason, v.lastSeenNonEmpty, s?.activeMessages, s?.inFlight, s?.scheduled, s?.deadLettered, s?.backlog]);
}

export class QueuePollers {
  readonly timing: PollTiming;
  readonly staleAfterMs: number;
  readonly historyMs: number;
  readonly reportEveryMs: number;
  readonly gauges: QueueGauges | undefined;
  readonly onChange: ((key: string) => void) | undefined;
  readonly inFlight: InFlightSource | undefined;
  readonly readerFor: (cred: QueueCredential) => QueueReader;
  readonly now: () => number;
  readonly random: () => number;
  readonly log: QueuePollersOptions['log'];
  /** Last view per pipeline key, and its fingerprint (to notice changes). */
  readonly views = new Map<string, PipelineQueueView>();
  readonly fingerprints = new Map<string, string>();
  /** Last sum of the workers' in-flight gauge per pipeline key (Prometheus), reused between queries. */
  readonly workersInFlight = new Map<string, number>();
  private readonly pollers = new Map<string, NamespacePoller>();
  /** Which poller serves a pipeline key. */
  private readonly assignment = new Map<string, string>();

  constructor(options: QueuePollersOptions = {}) {
    this.timing = { ...DEFAULT_POLL_TIMING, ...options.timing };
    this.staleAfterMs = options.staleAfterMs ?? 2 * this.timing.idleMs;
    this.historyMs = options.historyMs ?? 300_000;
    this.reportEveryMs = options.reportEveryMs ?? 300_000;
    this.gauges = options.gauges;
    this.onChange = options.onChange;
    this.inFlight = options.inFlight;
    this.readerFor = options.readerFor ?? defaultQueueReader;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.log = options.log;
  }

  /**
   * Registers or updates a pipeline (call it from every reconcile; cheap when nothing
   * changed). A new pipeline, a new queue or new credentials trigger an immediate read.
   * An invalid connection string is reported in the view, not thrown.
   */
  upsert(sub: PipelineSubscription): void {
    let key: string;
    try {
      key = pollerKey(sub.credential);
    } catch (error) {
      if (!(error instanceof InvalidConnectionStringError)) throw error;
      this.remove(sub.key);
      this.views.set(sub.key, {
        pending: false,
        lastSeenNonEmpty: false,
        deadLetterHistory: [],
        problem: { reason: QUEUE_REASON.invalidConnectionString, throttled: false, message: `The Service Bus connection string in spec.queue.serviceBus.connectionStringSecretRef is invalid: ${error.message}.` },
      });
      return;
    }
    const previousKey = this.assignment.get(sub.key);
    if (previousKey !== undefined && previousKey !== key) this.remove(sub.key);
    let poller = this.pollers.get(key);
    if (!poller) {
      poller = new NamespacePoller(this, sub.credential);
      this.pollers.set(key, poller);
    }
    const old = poller.subscriptions.get(sub.key);
    poller.subscriptions.set(sub.key, sub);
    this.assignment.set(sub.key, key);
    if (!this.views.has(sub.key)) {
      const pending: PipelineQueueView = { pending: true, lastSeenNonEmpty: false, deadLetterHistory: [] };
      this.views.set(sub.key, pending);
      this.fingerprints.set(sub.key, fingerprint(pending));
    }
    if (!old || old.queueName !== sub.queueName || !poller.queues.get(sub.queueName)?.read) {
      poller.pollSoon();
    } else if (old.countInFlight !== sub.countInFlight || old.activationMessages !== sub.activationMessages || old.minReplicas !== sub.minReplicas || old.workersRunning !== sub.workersRunning) {
      poller.publish(sub, undefined); // same reading, new interpretation
    }
  }

  /** Forgets a pipeline (deleted): its series leave /metrics, an unused poller stops. */
  remove(key: string): void {
    const pollerId = this.assignment.get(key);
    this.assignment.delete(key);
    this.views.delete(key);
    this.fingerprints.delete(key);
    this.workersInFlight.delete(key);
    if (pollerId === undefined) return;
    const poller = this.pollers.get(pollerId);
    const sub = poller?.subscriptions.get(key);
    if (!poller || !sub) return;
    poller.subscriptions.delete(key);
    this.gauges?.remove(labels(sub));
    if (![...poller.subscriptions.values()].some((s) => s.queueName === sub.queueName)) poller.queues.delete(sub.queueName);
    if (poller.subscriptions.size === 0) {
      poller.close();
      this.pollers.delete(pollerId);
    }
  }

  /** The cached view of a pipeline, or undefined when it was never registered. */
  view(key: string): PipelineQueueView | undefined {
    return this.views.get(key);
  }

  /** Number of namespace pollers running (one per namespace and credential). */
  get pollerCount(): number {
    return this.pollers.size;
  }

  close(): void {
    for (const p of this.pollers.values()) p.close();
    this.pollers.clear();
  }
}
