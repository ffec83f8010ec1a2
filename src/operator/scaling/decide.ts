// Pure decisions of queue-driven scaling, for one pipeline per reconcile:
// - the safe floor and scale-up gate the worker HPA (or ScaledObject) gets,
// - status.scaling in plain integers, with what limits the desired worker count,
// - the QueueReachable, MetricsAvailable and Degraded verdicts.
// Inputs are facts the gather step collected (poller cache, HPA status); no I/O, no clock
// except the `now` passed in.
import type { PipelineQueueView } from './poller.ts';
import { DEGRADED_SCALING_REASON, LIMITED_BY, METRICS_REASON, QUEUE_REASON, SCALING_CONDITION, type LimitedBy } from './reasons.ts';

export interface WorkerScalingSpec {
  replicas: { min: number; max: number };
  messagesPerReplica: number;
  activationMessages: number;
  provider: 'prometheus-adapter' | 'keda';
}

/** What the worker HPA's status says (absent until the HPA exists and has synced). */
export interface HpaFacts {
  /** The HPA controller has evaluated its metric at least once (a ScalingActive condition exists). */
  reported?: boolean;
  currentReplicas?: number;
  desiredReplicas?: number;
  /** ScalingActive=False with FailedGetExternalMetric (or similar): the HPA cannot read ocr_queue_backlog. */
  metricFailing: boolean;
  /** The HPA condition's message, shown to the user when the metric fails. */
  metricMessage?: string;
}

export interface DegradedThresholds {
  /** Dead letters added within the history window that mark the pipeline degraded. Default 20. */
  deadLetterGrowth: number;
  /** Share of failed jobs (0-1) over the window that marks it degraded. Default 0.5. */
  failureRatio: number;
  /** Jobs needed in the window before the failure ratio counts. Default 20. */
  minJobs: number;
}

export const DEFAULT_DEGRADED_THRESHOLDS: DegradedThresholds = { deadLetterGrowth: 20, failureRatio: 0.5, minJobs: 20 };

export interface Verdict {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

// --- Degraded: a poisoned consumer must not get more replicas -----------------------------

/** Dead letters added over the kept history (latest minus the lowest earlier count; purges do not count as growth). */
export function deadLetterGrowth(history: ReadonlyArray<{ atMs: number; count: number }>): number {
  if (history.length < 2) return 0;
  const latest = history[history.length - 1]!.count;
  const lowest = Math.min(...history.slice(0, -1).map((h) => h.count));
  return Math.max(0, latest - lowest);
}

export function degradedVerdict(
  view: PipelineQueueView | undefined,
  jobs: { failed: number; total: number } | undefined,
  t: DegradedThresholds = DEFAULT_DEGRADED_THRESHOLDS,
): Verdict | undefined {
  const growth = view ? deadLetterGrowth(view.deadLetterHistory) : 0;
  if (growth >= t.deadLetterGrowth) {
    return {
      type: 'Degraded',
      status: 'True',
      reason: DEGRADED_SCALING_REASON.deadLetterGrowth,
      message: `${growth} messages were dead-lettered recently (threshold ${t.deadLetterGrowth}): workers are failing jobs, so scale-up is paused. Inspect the dead-letter queue (DeadLetterReason), fix the cause, then resubmit.`,
    };
  }
  if (jobs && jobs.total >= t.minJobs && jobs.failed / jobs.total >= t.failureRatio) {
    const pct = Math.round((100 * jobs.failed) / jobs.total);
    return {
      type: 'Degraded',
      status: 'True',
      reason: DEGRADED_SCALING_REASON.workerFailures,
      message: `${jobs.failed} of the last ${jobs.total} jobs failed (${pct}%, threshold ${Math.round(t.failureRatio * 100)}%): scale-up is paused because more replicas of a failing worker only burn money. Check the worker logs.`,
    };
  }
  return undefined;
}

// --- What the HPA gets ---------------------------------------------------------------------

export interface ScalingPlan {
  /** minReplicas for the HPA / minReplicaCount for KEDA: spec min, raised to 1 when it must not reach zero. */
  minReplicas: number;
  /** behavior.scaleUp.selectPolicy = Disabled. */
  scaleUpDisabled: boolean;
  /** The metric the HPA scales on cannot be trusted right now. */
  metricUnavailable: boolean;
}

/**
 * - Metric unavailable (queue unreadable, or the HPA cannot get the external metric) and
 *   the queue was last seen with work: the floor is max(min, 1), so a full queue never
 *   sits with zero workers. An HPA without metrics holds its current count otherwise.
 * - Degraded, or the queue does not let workers receive: scale-up is disabled
 *   (scale-down still works).
 */
export function scalingPlan(spec: WorkerScalingSpec, view: PipelineQueueView | undefined, hpa: HpaFacts | undefined, degraded: boolean): ScalingPlan {
  const queueUnreadable = view?.problem !== undefined && view.problem.reason !== QUEUE_REASON.queueReceiveDisabled && view.problem.reason !== QUEUE_REASON.queueDisabled;
  const metricUnavailable = queueUnreadable || hpa?.metricFailing === true;
  const cannotReceive = view?.problem?.reason === QUEUE_REASON.queueReceiveDisabled || view?.problem?.reason === QUEUE_REASON.queueDisabled;
  const floor = metricUnavailable && (view?.lastSeenNonEmpty ?? false) ? Math.max(spec.replicas.min, 1) : spec.replicas.min;
  return { minReplicas: Math.min(floor, spec.replicas.max), scaleUpDisabled: degraded || cannotReceive, metricUnavailable };
}

// --- status.scaling ------------------------------------------------------------------------

export interface ScalingStatus {
  activeMessages?: number;
  inFlight?: number;
  deadLettered?: number;
  scheduled?: number;
  backlog?: number;
  desiredWorkers?: number;
  limitedBy?: LimitedBy;
  observedAt?: string;
}

/** ceil(backlog / messagesPerReplica), the HPA's AverageValue arithmetic (0 only when the backlog is 0). */
export function workersFor(backlog: number, messagesPerReplica: number): number {
  return Math.ceil(Math.max(0, backlog) / Math.max(1, messagesPerReplica));
}

export function scalingStatus(spec: WorkerScalingSpec, view: PipelineQueueView | undefined, hpa: HpaFacts | undefined, plan: ScalingPlan): ScalingStatus {
  const s = view?.signal;
  const out: ScalingStatus = {};
  if (s) {
    out.activeMessages = s.activeMessages;
    out.inFlight = s.inFlight;
    out.deadLettered = s.deadLettered;
    out.scheduled = s.scheduled;
    out.backlog = s.backlog;
  }
  if (view?.observedAt) out.observedAt = view.observedAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const current = hpa?.currentReplicas;

  if (plan.metricUnavailable || !s) {
    // The HPA holds what it has (its desiredReplicas may read 0 while it has no metric); never below the floor.
    const held = current ?? hpa?.desiredReplicas;
    if (held !== undefined) out.desiredWorkers = Math.max(held, plan.minReplicas);
    out.limitedBy = LIMITED_BY.metricUnavailable;
    return out;
  }
  const wanted = workersFor(s.backlog, spec.messagesPerReplica);
  let desired = wanted;
  let limitedBy: LimitedBy = LIMITED_BY.none;
  if (wanted > spec.replicas.max) {
    desired = spec.replicas.max;
    limitedBy = LIMITED_BY.maxReplicas;
  } else if (wanted < plan.minReplicas) {
    desired = plan.minReplicas;
    limitedBy = LIMITED_BY.minReplicas;
  }
  if (plan.scaleUpDisabled && current !== undefined && desired > current) {
    desired = Math.max(current, plan.minReplicas);
    limitedBy = LIMITED_BY.scaleUpDisabled;
  }
  out.desiredWorkers = desired;
  out.limitedBy = limitedBy;
  return out;
}

// --- Conditions ----------------------------------------------------------------------------

export function queueReachableVerdict(view: PipelineQueueView | undefined, queueName: string): Verdict {
  const type = SCALING_CONDITION.queueReachable;
  if (!view || view.pending) return { type, status: 'Unknown', reason: QUEUE_REASON.notYetRead, message: `Reading the counters of queue "${queueName}" for the first time.` };
  if (view.problem) return { type, status: 'False', reason: view.problem.reason, message: view.problem.message };
  return { type, status: 'True', reason: QUEUE_REASON.countsRead, message: `Queue "${queueName}" counters are read; it accepts receivers.` };
}

export function metricsAvailableVerdict(spec: WorkerScalingSpec, hpa: HpaFacts | undefined, prometheusUrl?: string): Verdict {
  const type = SCALING_CONDITION.metricsAvailable;
  if (spec.replicas.min >= spec.replicas.max) return { type, status: 'True', reason: METRICS_REASON.scalingFixed, message: 'Worker replicas are fixed (replicas.min == replicas.max); no metric is needed.' };
  if (spec.provider === 'keda' && !prometheusUrl) {
    return {
      type,
      status: 'False',
      reason: METRICS_REASON.prometheusUrlMissing,
      message: 'worker.scaling.provider is keda, but the operator runs without --prometheus-url (chart value prometheusUrl), which the ScaledObject\'s Prometheus trigger needs; no ScaledObject is created, so the workers do not scale. Set it, or use provider prometheus-adapter.',
    };
  }
  if (!hpa || hpa.reported === false) {
    return spec.provider === 'keda'
      ? { type, status: 'Unknown', reason: METRICS_REASON.delegatedToKeda, message: 'KEDA owns the worker HPA (keda-hpa-<name>-worker); it has not reported yet. Check the ScaledObject\'s conditions.' }
      : { type, status: 'Unknown', reason: METRICS_REASON.notReported, message: 'The worker HPA has not reported on its metric yet.' };
  }
  if (hpa.metricFailing) {
    return {
      type,
      status: 'False',
      reason: METRICS_REASON.metricUnavailable,
      message: `The worker HPA cannot read the external metric ocr_queue_backlog${hpa.metricMessage ? ` (${hpa.metricMessage})` : ''}. Check that Prometheus scrapes the operator and that the external metrics provider (${spec.provider}) serves the metric; workers hold at a safe floor meanwhile.`,
    };
  }
  return { type, status: 'True', reason: METRICS_REASON.metricServed, message: 'The worker HPA reads ocr_queue_backlog.' };
}

/** Reads HpaFacts from an autoscaling/v2 HPA's status (the operator's or KEDA's). */
export function hpaFacts(status: { currentReplicas?: number; desiredReplicas?: number; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } | undefined): HpaFacts | undefined {
  if (!status) return undefined;
  const active = status.conditions?.find((c) => c.type === 'ScalingActive');
  const failing = active?.status === 'False' && /Failed|Invalid|Missing/i.test(active.reason ?? '') && active.reason !== 'ScalingDisabled';
  const out: HpaFacts = { metricFailing: failing, reported: active !== undefined };
  if (status.currentReplicas !== undefined) out.currentReplicas = status.currentReplicas;
  if (status.desiredReplicas !== undefined) out.desiredReplicas = status.desiredReplicas;
  if (failing && active?.message) out.metricMessage = active.message.slice(0, 200);
  return out;
}

/**
 * Keeps the previously written observedAt while every number is unchanged and that stamp
 * is younger than reportEveryMs: a restarted operator (or a new poll with the same
 * numbers) then writes no status.
 */
export function stableScalingStatus(previous: ScalingStatus | undefined, next: ScalingStatus, nowMs: number, reportEveryMs = 300_000): ScalingStatus {
  if (!previous?.observedAt || !next.observedAt) return next;
  const { observedAt: _p, ...before } = previous;
  const { observedAt: _n, ...after } = next;
  const same = JSON.stringify(Object.entries(before).sort()) === JSON.stringify(Object.entries(after).sort());
  const age = nowMs - Date.parse(previous.observedAt);
  return same && age >= 0 && age < reportEveryMs ? { ...next, observedAt: previous.observedAt } : next;
}
