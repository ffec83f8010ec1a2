// What every builder receives: the parsed pipeline plus facts gathered from the cluster
// that change pods without changing the spec. Plain data only: the builders never import
// the code that decides it (src/operator/scaling/); the reconcile passes the decision in.
import type { OcrPipeline } from '../../crds/ocrpipeline.ts';

/** This reconcile's queue-scaling decision for the worker HPA or ScaledObject. */
export interface WorkerScalingPlan {
  /** minReplicas for the HPA / minReplicaCount for KEDA: spec min, raised to 1 when it must not reach zero. */
  minReplicas: number;
  /** behavior.scaleUp.selectPolicy = Disabled (degraded, or the queue refuses receivers). */
  scaleUpDisabled: boolean;
}

export interface DesiredInput {
  pipeline: OcrPipeline;
  /**
   * sha256 of each referenced Secret value, keyed "name/key". Hashes, not values: the
   * builders only need to notice a change, and secrets must not travel further than needed.
   */
  secretHashes: Record<string, string>;
  /**
   * The worker floor and scale-up gate, and the Prometheus URL the KEDA trigger queries.
   * Absent: the spec's values as they are, and no ScaledObject.
   */
  scaling?: { plan: WorkerScalingPlan; prometheusUrl?: string };
  /**
   * Where API pods of a pipeline with spec.api.maxBacklog read their backlog: the operator's GET /v1/backlog.
   * Absent (no --backlog-url): maxBacklog is not passed to the API (it could not learn the backlog).
   */
  backlog?: BacklogOffer;
  /**
   * The queue's MaxDeliveryCount as the operator last read (or set) it (scaling/queue-settings.ts). Absent: not read;
   * the builders use spec.queue.serviceBus.maxDeliveryCount.
   */
  queue?: { maxDeliveryCount: number };
}

/** The operator's backlog endpoint: its URL (--backlog-url), and the namespace and pod port it runs in (for NetworkPolicies). */
export interface BacklogOffer {
  url: string;
  namespace: string;
  port: number;
}
