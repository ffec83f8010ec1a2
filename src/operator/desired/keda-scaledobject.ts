// KEDA path of worker autoscaling (spec.worker.scaling.provider: keda): a keda.sh/v1alpha1
// ScaledObject with a Prometheus trigger on the operator's ocr_queue_backlog gauge, carrying
// the same target (messagesPerReplica), activation and behavior as the operator's own HPA.
// KEDA then creates and owns the HPA (keda-hpa-<name>) and serves the metric, so the
// operator builds no worker HPA. Only one external.metrics.k8s.io provider can exist in a
// cluster; this is the path for clusters that run KEDA.
//
// Why a Prometheus trigger and not KEDA's azure-servicebus scaler: that scaler counts
// active messages only (in-flight work drops out, keda#1663 was fixed for SQS only), reads
// the namespace once per ScaledObject (keda#5227), and needs Manage rights in KEDA's own
// identity. Our gauge is read once per namespace by the operator and counts in-flight work.
import type { KubernetesObject } from '@kubernetes/client-node';
import { QUEUE_BACKLOG_METRIC } from '../../contract/metrics.ts';
import { childMetadata, childName, isAutoscaled } from './common.ts';
import { planBehavior } from './hpa.ts';
import type { DesiredInput, WorkerScalingPlan } from './input.ts';

export const KEDA_API_VERSION = 'keda.sh/v1alpha1';
export const SCALED_OBJECT_KIND = 'ScaledObject';

export interface KedaOptions {
  /** Prometheus that scrapes the operator (operator flag --prometheus-url). */
  prometheusUrl: string;
  /** This reconcile's scaling decision (floor, scale-up gate); default: the spec as is. */
  plan?: WorkerScalingPlan;
  /** KEDA's activation check interval, seconds (KEDA default 30). */
  pollingIntervalSeconds?: number;
  /** Seconds without activity before scaling to zero (KEDA default 300; only with min 0). */
  cooldownSeconds?: number;
}

export interface ScaledObject extends KubernetesObject {
  spec: Record<string, unknown>;
}

/** The PromQL KEDA runs: the pipeline's backlog, max over operator replicas (a standby exports it too). */
export function backlogQuery(namespace: string, pipeline: string): string {
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return `max(${QUEUE_BACKLOG_METRIC}{namespace="${esc(namespace)}",pipeline="${esc(pipeline)}"})`;
}

/** The name of the HPA KEDA creates for the worker ScaledObject (KEDA's default naming). */
export const kedaHpaName = (pipeline: string): string => `keda-hpa-${childName(pipeline, 'worker')}`;

export function kedaScaledObject({ pipeline: p }: DesiredInput, options: KedaOptions): ScaledObject | undefined {
  const { replicas, scaling } = p.spec.worker;
  if (!isAutoscaled(replicas) || scaling.provider !== 'keda') return undefined;
  const plan = options.plan ?? { minReplicas: replicas.min, scaleUpDisabled: false };
  const floor = Math.max(plan.minReplicas, 1);
  return {
    apiVersion: KEDA_API_VERSION,
    kind: SCALED_OBJECT_KIND,
    metadata: childMetadata(p, 'worker'),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: childName(p.metadata.name, 'worker') },
      pollingInterval: options.pollingIntervalSeconds ?? 30,
      cooldownPeriod: options.cooldownSeconds ?? 300,
      // 0 is allowed: KEDA itself does 0 <-> 1 (activation), the HPA does 1 <-> N.
      minReplicaCount: plan.minReplicas,
      maxReplicaCount: replicas.max,
      // When Prometheus fails 3 times in a row, hold at least the safe floor and never
      // scale a busy fleet down: currentReplicasIfHigher keeps the current count when it
      // is above the fallback.
      fallback: { failureThreshold: 3, replicas: floor, behavior: 'currentReplicasIfHigher' },
      advanced: {
        horizontalPodAutoscalerConfig: { behavior: planBehavior(scaling.behavior, plan) },
      },
      triggers: [
        {
          type: 'prometheus',
          name: QUEUE_BACKLOG_METRIC,
          metricType: 'AverageValue',
          metadata: {
            serverAddress: options.prometheusUrl,
            query: backlogQuery(p.metadata.namespace, p.metadata.name),
            threshold: String(scaling.messagesPerReplica),
            activationThreshold: String(scaling.activationMessages),
            // An empty result (the operator stopped exporting a stale reading) is an error,
            // so the fallback holds the fleet instead of reading it as 0 and scaling in.
            ignoreNullValues: 'false',
          },
        },
      ],
    },
  };
}
