// What every builder receives: the parsed pipeline plus facts gathered from the cluster
// that change pods without changing the spec.
import type { OcrPipeline } from '../../crds/ocrpipeline.ts';
import type { ScalingPlan } from '../scaling/decide.ts';

export interface DesiredInput {
  pipeline: OcrPipeline;
  /**
   * sha256 of each referenced Secret value, keyed "name/key". Hashes, not values: the
   * builders only need to notice a change, and secrets must not travel further than needed.
   */
  secretHashes: Record<string, string>;
  /**
   * This reconcile's queue-scaling decision (src/operator/scaling/): the worker floor and
   * the scale-up gate for the worker HPA or ScaledObject, and the Prometheus URL the KEDA
   * trigger queries. Absent: the spec's values as they are, and no ScaledObject.
   */
  scaling?: { plan: Pick<ScalingPlan, 'minReplicas' | 'scaleUpDisabled'>; prometheusUrl?: string };
}
