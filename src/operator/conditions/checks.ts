// Conditions from chains of small pure checks (the cert-manager policy-chain shape): each
// check looks at the gathered facts and either names a problem (reason + message) or
// passes; the first problem decides the condition. No I/O, no clock.
import { CONDITION, REASON, type ConditionType, type Reason } from './reasons.ts';

export interface DeploymentFacts {
  /** metadata.generation of the Deployment. */
  generation: number;
  /** status.observedGeneration: the Deployment controller has seen the latest spec. */
  observedGeneration: number;
  /** spec.replicas (what the HPA or the operator asked for). */
  desired: number;
  updated: number;
  ready: number;
  available: number;
  /** Message of the Deployment's ReplicaFailure condition (pods cannot be created), if any. */
  replicaFailure?: string;
}

export interface MissingSecret {
  name: string;
  key: string;
  /** Which spec field refers to it, e.g. spec.queue.serviceBus.connectionStringSecretRef. */
  field: string;
  /** Whether the Secret exists but lacks the key. */
  secretExists: boolean;
}

export interface ConditionFacts {
  namespace: string;
  /** The spec failed validation in the operator (the CRD schema should have stopped it). */
  invalidSpec?: string;
  missingSecrets: MissingSecret[];
  /** Error from the last apply of the children, if it failed. */
  applyError?: string;
  api?: DeploymentFacts;
  worker?: DeploymentFacts;
}

export interface ConditionVerdict {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: Reason;
  message: string;
}

type Finding = { reason: Reason; message: string } | undefined;
type Check = (f: ConditionFacts) => Finding;

/** Runs checks in order; the first finding wins. */
export function firstFinding(checks: Check[], facts: ConditionFacts): Finding {
  for (const check of checks) {
    const finding = check(facts);
    if (finding) return finding;
  }
  return undefined;
}

// --- Degraded: something only the operator can see is wrong -----------------------------

export const specIsValid: Check = (f) =>
  f.invalidSpec === undefined ? undefined : { reason: REASON.invalidSpec, message: `The spec is invalid: ${f.invalidSpec}. Fix the OcrPipeline.` };

export const secretsExist: Check = (f) => {
  const missing = f.missingSecrets.find((m) => !m.secretExists);
  if (!missing) return undefined;
  return {
    reason: REASON.secretNotFound,
    message: `Secret ${f.namespace}/${missing.name} (key "${missing.key}", referenced by ${missing.field}) does not exist; create it, the pipeline resumes on its own. Children are not updated until then.`,
  };
};

export const secretKeysExist: Check = (f) => {
  const missing = f.missingSecrets.find((m) => m.secretExists);
  if (!missing) return undefined;
  return {
    reason: REASON.secretKeyNotFound,
    message: `Secret ${f.namespace}/${missing.name} has no key "${missing.key}" (referenced by ${missing.field}); add the key or fix the reference. Children are not updated until then.`,
  };
};

export const childrenApplied: Check = (f) =>
  f.applyError === undefined ? undefined : { reason: REASON.applyFailed, message: `Applying children failed: ${f.applyError}` };

/** Pods the API server refuses to create (missing ServiceAccount, quota, admission). */
export const podsCanBeCreated: Check = (f) => {
  for (const [name, d] of [['API', f.api], ['worker', f.worker]] as const) {
    if (d?.replicaFailure) return { reason: REASON.podCreationFailed, message: `The ${name} pods cannot be created: ${d.replicaFailure}` };
  }
  return undefined;
};

export const DEGRADED_CHAIN: Check[] = [
  specIsValid, // the spec must parse
  secretsExist, // every referenced Secret exists
  secretKeysExist, // and holds the referenced key
  childrenApplied, // the last server-side apply went through
  podsCanBeCreated, // and the Deployments can create their pods
];

export function degraded(f: ConditionFacts): ConditionVerdict {
  const finding = firstFinding(DEGRADED_CHAIN, f);
  return finding
    ? { type: CONDITION.degraded, status: 'True', ...finding }
    : { type: CONDITION.degraded, status: 'False', reason: REASON.asExpected, message: 'All referenced Secrets exist and the children are applied.' };
}

// --- Progressing: a rollout is under way -----------------------------------------------

function rolloutFinding(name: string, d: DeploymentFacts | undefined): Finding {
  if (!d) return { reason: REASON.creating, message: `The ${name} Deployment is being created.` };
  if (d.observedGeneration < d.generation) return { reason: REASON.rollingOut, message: `The ${name} Deployment has a new spec the Deployment controller has not observed yet.` };
  if (d.updated < d.desired) return { reason: REASON.rollingOut, message: `The ${name} Deployment is rolling out: ${d.updated}/${d.desired} pods updated.` };
  if (d.ready < d.desired) return { reason: REASON.rollingOut, message: `The ${name} Deployment is scaling: ${d.ready}/${d.desired} pods ready.` };
  return undefined;
}

export const apiRolledOut: Check = (f) => rolloutFinding('API', f.api);
export const workersRolledOut: Check = (f) => rolloutFinding('worker', f.worker);

export function progressing(f: ConditionFacts): ConditionVerdict {
  // While blocked on a bad spec or a missing Secret nothing moves; say so instead of
  // reporting a rollout that cannot happen.
  const blocker = firstFinding([specIsValid, secretsExist, secretKeysExist], f);
  if (blocker) return { type: CONDITION.progressing, status: 'False', reason: REASON.blocked, message: 'Waiting for the Degraded condition to clear.' };
  const finding = firstFinding([apiRolledOut, workersRolledOut], f);
  return finding
    ? { type: CONDITION.progressing, status: 'True', ...finding }
    : { type: CONDITION.progressing, status: 'False', reason: REASON.rolloutComplete, message: 'The API and worker Deployments are rolled out.' };
}

// --- Ready: the pipeline can take and process jobs ---------------------------------------

export const notDegraded: Check = (f) => {
  const finding = firstFinding(DEGRADED_CHAIN, f);
  return finding ? { reason: REASON.degraded, message: `Degraded: ${finding.message}` } : undefined;
};

export const deploymentsExist: Check = (f) =>
  f.api && f.worker ? undefined : { reason: REASON.notCreated, message: 'The API and worker Deployments do not exist yet.' };

export const apiAvailable: Check = (f) =>
  f.api && f.api.available > 0 ? undefined : { reason: REASON.apiUnavailable, message: 'No API pod is available yet.' };

/** Workers scaled to zero on an empty queue are fine; wanted but none available is not. */
export const workersAvailable: Check = (f) =>
  !f.worker || f.worker.desired === 0 || f.worker.available > 0 ? undefined : { reason: REASON.workersUnavailable, message: `No worker pod is available (${f.worker.desired} wanted).` };

export const READY_CHAIN: Check[] = [notDegraded, deploymentsExist, apiAvailable, workersAvailable];

export function ready(f: ConditionFacts): ConditionVerdict {
  const finding = firstFinding(READY_CHAIN, f);
  return finding
    ? { type: CONDITION.ready, status: 'False', ...finding }
    : { type: CONDITION.ready, status: 'True', reason: REASON.available, message: 'The API and workers are available.' };
}

export function evaluateConditions(f: ConditionFacts): ConditionVerdict[] {
  return [ready(f), progressing(f), degraded(f)];
}
