// Queue-driven worker scaling as the reconciler sees it, in two calls per pipeline:
// - track(): the side effects. Subscribes the pipeline to its namespace poller (or
//   unsubscribes it when its Secret is unusable) and starts a Prometheus fetch of worker
//   failure ratios when the cached one is old. The reconcile calls it right after gather.
// - observe(): pure. Reads the latest queue view and the cached ratios and returns the
//   plan for the HPA / ScaledObject builders, status.scaling and the facts the condition
//   checks (src/operator/conditions/) turn into QueueReachable, MetricsAvailable and Degraded.
// The connection string comes from gather's Secret pass; this service never reads a Secret.
import type { Registry } from 'prom-client';
import type { OcrPipeline, ScalingStatus } from '../../crds/ocrpipeline.ts';
import { systemClock, type Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import { DEFAULT_DEGRADED_THRESHOLDS, scaleUpPausedBy, type DegradedThresholds, type QueueProblem, type ScalingFacts } from '../conditions/checks.ts';
import { REASON } from '../conditions/reasons.ts';
import type { QueueCredential } from './client.ts';
import { hpaFacts, scalingPlan, scalingStatus, type HpaStatus, type ScalingPlan, type WorkerScalingSpec } from './decide.ts';
import { queueGauges } from './metrics.ts';
import { prometheusInFlight, workerFailureRatios } from './prometheus.ts';
import { desiredQueueSettings, QueueSettingsApplier, type QueueSettingsApplierOptions } from './queue-settings.ts';
import { QueueRegistry, type QueueRegistryOptions } from './registry.ts';
import { DEFAULT_POLL_TIMING, type PollTiming } from './schedule.ts';
import { ActivityProbe, prometheusActivity, type ActivitySource } from './activity.ts';
import { deadLetterGrowth, problemView } from './view.ts';

/** How often the worker failure ratios are re-read from Prometheus (ms). */
const RATIOS_EVERY_MS = 30_000;

export interface ScalingServiceOptions {
  registry: Registry;
  /** Requeues a pipeline (work-queue key namespace/name) when its queue numbers change. */
  requeue: (key: string) => void;
  log: Logger;
  /** Prometheus that scrapes the operator and the workers; enables in-flight, failure ratio and KEDA. */
  prometheusUrl?: string | undefined;
  timing?: Partial<PollTiming>;
  thresholds?: Partial<DegradedThresholds>;
  /** Reader per credential (tests pass fakes; main passes defaultQueueReader with process.env). */
  readerFor?: QueueRegistryOptions['readerFor'];
  /** Default systemClock. */
  clock?: Clock;
  /** Which Service Bus namespaces the pollers may contact (egress.ts); main builds it from the flags. */
  egress?: QueueRegistryOptions['egress'];
  /** The API's created-jobs counters (default: from prometheusUrl; tests pass their own). */
  activitySource?: ActivitySource;
  /**
   * Admin client per credential for applying spec.queue.serviceBus maxDeliveryCount and lockDurationSeconds to the queue
   * (queue-settings.ts; main passes client.ts adminClient). Absent: the queue's settings are neither read nor applied.
   */
  queueAdminFor?: QueueSettingsApplierOptions['adminFor'];
}

/**
 * The queue's connection string as gather's Secret pass found it (absent without
 * spec.queue.serviceBus.connectionStringSecretRef: then workload identity is used).
 */
export interface QueueSecret {
  secretExists: boolean;
  /** The decoded value of the referenced key; undefined when the key is missing. */
  connectionString: string | undefined;
}

/** What the reconcile needs from the scaling step. */
export interface ScalingObservation {
  plan: ScalingPlan;
  status: ScalingStatus;
  /** For the condition checks (ConditionFacts.scaling). */
  facts: ScalingFacts;
  prometheusUrl?: string;
}

const keyOf = (p: OcrPipeline): string => `${p.metadata.namespace}/${p.metadata.name}`;

/** The credential the poller reads the queue with, or the problem that keeps it from reading. */
export function queueCredential(p: OcrPipeline, secret: QueueSecret | undefined): QueueCredential | { problem: QueueProblem } {
  const sb = p.spec.queue.serviceBus;
  const ref = sb.connectionStringSecretRef;
  if (!ref) return { kind: 'workloadIdentity', namespace: sb.namespace ?? '' };
  const where = `Secret ${p.metadata.namespace}/${ref.name}`;
  if (!secret?.secretExists) {
    return {
      problem: {
        reason: REASON.secretNotFound,
        message: `${where} (spec.queue.serviceBus.connectionStringSecretRef) does not exist; create it with a connection string whose policy has the Manage right.`,
      },
    };
  }
  if (!secret.connectionString) {
    return {
      problem: {
        reason: REASON.secretKeyNotFound,
        message: `${where} has no key "${ref.key}" (spec.queue.serviceBus.connectionStringSecretRef); add it or fix the reference.`,
      },
    };
  }
  return { kind: 'connectionString', connectionString: secret.connectionString.trim() };
}

export class ScalingService {
  readonly prometheusUrl: string | undefined;
  readonly #queues: QueueRegistry;
  readonly #thresholds: DegradedThresholds;
  readonly #log: Logger;
  readonly #clock: Clock;
  #ratios = new Map<string, { failed: number; total: number }>();
  #ratiosAt = 0;
  #ratiosRunning = false;
  readonly #activity: ActivityProbe | undefined;
  readonly #settings: QueueSettingsApplier | undefined;

  constructor(o: ScalingServiceOptions) {
    this.prometheusUrl = o.prometheusUrl || undefined;
    this.#thresholds = { ...DEFAULT_DEGRADED_THRESHOLDS, ...o.thresholds };
    this.#log = o.log;
    this.#clock = o.clock ?? systemClock;
    this.#queues = new QueueRegistry({
      log: o.log,
      gauges: queueGauges(o.registry),
      onChange: o.requeue,
      clock: this.#clock,
      ...(this.prometheusUrl ? { inFlight: prometheusInFlight(this.prometheusUrl) } : {}),
      ...(o.timing ? { timing: o.timing } : {}),
      ...(o.readerFor ? { readerFor: o.readerFor } : {}),
      ...(o.egress ? { egress: o.egress } : {}),
    });
    if (o.queueAdminFor) this.#settings = new QueueSettingsApplier({ log: o.log, onChange: o.requeue, adminFor: o.queueAdminFor, clock: this.#clock });
    const activityMs = o.timing?.activityMs ?? DEFAULT_POLL_TIMING.activityMs;
    if (this.prometheusUrl && activityMs > 0) {
      this.#activity = new ActivityProbe({
        source: o.activitySource ?? prometheusActivity(this.prometheusUrl),
        everyMs: activityMs,
        onActivity: (keys) => keys.forEach((k) => this.#queues.wake(k)),
        log: o.log,
      });
      this.#activity.start();
    }
  }

  /**
   * The side effects of one reconcile: (un)subscribes the pipeline's queue and refreshes
   * the worker failure ratios in the background. Cheap when nothing changed.
   * @param workersRunning worker replicas (Deployment spec.replicas), for activation
   */
  track(p: OcrPipeline, secret: QueueSecret | undefined, workersRunning: number): void {
    const key = keyOf(p);
    const credential = queueCredential(p, secret);
    if ('problem' in credential) {
      this.#queues.unsubscribe(key);
      this.#settings?.forget(key);
    } else {
      const { worker, queue } = p.spec;
      this.#queues.subscribe({
        key,
        namespace: p.metadata.namespace,
        pipeline: p.metadata.name,
        queueName: queue.serviceBus.queueName,
        credential,
        countInFlight: worker.scaling.countInFlight,
        activationMessages: worker.scaling.activationMessages,
        minReplicas: worker.replicas.min,
        workersRunning,
      });
      // Only once the poller reads the queue: the namespace passed the egress check and the credential works.
      const view = this.#queues.view(key);
      if (view && !view.pending && !view.problem) this.#settings?.ensure(key, credential, queue.serviceBus.queueName, desiredQueueSettings(p));
    }
    this.#refreshRatios();
  }

  /** Decides from what track() left behind; no side effects. */
  observe(p: OcrPipeline, secret: QueueSecret | undefined, workerHpa: HpaStatus | undefined): ScalingObservation {
    const key = keyOf(p);
    const { worker, queue } = p.spec;
    const spec: WorkerScalingSpec = {
      replicas: worker.replicas,
      messagesPerReplica: worker.scaling.messagesPerReplica,
      activationMessages: worker.scaling.activationMessages,
      provider: worker.scaling.provider,
    };
    const credential = queueCredential(p, secret);
    const view = 'problem' in credential ? problemView(credential.problem) : this.#queues.view(key);
    const hpa = hpaFacts(workerHpa);
    const queueSettings = 'problem' in credential ? undefined : this.#settings?.outcome(key);
    const facts: ScalingFacts = {
      queueName: queue.serviceBus.queueName,
      queue: view && { pending: view.pending, ...(view.problem ? { problem: { reason: view.problem.reason, message: view.problem.message } } : {}) },
      deadLetterGrowth: view ? deadLetterGrowth(view.deadLetterHistory) : 0,
      jobs: this.#ratios.get(key),
      thresholds: this.#thresholds,
      replicas: spec.replicas,
      provider: spec.provider,
      hpa,
      prometheusUrl: this.prometheusUrl,
      ...(queueSettings ? { queueSettings } : {}),
    };
    const plan = scalingPlan(spec, view, hpa, scaleUpPausedBy(facts) !== undefined);
    const out: ScalingObservation = { plan, status: scalingStatus(spec, view, hpa, plan), facts };
    if (this.prometheusUrl) out.prometheusUrl = this.prometheusUrl;
    return out;
  }

  /** The pipeline is gone: stop polling for it and drop its series. */
  forget(key: string): void {
    this.#queues.unsubscribe(key);
    this.#settings?.forget(key);
  }

  close(): void {
    this.#activity?.close();
    this.#queues.close();
  }

  /** Worker failure ratios from Prometheus, refreshed at most every RATIOS_EVERY_MS in the background. */
  #refreshRatios(): void {
    if (!this.prometheusUrl || this.#ratiosRunning || this.#clock() - this.#ratiosAt < RATIOS_EVERY_MS) return;
    this.#ratiosRunning = true;
    workerFailureRatios(this.prometheusUrl)
      .then((r) => {
        this.#ratios = r;
      })
      .catch((err: unknown) => this.#log.debug({ err }, 'Failed to read worker failure ratios from Prometheus'))
      .finally(() => {
        this.#ratiosAt = this.#clock();
        this.#ratiosRunning = false;
      });
  }
}
