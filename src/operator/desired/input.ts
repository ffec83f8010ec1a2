// What every builder receives: the parsed pipeline plus facts gathered from the cluster
// that change pods without changing the spec.
import type { OcrPipeline } from '../../crds/ocrpipeline.ts';

export interface DesiredInput {
  pipeline: OcrPipeline;
  /**
   * sha256 of each referenced Secret value, keyed "name/key". Hashes, not values: the
   * builders only need to notice a change, and secrets must not travel further than needed.
   */
  secretHashes: Record<string, string>;
}
