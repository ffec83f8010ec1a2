// Condition types and reasons of queue-driven scaling: stable CamelCase constants that
// users and alerts can match on. Every False reason comes with a message that says what
// to do (see preflight.ts and conditions.ts).

export const SCALING_CONDITION = {
  queueReachable: 'QueueReachable',
  metricsAvailable: 'MetricsAvailable',
} as const;
export type ScalingConditionType = (typeof SCALING_CONDITION)[keyof typeof SCALING_CONDITION];

export const QUEUE_REASON = {
  /** True: the counters were read and the queue accepts receivers. */
  countsRead: 'CountsRead',
  /** Unknown: the poller has not finished its first read yet. */
  notYetRead: 'NotYetRead',
  secretNotFound: 'SecretNotFound',
  secretKeyNotFound: 'SecretKeyNotFound',
  invalidConnectionString: 'InvalidConnectionString',
  queueNotFound: 'QueueNotFound',
  queueReceiveDisabled: 'QueueReceiveDisabled',
  queueDisabled: 'QueueDisabled',
  /** The SAS policy lacks the Manage right that reading runtime counters needs. */
  insufficientRights: 'InsufficientRights',
  /** Workload identity could not get a token, or the token was refused. */
  authenticationFailed: 'AuthenticationFailed',
  namespaceUnreachable: 'NamespaceUnreachable',
  throttled: 'Throttled',
  readFailed: 'ReadFailed',
} as const;
export type QueueReason = (typeof QUEUE_REASON)[keyof typeof QUEUE_REASON];

export const METRICS_REASON = {
  /** True: the HPA reads the external metric. */
  metricServed: 'ExternalMetricServed',
  /** False: the HPA could not get ocr_queue_backlog from external.metrics.k8s.io. */
  metricUnavailable: 'ExternalMetricUnavailable',
  /** Unknown: no HPA has reported yet (just created), or replicas are fixed. */
  notReported: 'NotReported',
  /** KEDA owns scaling; its ScaledObject reports the metric source. */
  delegatedToKeda: 'DelegatedToKeda',
  /** provider keda, but the operator has no --prometheus-url for the ScaledObject's trigger. */
  prometheusUrlMissing: 'PrometheusURLMissing',
  scalingFixed: 'ScalingFixed',
} as const;
export type MetricsReason = (typeof METRICS_REASON)[keyof typeof METRICS_REASON];

export const DEGRADED_SCALING_REASON = {
  deadLetterGrowth: 'DeadLetterGrowth',
  workerFailures: 'WorkerFailures',
} as const;

/** What capped status.scaling.desiredWorkers. */
export const LIMITED_BY = {
  none: 'none',
  maxReplicas: 'maxReplicas',
  minReplicas: 'minReplicas',
  scaleUpDisabled: 'scaleUpDisabled',
  metricUnavailable: 'metricUnavailable',
} as const;
export type LimitedBy = (typeof LIMITED_BY)[keyof typeof LIMITED_BY];
