// Pure decisions of queue-driven scaling, for one pipeline per reconcile:
// - the safe floor and scale-up gate the worker HPA (or ScaledObject) gets,
// - status.scaling in plain integers, with what limits the desired worker count.
// (The QueueReachable, MetricsAvailable and Degraded conditions are checks in
// src/operator/conditions/checks.ts.) Inputs are the latest queue view and the HPA status;
// no I/O, no clock except the `now` passed in.
import { LIMITED_BY, type LimitedBy, type ScalingStatus } from '../../crds/ocrpipeline.ts';
import type { HpaFacts } from '../conditions/checks.ts';
import { REASON } from '../conditions/reasons.ts';
import type { PipelineQueueView } from './view.ts';

export interface WorkerScalingSpec {
  replicas: { min: number; max: number };
  messagesPerReplica: number;
  activationMessages: number;
  provider: 'prometheus-adapter' | 'keda';
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
  const metricUnavailable = queueUnreadable(view) || hpa?.metricFailing === true;
  const floor = metricUnavailable && (view?.lastSeenNonEmpty ?? false) ? Math.max(spec.replicas.min, 1) : spec.replicas.min;
  return { minReplicas: Math.min(floor, spec.replicas.max), scaleUpDisabled: degraded || cannotReceive(view), metricUnavailable };
}

/** Queue states that keep workers from receiving: the counters are readable, but more workers would help nobody. */
const CANNOT_RECEIVE: ReadonlySet<string> = new Set([REASON.queueReceiveDisabled, REASON.queueDisabled]);

/** The queue's status keeps workers from receiving (ReceiveDisabled, Disabled). */
function cannotReceive(view: PipelineQueueView | undefined): boolean {
  return view?.problem !== undefined && CANNOT_RECEIVE.has(view.problem.reason);
}

/** The last read of the queue failed for another reason than its status: its counters are unknown. */
function queueUnreadable(view: PipelineQueueView | undefined): boolean {
  return view?.problem !== undefined && !CANNOT_RECEIVE.has(view.problem.reason);
}

// --- status.scaling ------------------------------------------------------------------------

/** ceil(backlog / messagesPerReplica), the HPA's AverageValue arithmetic (0 only when the backlog is 0). */
export function workersFor(backlog: number, messagesPerReplica: number): number {
  return Math.ceil(Math.max(0, backlog) / Math.max(1, messagesPerReplica));
}

export function scalingStatus(spec: WorkerScalingSpec, view: PipelineQueueView | undefined, hpa: HpaFacts | undefined, plan: ScalingPlan): ScalingStatus {
  const out = queueNumbers(view);
  const s = view?.signal;
  const current = hpa?.currentReplicas;

  if (plan.metricUnavailable || !s) {
    // The HPA holds what it has (its desiredReplicas may read 0 while it has no metric); never below the floor.
    const held = current ?? hpa?.desiredReplicas;
    if (held !== undefined) out.desiredWorkers = Math.max(held, plan.minReplicas);
    out.limitedBy = LIMITED_BY.metricUnavailable;
    return out;
  }
  const { desired, limitedBy } = desiredWorkers(workersFor(s.backlog, spec.messagesPerReplica), spec, plan, current);
  out.desiredWorkers = desired;
  out.limitedBy = limitedBy;
  return out;
}

/** The queue's numbers in status.scaling, and when they were read (RFC 3339, whole seconds); empty before a good read. */
function queueNumbers(view: PipelineQueueView | undefined): ScalingStatus {
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
  return out;
}

/**
 * The worker count the HPA aims for and what limits it: the wanted count clamped to
 * [plan.minReplicas, spec max], and held at the current count while scale-up is disabled.
 */
function desiredWorkers(wanted: number, spec: WorkerScalingSpec, plan: ScalingPlan, current: number | undefined): { desired: number; limitedBy: LimitedBy } {
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
  return { desired, limitedBy };
}

// --- The worker HPA's status ----------------------------------------------------------------

/** The part of an autoscaling/v2 HPA's status the decisions read (the operator's HPA or KEDA's). */
export interface HpaStatus {
  currentReplicas?: number;
  desiredReplicas?: number;
  conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
}

/** Reads HpaFacts from an autoscaling/v2 HPA's status (the operator's or KEDA's). */
export function hpaFacts(status: HpaStatus | undefined): HpaFacts | undefined {
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
