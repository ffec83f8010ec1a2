// status: turn the gathered facts into the status the user sees. Pure; the reconciler
// writes it through the status subresource only when it differs from what is there.
import type { Condition, OcrPipelineStatus, ScalingStatus } from '../../crds/ocrpipeline.ts';
import { evaluateConditions, type ConditionFacts, type ConditionVerdict } from '../conditions/checks.ts';
import { CONDITION } from '../conditions/reasons.ts';
import { stableStringify } from '../desired/common.ts';
import { stableScalingStatus } from '../scaling/decide.ts';

/** A condition before its times are stamped: a verdict, or one kept from the previous status. */
type ConditionFields = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/**
 * Merges fresh verdicts into the existing conditions: lastTransitionTime changes only when
 * a condition's status changes, so an unchanged world yields an identical status.
 */
export function mergeConditions(existing: Condition[] | undefined, verdicts: ConditionFields[], generation: number, now: string): Condition[] {
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
export function firstReadPending(facts: ConditionFacts): boolean {
  return facts.scaling !== undefined && (facts.scaling.queue === undefined || facts.scaling.queue.pending);
}

/** QueueReachable as last reported while the first read is pending; the fresh verdict otherwise. */
function keepLastQueueVerdict(verdicts: ConditionVerdict[], previous: OcrPipelineStatus | undefined, pending: boolean): ConditionFields[] {
  const last = previous?.conditions?.find((c) => c.type === CONDITION.queueReachable);
  if (!pending || !last) return verdicts;
  return verdicts.map((v) => (v.type === CONDITION.queueReachable ? { type: v.type, status: last.status, reason: last.reason, message: last.message } : v));
}

/**
 * Runs the condition chains over the facts (queue scaling's included, in facts.scaling)
 * and merges them into the previous status.
 * @param scaling status.scaling from the scaling step; absent when the operator runs without it
 * @param keysSecret the API keys Secret in use, shown as status.api.keysSecret (with the API Deployment's counts)
 * @param ocr status.ocr: the engine spec.ocr resolved to (desired/ocr-engine.ts); absent without a parsed spec
 */
export function buildStatus(
  previous: OcrPipelineStatus | undefined,
  facts: ConditionFacts,
  generation: number,
  now: string,
  scaling?: ScalingStatus,
  keysSecret?: string,
  ocr?: OcrPipelineStatus['ocr'],
): OcrPipelineStatus {
  const pending = firstReadPending(facts);
  const verdicts = keepLastQueueVerdict(evaluateConditions(facts), previous, pending);
  const status: OcrPipelineStatus = {
    observedGeneration: generation,
    conditions: mergeConditions(previous?.conditions, verdicts, generation, now),
  };
  if (facts.api) status.api = { desiredReplicas: facts.api.desired, readyReplicas: facts.api.ready, ...(keysSecret !== undefined ? { keysSecret } : {}) };
  if (facts.worker) status.worker = { desiredReplicas: facts.worker.desired, readyReplicas: facts.worker.ready };
  if (ocr) status.ocr = ocr;
  // status.scaling: the queue numbers and the scaling decision (src/operator/scaling/).
  if (scaling && pending && previous?.scaling) status.scaling = previous.scaling;
  else if (scaling) status.scaling = stableScalingStatus(previous?.scaling, scaling, Date.parse(now));
  else if (previous?.scaling) status.scaling = previous.scaling;
  return status;
}

export function statusEqual(a: OcrPipelineStatus | undefined, b: OcrPipelineStatus): boolean {
  return stableStringify(a ?? {}) === stableStringify(b);
}

/** statusEqual without the conditions' lastTransitionTime: a status merged against a stale previous one re-stamps those. */
export function statusEqualIgnoringTransitions(a: OcrPipelineStatus | undefined, b: OcrPipelineStatus): boolean {
  const strip = (s: OcrPipelineStatus | undefined) => ({ ...s, conditions: s?.conditions?.map((c) => ({ ...c, lastTransitionTime: undefined })) });
  return stableStringify(strip(a)) === stableStringify(strip(b));
}
