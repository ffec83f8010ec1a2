// CPU-based HorizontalPodAutoscaler for the API; absent when replicas are fixed (min == max).
import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { childMetadata, childName, isAutoscaled } from './common.ts';
import type { DesiredInput } from './input.ts';

export function apiHpa({ pipeline: p }: DesiredInput): V2HorizontalPodAutoscaler | undefined {
  const { replicas, autoscaling } = p.spec.api;
  if (!isAutoscaled(replicas)) return undefined;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: childMetadata(p, 'api'),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: childName(p.metadata.name, 'api') },
      minReplicas: replicas.min,
      maxReplicas: replicas.max,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: autoscaling.targetCPUUtilizationPercentage } } }],
      behavior: autoscaling.behavior,
    },
  };
}
