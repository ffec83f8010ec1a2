// status: turn the gathered facts into the status the user sees. Pure; the reconciler
// writes it through the status subresource only when it differs from what is there.
import type { Condition, OcrPipelineStatus } from '../../crds/ocrpipeline.ts';
import { evaluateConditions, type ConditionFacts, type ConditionVerdict } from '../conditions/checks.ts';
import { stableStringify } from '../desired/common.ts';
import { QUEUE_REASON, SCALING_CONDITION } from '../scaling/reasons.ts';
import type { ScalingObservation } from '../scaling/service.ts';
import { stableScalingStatus, type ScalingStatus } from '../scaling/decide.ts';

/** A verdict from any chain of checks (the core ones, or queue scaling's). */
type AnyVerdict = Pick<ConditionVerdict, 'status' | 'message'> & { type: string; reason: string };

/**
 * Adds queue scaling's conditions (QueueReachable, MetricsAvailable); its Degraded verdict
 * (dead letters growing, jobs failing) replaces a core Degraded=False, never a True one.
 */
export function withScalingVerdicts(core: ConditionVerdict[], scaling: ScalingObservation | undefined): AnyVerdict[] {
  if (!scaling) return core;
  const out: AnyVerdict[] = core.map((v) => (v.type === 'Degraded' && v.status === 'False' && scaling.degraded ? scaling.degraded : v));
  return [...out, ...scaling.conditions];
}

/**
 * Merges fresh verdicts into the existing conditions: lastTransitionTime changes only when
 * a condition's status changes, so an unchanged world yields an identical status.
 */
export function mergeConditions(existing: Condition[] | undefined, verdicts: AnyVerdict[], generation: number, now: string): Condition[] {
  return verdicts.map((v) => {
    const previous = existing?.find((c) => c.type === v.type);
    const lastTransitionTime = previous && previous.status === v.status ? previous.lastTransitionTime : now;
    return { type: v.type, status: v.status, reason: v.reason, message: v.message, lastTransitionTime, observedGeneration: generation };
  });
}

/**
 * Whether the queue poller has not finished its first read (a restarted operator, a new
 * pipeline). It knows nothing new then: keeping the last reported queue facts instead of
 * flipping QueueReachable to Unknown and back means a restart writes nothing (DESIGN §9).
 */
export function firstReadPending(scaling: ScalingObservation | undefined): boolean {
  return scaling?.conditions.some((c) => c.type === SCALING_CONDITION.queueReachable && c.reason === QUEUE_REASON.notYetRead) ?? false;
}

/** QueueReachable as last reported while the first read is pending; the fresh verdict otherwise. */
function keepLastQueueVerdict(verdicts: AnyVerdict[], previous: OcrPipelineStatus | undefined, pending: boolean): AnyVerdict[] {
  const last = previous?.conditions?.find((c) => c.type === SCALING_CONDITION.queueReachable);
  if (!pending || !last) return verdicts;
  return verdicts.map((v) => (v.type === SCALING_CONDITION.queueReachable ? { type: v.type, status: last.status, reason: last.reason, message: last.message } : v));
}

export function buildStatus(previous: OcrPipelineStatus | undefined, facts: ConditionFacts, generation: number, now: string, scaling?: ScalingObservation): OcrPipelineStatus {
  const pending = firstReadPending(scaling);
  const verdicts = keepLastQueueVerdict(withScalingVerdicts(evaluateConditions(facts), scaling), previous, pending);
  const status: OcrPipelineStatus = {
    observedGeneration: generation,
    conditions: mergeConditions(previous?.conditions, verdicts, generation, now),
  };
  if (facts.api) status.api = { desiredReplicas: facts.api.desired, readyReplicas: facts.api.ready };
  if (facts.worker) status.worker = { desiredReplicas: facts.worker.desired, readyReplicas: facts.worker.ready };
  // status.scaling: the queue numbers and the scaling decision (src/operator/scaling/).
  if (scaling && pending && previous?.scaling) status.scaling = previous.scaling;
  else if (scaling) status.scaling = JSON.parse(JSON.stringify(stableScalingStatus(previous?.scaling as ScalingStatus | undefined, scaling.status, Date.parse(now)))) as NonNullable<OcrPipelineStatus['scaling']>;
  else if (previous?.scaling) status.scaling = previous.scaling;
  return status;
}

export function statusEqual(a: OcrPipelineStatus | undefined, b: OcrPipelineStatus): boolean {
  return stableStringify(a ?? {}) === stableStringify(b);
}
