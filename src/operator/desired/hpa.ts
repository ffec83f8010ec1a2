// The autoscaling/v2 HorizontalPodAutoscaler envelope both HPAs share (API on CPU, workers
// on the queue backlog): metadata, the target Deployment, bounds, metrics and behavior.
import type { V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import type { HpaBehavior, OcrPipeline } from '../../crds/ocrpipeline.ts';
import { childMetadata, childName, type Component } from './common.ts';
import type { WorkerScalingPlan } from './input.ts';

export interface HpaShape {
  minReplicas: number;
  maxReplicas: number;
  metrics: V2MetricSpec[];
  behavior: HpaBehavior;
}

export function hpaFor(p: OcrPipeline, component: Component, shape: HpaShape): V2HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: childMetadata(p, component),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: childName(p.metadata.name, component) },
      minReplicas: shape.minReplicas,
      maxReplicas: shape.maxReplicas,
      metrics: shape.metrics,
      behavior: shape.behavior,
    },
  };
}

/** The spec's HPA behavior with scale-up switched off when the plan says so (scale-down untouched). */
type WithScaleUp = { scaleUp?: { selectPolicy?: 'Max' | 'Min' | 'Disabled' } | undefined };

export function planBehavior<B extends WithScaleUp>(behavior: B, plan: Pick<WorkerScalingPlan, 'scaleUpDisabled'>): B {
  if (!plan.scaleUpDisabled) return behavior;
  return { ...behavior, scaleUp: { ...(behavior.scaleUp ?? {}), selectPolicy: 'Disabled' } };
}
