// Queue-depth polling for every OcrPipeline: one NamespacePoller per Service Bus namespace
// (and credential), and the latest view of each pipeline. When a pipeline's numbers or
// reachability change, it calls onChange(key) so the pipeline is requeued and its status
// and HPA follow. It also keeps the queue gauges on /metrics in step with the views.
//
//   const registry = new QueueRegistry({ log, gauges: queueGauges(metrics), onChange: (key) => queue.add(key) });
//   registry.subscribe({ key: 'finance/receipts', ..., credential, queueName: 'ocr-jobs' }); // ScalingService.track
//   const view = registry.view('finance/receipts');                                        // ScalingService.observe
import type { Clock } from '../../shared/clock.ts';
import { systemClock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { QueueProblem } from '../conditions/checks.ts';
import { REASON } from '../conditions/reasons.ts';
import { defaultQueueReader, InvalidConnectionStringError, pollerKey, type QueueCredential, type QueueReader } from './client.ts';
import { checkEgress, DEFAULT_EGRESS_POLICY, type EgressPolicy } from './egress.ts';
import type { QueueGauges } from './metrics.ts';
import { NamespacePoller, type InFlightSource, type PipelineSubscription } from './namespace-poller.ts';
import { DEFAULT_POLL_TIMING, type PollTiming } from './schedule.ts';
import { fingerprint, pendingView, problemView, stampObservedAt, type PipelineQueueView } from './view.ts';

export interface QueueRegistryOptions {
  log: Logger;
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
  /** Reader per credential. Default defaultQueueReader without an environment (no workload identity); main passes process.env in. */
  readerFor?: (cred: QueueCredential) => QueueReader;
  /** Default systemClock. */
  clock?: Clock;
  /** A number in [0, 1) for the poll jitter. Default Math.random. */
  random?: () => number;
  /** Which namespaces the pollers may contact (egress.ts). Default: Azure's clouds only, no development emulator. */
  egress?: EgressPolicy;
}

const labels = (sub: PipelineSubscription) => ({ namespace: sub.namespace, pipeline: sub.pipeline, queue: sub.queueName });

export class QueueRegistry {
  readonly #o: QueueRegistryOptions;
  readonly #timing: PollTiming;
  readonly #staleAfterMs: number;
  readonly #reportEveryMs: number;
  readonly #historyMs: number;
  readonly #clock: Clock;
  /** Last view per pipeline key, and its fingerprint (to notice changes). */
  readonly #views = new Map<string, PipelineQueueView>();
  readonly #fingerprints = new Map<string, string>();
  /** Pollers by poller key (namespace and credential). */
  readonly #pollers = new Map<string, NamespacePoller>();
  /** Which poller serves a pipeline key. */
  readonly #assignment = new Map<string, string>();

  constructor(o: QueueRegistryOptions) {
    this.#o = o;
    this.#timing = { ...DEFAULT_POLL_TIMING, ...o.timing };
    this.#staleAfterMs = o.staleAfterMs ?? 2 * this.#timing.idleMs;
    this.#reportEveryMs = o.reportEveryMs ?? 300_000;
    this.#historyMs = o.historyMs ?? 300_000;
    this.#clock = o.clock ?? systemClock;
  }

  /**
   * Registers or updates a pipeline (cheap when nothing changed). A new pipeline, a new
   * queue or new credentials trigger an immediate read. An invalid connection string, or a
   * namespace the egress policy refuses, is reported in the view, not thrown, and no poller
   * is made for it: nothing is sent to that host.
   */
  subscribe(sub: PipelineSubscription): void {
    let id: string;
    try {
      id = pollerKey(sub.credential);
    } catch (error) {
      if (!(error instanceof InvalidConnectionStringError)) throw error;
      this.#refuse(sub.key, {
        reason: REASON.invalidConnectionString,
        message: `The Service Bus connection string in spec.queue.serviceBus.connectionStringSecretRef is invalid: ${error.message}.`,
      });
      return;
    }
    const refused = checkEgress(sub.credential, this.#o.egress ?? DEFAULT_EGRESS_POLICY);
    if (refused) {
      this.#refuse(sub.key, refused);
      return;
    }
    const previousId = this.#assignment.get(sub.key);
    if (previousId !== undefined && previousId !== id) this.unsubscribe(sub.key);
    this.#assignment.set(sub.key, id);
    if (!this.#views.has(sub.key)) {
      const pending = pendingView();
      this.#views.set(sub.key, pending);
      this.#fingerprints.set(sub.key, fingerprint(pending));
    }
    this.#pollerFor(id, sub.credential).subscribe(sub);
  }

  /** Forgets a pipeline (deleted, or its Secret is gone): its series leave /metrics, an unused poller stops. */
  unsubscribe(key: string): void {
    const id = this.#assignment.get(key);
    this.#assignment.delete(key);
    this.#views.delete(key);
    this.#fingerprints.delete(key);
    if (id === undefined) return;
    const poller = this.#pollers.get(id);
    const sub = poller?.unsubscribe(key);
    if (!poller || !sub) return;
    this.#o.gauges?.remove(labels(sub));
    if (poller.size === 0) {
      poller.close();
      this.#pollers.delete(id);
    }
  }

  /** The API created jobs for this pipeline: its poller reads now if it is idle (NamespacePoller.wake). */
  wake(key: string): void {
    const id = this.#assignment.get(key);
    if (id !== undefined) this.#pollers.get(id)?.wake();
  }

  /** The latest view of a pipeline, or undefined when it was never registered. */
  view(key: string): PipelineQueueView | undefined {
    return this.#views.get(key);
  }

  /** Number of namespace pollers running (one per namespace and credential). */
  get pollerCount(): number {
    return this.#pollers.size;
  }

  close(): void {
    for (const p of this.#pollers.values()) p.close();
    this.#pollers.clear();
  }

  /** Stops polling for a pipeline and leaves the problem as its view. */
  #refuse(key: string, problem: QueueProblem): void {
    this.unsubscribe(key);
    this.#views.set(key, problemView(problem));
  }

  #pollerFor(id: string, credential: QueueCredential): NamespacePoller {
    let poller = this.#pollers.get(id);
    if (!poller) {
      poller = new NamespacePoller({
        credential,
        reader: (this.#o.readerFor ?? defaultQueueReader)(credential),
        timing: this.#timing,
        historyMs: this.#historyMs,
        clock: this.#clock,
        random: this.#o.random ?? Math.random,
        inFlight: this.#o.inFlight,
        log: this.#o.log,
        onView: (sub, view) => this.#publish(sub, view),
        onReadError: (sub, reason) => this.#o.gauges?.readError(labels(sub), reason),
      });
      this.#pollers.set(id, poller);
    }
    return poller;
  }

  /** Updates the gauges and the latest view of one pipeline; requeues it when something a reconcile reads changed. */
  #publish(sub: PipelineSubscription, fresh: PipelineQueueView): void {
    const { gauges, onChange } = this.#o;
    if (fresh.signal && fresh.observedAt && this.#clock() - fresh.observedAt.getTime() <= this.#staleAfterMs) {
      gauges?.set(labels(sub), fresh.signal, fresh.observedAt.getTime());
    } else if (!fresh.pending) {
      // Stale: take the series away so the HPA holds its count (and says why) instead of acting on old numbers.
      gauges?.remove(labels(sub));
    }
    const before = this.#fingerprints.get(sub.key);
    const after = fingerprint(fresh);
    this.#views.set(sub.key, stampObservedAt(this.#views.get(sub.key), fresh, before === after, this.#reportEveryMs));
    this.#fingerprints.set(sub.key, after);
    if (before !== undefined && before !== after) onChange?.(sub.key);
  }
}
