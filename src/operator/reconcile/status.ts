// status: turn the gathered facts into the status the user sees. Pure; the reconciler
// writes it through the status subresource only when it differs from what is there.
import type { Condition, OcrPipelineStatus } from '../../crds/ocrpipeline.ts';
import { evaluateConditions, type ConditionFacts, type ConditionVerdict } from '../conditions/checks.ts';
import { stableStringify } from '../desired/common.ts';
import type { ScalingObservation } from '../scaling/service.ts';

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

export function buildStatus(previous: OcrPipelineStatus | undefined, facts: ConditionFacts, generation: number, now: string, scaling?: ScalingObservation): OcrPipelineStatus {
  const status: OcrPipelineStatus = {
    observedGeneration: generation,
    conditions: mergeConditions(previous?.conditions, withScalingVerdicts(evaluateConditions(facts), scaling), generation, now),
  };
  if (facts.api) status.api = { desiredReplicas: facts.api.desired, readyReplicas: facts.api.ready };
  if (facts.worker) status.worker = { desiredReplicas: facts.worker.desired, readyReplicas: facts.worker.ready };
  // status.scaling: the queue numbers and the scaling decision (src/operator/scaling/).
  if (scaling) status.scaling = JSON.parse(JSON.stringify(scaling.status)) as NonNullable<OcrPipelineStatus['scaling']>;
  else if (previous?.scaling) status.scaling = previous.scaling;
  return status;
}

export function statusEqual(a: OcrPipelineStatus | undefined, b: OcrPipelineStatus): boolean {
  return stableStringify(a ?? {}) === stableStringify(b);
}
