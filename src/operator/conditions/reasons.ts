// Condition types and reasons: stable CamelCase constants users and alerts can match on.

export const CONDITION = {
  ready: 'Ready',
  progressing: 'Progressing',
  degraded: 'Degraded',
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
} as const;
export type Reason = (typeof REASON)[keyof typeof REASON];
