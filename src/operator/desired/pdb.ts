// PodDisruptionBudgets: node drains take at most one API pod and one worker at a time.
// maxUnavailable (not minAvailable) so a single-replica or scaled-to-zero Deployment never
// blocks a drain.
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import { childMetadata, selectorLabels, type Component } from './common.ts';
import type { DesiredInput } from './input.ts';

export function pdb({ pipeline: p }: DesiredInput, component: Component): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMetadata(p, component),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selectorLabels(p.metadata.name, component) },
      // Evict pods that are not ready (stuck loading, crash-looping) even when the budget is spent.
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}
