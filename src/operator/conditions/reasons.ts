// Condition types and reasons: stable CamelCase constants users and alerts can match on.
// One list for every condition the operator writes, queue scaling's included; every False
// (or Degraded=True) reason comes with a message that says what to do (checks.ts, and
// src/operator/scaling/preflight.ts for the queue findings).

export const CONDITION = {
  ready: 'Ready',
  progressing: 'Progressing',
  degraded: 'Degraded',
  queueReachable: 'QueueReachable',
  metricsAvailable: 'MetricsAvailable',
  queueConfigured: 'QueueConfigured',
} as const;
export type ConditionType = (typeof CONDITION)[keyof typeof CONDITION];

export const REASON = {
  // Degraded
  asExpected: 'AsExpected',
  invalidSpec: 'InvalidSpec',
  secretNotFound: 'SecretNotFound',
  secretKeyNotFound: 'SecretKeyNotFound',
  applyFailed: 'ApplyFailed',
  podCreationFailed: 'PodCreationFailed',
  /** spec.languages asks for a language the pipeline's image does not carry (image-languages.ts): its pods are left as they are. */
  languageNotInImage: 'LanguageNotInImage',
  /** A container of a pipeline pod is in CrashLoopBackOff, or exited non-zero and is being restarted. */
  podCrashLooping: 'PodCrashLooping',
  /** The scheduler cannot place a pipeline pod (PodScheduled=False, Unschedulable). */
  podUnschedulable: 'PodUnschedulable',
  /** A container of a pipeline pod cannot pull its image (ErrImagePull, ImagePullBackOff, InvalidImageName). */
  imagePullFailing: 'ImagePullFailing',
  /** A Deployment's rollout passed spec.progressDeadlineSeconds (its Progressing condition says ProgressDeadlineExceeded). */
  progressDeadlineExceeded: 'ProgressDeadlineExceeded',
  /** Many messages were dead-lettered recently: scale-up is paused. */
  deadLetterGrowth: 'DeadLetterGrowth',
  /** Most recent jobs failed (Prometheus): scale-up is paused. */
  workerFailures: 'WorkerFailures',
  // Progressing
  rolloutComplete: 'RolloutComplete',
  creating: 'Creating',
  rollingOut: 'RollingOut',
  blocked: 'Blocked',
  // Ready
  available: 'Available',
  degraded: 'Degraded',
  apiUnavailable: 'APIUnavailable',
  workersUnavailable: 'WorkersUnavailable',
  notCreated: 'NotCreated',
  // QueueReachable (SecretNotFound and SecretKeyNotFound above apply here too)
  /** True: the counters were read and the queue accepts receivers. */
  countsRead: 'CountsRead',
  /** Unknown: the poller has not finished its first read yet. */
  notYetRead: 'NotYetRead',
  invalidConnectionString: 'InvalidConnectionString',
  /** The namespace (or the connection string's Endpoint) is outside the allowed suffixes: nothing is sent to it. */
  namespaceNotAllowed: 'NamespaceNotAllowed',
  /** A UseDevelopmentEmulator=true connection string without --allow-development-emulator: nothing is sent. */
  emulatorNotAllowed: 'EmulatorNotAllowed',
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
  // MetricsAvailable
  /** True: the HPA reads the external metric. */
  externalMetricServed: 'ExternalMetricServed',
  /** False: the HPA could not get ocr_queue_backlog from external.metrics.k8s.io. */
  externalMetricUnavailable: 'ExternalMetricUnavailable',
  /** Unknown: no HPA has reported yet (just created). */
  notReported: 'NotReported',
  /** KEDA owns scaling; its ScaledObject reports the metric source. */
  delegatedToKeda: 'DelegatedToKeda',
  /** provider keda, but the operator has no --prometheus-url for the ScaledObject's trigger. */
  prometheusUrlMissing: 'PrometheusURLMissing',
  /** True: replicas are fixed (min == max), no metric is needed. */
  scalingFixed: 'ScalingFixed',
  // QueueConfigured (NotYetRead above applies here too)
  /** True: the queue's MaxDeliveryCount and LockDuration are the spec's (they matched, or the operator updated the queue). */
  queueSettingsMatch: 'QueueSettingsMatch',
  /** False: they differ and the operator could not update the queue (no Manage right, or the update failed). */
  queueSettingsDiffer: 'QueueSettingsDiffer',
  /** Unknown: the queue's properties could not be read (QueueReachable says more). */
  queueSettingsUnread: 'QueueSettingsUnread',
} as const;
export type Reason = (typeof REASON)[keyof typeof REASON];
