// The kinds of child the operator creates, watches and deletes when no longer desired.
// One list: src/operator/kube.ts builds its watched child kinds from it. KEDA's
// ScaledObject is deliberately absent: clusters without KEDA have no such API to watch.

export interface ManagedKind {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
}

export const MANAGED_KINDS = {
  deployment: { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  service: { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  hpa: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers' },
  pdb: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets' },
  networkPolicy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies' },
} as const satisfies Record<string, ManagedKind>;

/** REST path of a kind's collection, in one namespace or across all. */
export function kindPath(k: ManagedKind, namespace?: string): string {
  const prefix = k.apiVersion.includes('/') ? `/apis/${k.apiVersion}` : `/api/${k.apiVersion}`;
  return namespace ? `${prefix}/namespaces/${namespace}/${k.plural}` : `${prefix}/${k.plural}`;
}
