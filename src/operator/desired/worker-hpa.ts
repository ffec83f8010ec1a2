// Queue-driven HorizontalPodAutoscaler for the workers: an External metric
// (ocr_queue_backlog{pipeline=<name>}, served by prometheus-adapter from the operator's
// gauges) with AverageValue = messagesPerReplica. Absent when replicas are fixed, and when
// KEDA is the provider: then a ScaledObject (built elsewhere) creates and owns the HPA.
import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { QUEUE_BACKLOG_METRIC } from '../../contract/metrics.ts';
import { isAutoscaled } from './common.ts';
import { hpaFor, planBehavior } from './hpa.ts';
import type { DesiredInput } from './input.ts';

export function workerHpa({ pipeline: p, scaling: decision }: DesiredInput): V2HorizontalPodAutoscaler | undefined {
  const { replicas, scaling } = p.spec.worker;
  if (!isAutoscaled(replicas) || scaling.provider !== 'prometheus-adapter') return undefined;
  return hpaFor(p, 'worker', {
    // minReplicas 0 needs the HPAScaleToZero feature gate (beta, on from Kubernetes 1.37).
    // The scaling plan raises it to 1 while the metric is unavailable and the queue was
    // last seen with work, so a full queue never sits with zero workers.
    minReplicas: decision?.plan.minReplicas ?? replicas.min,
    maxReplicas: replicas.max,
    metrics: [
      {
        type: 'External',
        external: {
          metric: { name: QUEUE_BACKLOG_METRIC, selector: { matchLabels: { pipeline: p.metadata.name } } },
          target: { type: 'AverageValue', averageValue: String(scaling.messagesPerReplica) },
        },
      },
    ],
    // Degraded (dead letters growing, jobs failing) or a queue that refuses receivers:
    // scale-up is switched off, scale-down keeps working.
    behavior: decision ? planBehavior(scaling.behavior, decision.plan) : scaling.behavior,
  });
}
