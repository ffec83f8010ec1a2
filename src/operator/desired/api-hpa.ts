// CPU-based HorizontalPodAutoscaler for the API; absent when replicas are fixed (min == max).
import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { isAutoscaled } from './common.ts';
import { hpaFor } from './hpa.ts';
import type { DesiredInput } from './input.ts';

export function apiHpa({ pipeline: p }: DesiredInput): V2HorizontalPodAutoscaler | undefined {
  const { replicas, autoscaling } = p.spec.api;
  if (!isAutoscaled(replicas)) return undefined;
  return hpaFor(p, 'api', {
    minReplicas: replicas.min,
    maxReplicas: replicas.max,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: autoscaling.targetCPUUtilizationPercentage } } }],
    behavior: autoscaling.behavior,
  });
}
