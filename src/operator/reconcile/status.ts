// status: turn the gathered facts into the status the user sees. Pure; the reconciler
// writes it through the status subresource only when it differs from what is there.
import type { Condition, OcrPipelineStatus } from '../../crds/ocrpipeline.ts';
import { evaluateConditions, type ConditionFacts, type ConditionVerdict } from '../conditions/checks.ts';
import { stableStringify } from '../desired/common.ts';

/**
 * Merges fresh verdicts into the existing conditions: lastTransitionTime changes only when
 * a condition's status changes, so an unchanged world yields an identical status.
 */
export function mergeConditions(existing: Condition[] | undefined, verdicts: ConditionVerdict[], generation: number, now: string): Condition[] {
  return verdicts.map((v) => {
    const previous = existing?.find((c) => c.type === v.type);
    const lastTransitionTime = previous && previous.status === v.status ? previous.lastTransitionTime : now;
    return { type: v.type, status: v.status, reason: v.reason, message: v.message, lastTransitionTime, observedGeneration: generation };
  });
}

export function buildStatus(previous: OcrPipelineStatus | undefined, facts: ConditionFacts, generation: number, now: string): OcrPipelineStatus {
  const status: OcrPipelineStatus = {
    observedGeneration: generation,
    conditions: mergeConditions(previous?.conditions, evaluateConditions(facts), generation, now),
  };
  if (facts.api) status.api = { desiredReplicas: facts.api.desired, readyReplicas: facts.api.ready };
  if (facts.worker) status.worker = { desiredReplicas: facts.worker.desired, readyReplicas: facts.worker.ready };
  // status.scaling belongs to the queue-depth poller (next issue); keep what it wrote.
  if (previous?.scaling) status.scaling = previous.scaling;
  return status;
}

export function statusEqual(a: OcrPipelineStatus | undefined, b: OcrPipelineStatus): boolean {
  return stableStringify(a ?? {}) === stableStringify(b);
}
