// Conditions from chains of small pure checks (the cert-manager policy-chain shape): each
// check looks at the gathered facts and either names a problem (reason + message) or
// passes; the first problem decides the condition. No I/O, no clock. Queue scaling's
// conditions (QueueReachable, MetricsAvailable, its Degraded reasons) are checks here too,
// over the ScalingFacts that src/operator/scaling/ observes.
import { CONDITION, REASON, type ConditionType, type Reason } from './reasons.ts';
import type { ImageLanguageFacts } from './image-languages.ts';

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
  /** status.replicas: pods of every ReplicaSet, old ones still terminating included. Absent: not known (counts as updated). */
  total?: number;
  /** Message of the Progressing condition with reason ProgressDeadlineExceeded, at the observed generation, if any. */
  progressDeadlineExceeded?: string;
}

export interface MissingSecret {
  name: string;
  key: string;
  /** Which spec field refers to it, e.g. spec.queue.serviceBus.connectionStringSecretRef. */
  field: string;
  /** Whether the Secret exists but lacks the key. */
  secretExists: boolean;
}

/** What the worker HPA's status says (absent until the HPA exists and has synced). */
export interface HpaFacts {
  /** The HPA controller has evaluated its metric at least once (a ScalingActive condition exists). */
  reported?: boolean;
  currentReplicas?: number;
  desiredReplicas?: number;
  /** ScalingActive=False with FailedGetExternalMetric (or similar): the HPA cannot read ocr_queue_backlog. */
  metricFailing: boolean;
  /** The HPA condition's message, shown to the user when the metric fails. */
  metricMessage?: string;
}

export interface DegradedThresholds {
  /** Dead letters added within the poller's history window that mark the pipeline degraded. Default 20. */
  deadLetterGrowth: number;
  /** Share of failed jobs (0-1) over the window that marks it degraded. Default 0.5. */
  failureRatio: number;
  /** Jobs needed in the window before the failure ratio counts. Default 20. */
  minJobs: number;
}

export const DEFAULT_DEGRADED_THRESHOLDS: DegradedThresholds = { deadLetterGrowth: 20, failureRatio: 0.5, minJobs: 20 };

/** Why a queue cannot be scaled on right now (from the poller, or from the Secret pass). */
export interface QueueProblem {
  reason: Reason;
  message: string;
}

/** What queue-driven scaling observed for one pipeline this reconcile (src/operator/scaling/service.ts). */
export interface ScalingFacts {
  queueName: string;
  /** The poller's reading; undefined when the pipeline was never registered. */
  queue: { pending: boolean; problem?: QueueProblem } | undefined;
  /** Dead letters added over the poller's history window (0 without a history). */
  deadLetterGrowth: number;
  /** Failed and all jobs over Prometheus' window; undefined without Prometheus or without jobs. */
  jobs: { failed: number; total: number } | undefined;
  thresholds: DegradedThresholds;
  replicas: { min: number; max: number };
  provider: 'prometheus-adapter' | 'keda';
  hpa: HpaFacts | undefined;
  /** The operator's --prometheus-url; the KEDA trigger needs it. */
  prometheusUrl: string | undefined;
  /** The queue's MaxDeliveryCount and LockDuration against the spec (scaling/queue-settings.ts); absent until first checked. */
  queueSettings?: QueueSettingsFacts;
}

/** Queue settings as in spec.queue.serviceBus. */
export interface QueueSettingValues {
  maxDeliveryCount: number;
  lockDurationSeconds: number;
}

/** What the operator found when it read (and, with Manage, updated) the queue's settings. */
export interface QueueSettingsFacts {
  desired: QueueSettingValues;
  /** The queue's values now; absent when they could not be read. */
  actual?: QueueSettingValues;
  /** The operator updated the queue this round, from these values. */
  applied?: { before: QueueSettingValues };
  /** Why the update was refused or failed. */
  applyError?: string;
  /** Why the properties could not be read. */
  readError?: string;
}

/** The last exit of a container (state.terminated, else lastState.terminated). */
export interface ContainerExit {
  exitCode: number;
  /** e.g. Error, OOMKilled. */
  reason?: string;
  /** The termination message: /dev/termination-log, or the log's tail (terminationMessagePolicy FallbackToLogsOnError). */
  message?: string;
}

/** What one container of a pipeline pod shows (gather.ts podFacts). */
export interface ContainerFacts {
  name: string;
  restartCount: number;
  /** state.waiting: CrashLoopBackOff, ImagePullBackOff, ContainerCreating, ... */
  waiting?: { reason: string; message?: string };
  /** state.terminated: the container has exited and not been restarted yet. */
  terminated?: ContainerExit;
  /** lastState.terminated: the exit before the current state. */
  lastTerminated?: ContainerExit;
}

/** One pod of a pipeline: its scheduling and its containers. Pods being deleted, Succeeded or Failed are left out. */
export interface PodFacts {
  name: string;
  /** The scheduler's message when PodScheduled is False with reason Unschedulable. */
  unschedulable?: string;
  containers: ContainerFacts[];
}

export interface ConditionFacts {
  namespace: string;
  /** The spec failed validation in the operator (the CRD schema should have stopped it). */
  invalidSpec?: string;
  missingSecrets: MissingSecret[];
  /** spec.languages against the image's languages (image-languages.ts); absent without a parsed spec. */
  imageLanguages?: ImageLanguageFacts;
  /** Error from the last apply of the children, if it failed. */
  applyError?: string;
  api?: DeploymentFacts;
  worker?: DeploymentFacts;
  /** Queue scaling's observation; absent when the operator runs without it. */
  scaling?: ScalingFacts;
  /** The pipeline's pods per component (the pod watch); absent: no pod problems are reported. */
  pods?: { api: PodFacts[]; worker: PodFacts[] };
}

export interface ConditionVerdict {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: Reason;
  message: string;
}

type Finding = { reason: Reason; message: string } | undefined;
type Check<F = ConditionFacts> = (f: F) => Finding;

/** Runs checks in order; the first finding wins. */
export function firstFinding<F>(checks: Check<F>[], facts: F): Finding {
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

/** A worker without its language's data cannot start: the children are left as they are instead of rolling out crash-looping pods. */
export const languagesInImage: Check = (f) => {
  const facts = f.imageLanguages;
  if (!facts || facts.missing.length === 0) return undefined;
  const missing = facts.missing.join(', ');
  return {
    reason: REASON.languageNotInImage,
    message:
      `spec.languages asks for ${missing}, which the image does not carry (${facts.declaredBy} declares ${facts.carried.join(', ')}). ` +
      `Remove ${facts.missing.length > 1 ? 'them' : 'it'}, or use an image that carries ${facts.missing.length > 1 ? 'them' : 'it'} and list its ` +
      'languages in spec.ocr.imageLanguages. Children are not updated until then.',
  };
};

export const childrenApplied: Check = (f) =>
  f.applyError === undefined ? undefined : { reason: REASON.applyFailed, message: `Applying children failed: ${f.applyError}` };

/** Pods the API server refuses to create (missing ServiceAccount, quota, admission). */
export const podsCanBeCreated: Check = (f) => {
  for (const [name, d] of [
    ['API', f.api],
    ['worker', f.worker],
  ] as const) {
    if (d?.replicaFailure) return { reason: REASON.podCreationFailed, message: `The ${name} pods cannot be created: ${d.replicaFailure}` };
  }
  return undefined;
};

export const DEGRADED_CHAIN: Check[] = [
  specIsValid, // the spec must parse
  secretsExist, // every referenced Secret exists
  secretKeysExist, // and holds the referenced key
  languagesInImage, // the image carries every language the pipeline asks for
  childrenApplied, // the last server-side apply went through
  podsCanBeCreated, // and the Deployments can create their pods
];

// Pods' part of Degraded: why a pod of the pipeline does not run, from its status.

/** Longest termination message shown in a condition, in characters; longer ones keep their end (the error, in a log tail). */
export const TERMINATION_MESSAGE_MAX = 300;

/** Waiting reasons of a container whose image cannot be pulled. */
const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

/**
 * A termination message made short and readable: a log tail whose last line is a JSON log
 * record (pino) becomes its msg (and err.message); anything longer than the limit keeps its end.
 */
export function readableTerminationMessage(message: string, max = TERMINATION_MESSAGE_MAX): string {
  let text = message.trim();
  const last = text.split('\n').at(-1) ?? '';
  if (last.startsWith('{')) {
    try {
      const record = JSON.parse(last) as { msg?: unknown; err?: { message?: unknown } };
      if (typeof record.msg === 'string') text = typeof record.err?.message === 'string' ? `${record.msg}: ${record.err.message}` : record.msg;
    } catch {
      // not a JSON log line: shown as it is
    }
  }
  text = text.replace(/\s+/g, ' ');
  return text.length > max ? `…${text.slice(text.length - max + 1)}` : text;
}

function describeExit(e: ContainerExit | undefined): string {
  if (!e) return 'no exit recorded yet';
  const reason = e.reason ? ` (${e.reason})` : '';
  const message = e.message?.trim() ? `: ${readableTerminationMessage(e.message)}` : ' and no termination message';
  return `last exit code ${e.exitCode}${reason}${message}`;
}

/** A container restarted after failing: waiting in CrashLoopBackOff, or exited non-zero after at least one restart. */
function crashLooping(c: ContainerFacts): boolean {
  if (c.waiting?.reason === 'CrashLoopBackOff') return true;
  return c.terminated !== undefined && c.terminated.exitCode !== 0 && c.restartCount > 0;
}

const COMPONENT_NAMES = [
  ['api', 'API'],
  ['worker', 'worker'],
] as const;

/** The first pod problem of the API pods, then of the worker pods, decided by `find`. */
function podFinding(f: ConditionFacts, find: (component: string, pod: PodFacts) => Finding): Finding {
  for (const [key, name] of COMPONENT_NAMES) {
    for (const pod of f.pods?.[key] ?? []) {
      const finding = find(name, pod);
      if (finding) return finding;
    }
  }
  return undefined;
}

export const podsPullImages: Check = (f) =>
  podFinding(f, (name, pod) => {
    const c = pod.containers.find((x) => x.waiting && IMAGE_PULL_REASONS.has(x.waiting.reason));
    if (!c?.waiting) return undefined;
    const detail = c.waiting.message ? `: ${readableTerminationMessage(c.waiting.message)}` : '';
    return {
      reason: REASON.imagePullFailing,
      message:
        `The ${name} pod ${pod.name} cannot pull the image of container ${c.name} (${c.waiting.reason})${detail}. ` +
        'Check spec.image and spec.imagePullSecrets.',
    };
  });

export const podsNotCrashLooping: Check = (f) =>
  podFinding(f, (name, pod) => {
    const c = pod.containers.find(crashLooping);
    if (!c) return undefined;
    return {
      reason: REASON.podCrashLooping,
      // No restart count in the message: it would rewrite status and repeat the Event on every restart.
      message: `The ${name} pod ${pod.name} is crash-looping: container ${c.name} keeps exiting, ${describeExit(c.terminated ?? c.lastTerminated)}.`,
    };
  });

export const podsScheduled: Check = (f) =>
  podFinding(f, (name, pod) =>
    pod.unschedulable === undefined
      ? undefined
      : { reason: REASON.podUnschedulable, message: `The ${name} pod ${pod.name} cannot be scheduled: ${pod.unschedulable}` },
  );

/**
 * A rollout the Deployment controller gave up on (Progressing=False, ProgressDeadlineExceeded,
 * after spec.progressDeadlineSeconds, default 600 s). After the pod checks: they say why.
 */
export const rolloutsWithinDeadline: Check = (f) => {
  for (const [name, d] of [
    ['API', f.api],
    ['worker', f.worker],
  ] as const) {
    if (d?.progressDeadlineExceeded !== undefined)
      return { reason: REASON.progressDeadlineExceeded, message: `The ${name} Deployment's rollout stopped progressing: ${d.progressDeadlineExceeded}` };
  }
  return undefined;
};

/**
 * Pods that exist but do not run, and rollouts past their deadline. After the core chain: a
 * missing Secret or a failed apply explains more. They do not make Ready False by themselves
 * (other replicas may serve), and they stop Progressing: a rollout does not finish while they last.
 */
export const POD_DEGRADED_CHAIN: Check[] = [podsPullImages, podsNotCrashLooping, podsScheduled, rolloutsWithinDeadline];

/** The checks of single pods, for the hint in Ready's message. */
const POD_CHECKS: Check[] = [podsPullImages, podsNotCrashLooping, podsScheduled];

// Queue scaling's part of Degraded: a poisoned consumer must not get more replicas.

export const deadLettersSteady: Check<ScalingFacts> = (s) => {
  const growth = s.deadLetterGrowth;
  const limit = s.thresholds.deadLetterGrowth;
  if (growth < limit) return undefined;
  return {
    reason: REASON.deadLetterGrowth,
    message: `${growth} messages were dead-lettered recently (threshold ${limit}): workers are failing jobs, so scale-up is paused. Inspect the dead-letter queue (DeadLetterReason), fix the cause, then resubmit.`,
  };
};

export const jobsMostlySucceed: Check<ScalingFacts> = (s) => {
  const { jobs, thresholds: t } = s;
  if (!jobs || jobs.total < t.minJobs || jobs.failed / jobs.total < t.failureRatio) return undefined;
  const pct = Math.round((100 * jobs.failed) / jobs.total);
  return {
    reason: REASON.workerFailures,
    message: `${jobs.failed} of the last ${jobs.total} jobs failed (${pct}%, threshold ${Math.round(t.failureRatio * 100)}%): scale-up is paused because more replicas of a failing worker only burn money. Check the worker logs.`,
  };
};

export const SCALING_DEGRADED_CHAIN: Check<ScalingFacts>[] = [deadLettersSteady, jobsMostlySucceed];

/** Why scale-up is paused (DeadLetterGrowth, WorkerFailures), or undefined; the scaling plan asks this too. */
export function scaleUpPausedBy(s: ScalingFacts): Finding {
  return firstFinding(SCALING_DEGRADED_CHAIN, s);
}

/**
 * The core chain decides first; queue scaling's findings only turn a Degraded=False into
 * True, never replace a core problem. They do not make the pipeline un-Ready (notDegraded
 * runs the core chain only): the workers still process jobs, they just do not grow.
 */
export function degraded(f: ConditionFacts): ConditionVerdict {
  const finding = firstFinding([...DEGRADED_CHAIN, ...POD_DEGRADED_CHAIN], f) ?? (f.scaling ? scaleUpPausedBy(f.scaling) : undefined);
  return finding
    ? { type: CONDITION.degraded, status: 'True', ...finding }
    : { type: CONDITION.degraded, status: 'False', reason: REASON.asExpected, message: 'All referenced Secrets exist and the children are applied.' };
}

// --- Progressing: a rollout is under way -----------------------------------------------

function rolloutFinding(name: string, d: DeploymentFacts | undefined): Finding {
  if (!d) return { reason: REASON.creating, message: `The ${name} Deployment is being created.` };
  if (d.observedGeneration < d.generation)
    return { reason: REASON.rollingOut, message: `The ${name} Deployment has a new spec the Deployment controller has not observed yet.` };
  if (d.updated < d.desired) return { reason: REASON.rollingOut, message: `The ${name} Deployment is rolling out: ${d.updated}/${d.desired} pods updated.` };
  if (d.ready < d.desired) return { reason: REASON.rollingOut, message: `The ${name} Deployment is scaling: ${d.ready}/${d.desired} pods ready.` };
  if (d.total !== undefined && d.total > d.updated)
    return { reason: REASON.rollingOut, message: `The ${name} Deployment is rolling out: ${d.total - d.updated} old pods are terminating.` };
  return undefined;
}

export const apiRolledOut: Check = (f) => rolloutFinding('API', f.api);
export const workersRolledOut: Check = (f) => rolloutFinding('worker', f.worker);

export function progressing(f: ConditionFacts): ConditionVerdict {
  // While blocked on a bad spec or a missing Secret nothing moves; say so instead of
  // reporting a rollout that cannot happen.
  const blocker = firstFinding([specIsValid, secretsExist, secretKeysExist, languagesInImage], f);
  if (blocker) return { type: CONDITION.progressing, status: 'False', reason: REASON.blocked, message: 'Waiting for the Degraded condition to clear.' };
  // A pod that crash-loops, cannot pull or cannot be scheduled does not heal by waiting: say why nothing moves.
  const stuck = firstFinding(POD_DEGRADED_CHAIN, f);
  if (stuck) return { type: CONDITION.progressing, status: 'False', ...stuck };
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

/** " Degraded says why (<reason>)." when a pod of the component has a problem, else "". */
function podProblemHint(f: ConditionFacts, component: 'api' | 'worker'): string {
  const finding = firstFinding(POD_CHECKS, { ...f, pods: { api: [], worker: [], [component]: f.pods?.[component] ?? [] } });
  return finding ? ` Degraded says why (${finding.reason}).` : '';
}

export const apiAvailable: Check = (f) =>
  f.api && f.api.available > 0 ? undefined : { reason: REASON.apiUnavailable, message: `No API pod is available yet.${podProblemHint(f, 'api')}` };

/** Workers scaled to zero on an empty queue are fine; wanted but none available is not. */
export const workersAvailable: Check = (f) =>
  !f.worker || f.worker.desired === 0 || f.worker.available > 0
    ? undefined
    : { reason: REASON.workersUnavailable, message: `No worker pod is available (${f.worker.desired} wanted).${podProblemHint(f, 'worker')}` };

export const READY_CHAIN: Check[] = [notDegraded, deploymentsExist, apiAvailable, workersAvailable];

export function ready(f: ConditionFacts): ConditionVerdict {
  const finding = firstFinding(READY_CHAIN, f);
  return finding
    ? { type: CONDITION.ready, status: 'False', ...finding }
    : { type: CONDITION.ready, status: 'True', reason: REASON.available, message: 'The API and workers are available.' };
}

// --- QueueReachable: the operator can read the queue's counters --------------------------

export function queueReachable(s: ScalingFacts): ConditionVerdict {
  const type = CONDITION.queueReachable;
  if (!s.queue || s.queue.pending)
    return { type, status: 'Unknown', reason: REASON.notYetRead, message: `Reading the counters of queue "${s.queueName}" for the first time.` };
  if (s.queue.problem) return { type, status: 'False', reason: s.queue.problem.reason, message: s.queue.problem.message };
  return { type, status: 'True', reason: REASON.countsRead, message: `Queue "${s.queueName}" counters are read; it accepts receivers.` };
}

// --- MetricsAvailable: the worker HPA (or KEDA) can read the backlog metric ---------------

export function metricsAvailable(s: ScalingFacts): ConditionVerdict {
  const type = CONDITION.metricsAvailable;
  const { hpa, provider } = s;
  if (s.replicas.min >= s.replicas.max)
    return { type, status: 'True', reason: REASON.scalingFixed, message: 'Worker replicas are fixed (replicas.min == replicas.max); no metric is needed.' };
  if (provider === 'keda' && !s.prometheusUrl) {
    return {
      type,
      status: 'False',
      reason: REASON.prometheusUrlMissing,
      message:
        "worker.scaling.provider is keda, but the operator runs without --prometheus-url (chart value prometheusUrl), which the ScaledObject's Prometheus trigger needs; no ScaledObject is created, so the workers do not scale. Set it, or use provider prometheus-adapter.",
    };
  }
  if (!hpa || hpa.reported === false) {
    return provider === 'keda'
      ? {
          type,
          status: 'Unknown',
          reason: REASON.delegatedToKeda,
          message: "KEDA owns the worker HPA (keda-hpa-<name>-worker); it has not reported yet. Check the ScaledObject's conditions.",
        }
      : { type, status: 'Unknown', reason: REASON.notReported, message: 'The worker HPA has not reported on its metric yet.' };
  }
  if (hpa.metricFailing) {
    return {
      type,
      status: 'False',
      reason: REASON.externalMetricUnavailable,
      message: `The worker HPA cannot read the external metric ocr_queue_backlog${hpa.metricMessage ? ` (${hpa.metricMessage})` : ''}. Check that Prometheus scrapes the operator and that the external metrics provider (${provider}) serves the metric; workers hold at a safe floor meanwhile.`,
    };
  }
  return { type, status: 'True', reason: REASON.externalMetricServed, message: 'The worker HPA reads ocr_queue_backlog.' };
}

// --- QueueConfigured: the queue has the spec's MaxDeliveryCount and LockDuration ----------

const settingsText = (s: QueueSettingValues): string => `maxDeliveryCount ${s.maxDeliveryCount}, lockDuration ${s.lockDurationSeconds} s`;

export function queueConfigured(s: ScalingFacts): ConditionVerdict {
  const type = CONDITION.queueConfigured;
  const q = s.queueSettings;
  if (!q) return { type, status: 'Unknown', reason: REASON.notYetRead, message: `Reading the settings of queue "${s.queueName}" for the first time.` };
  if (!q.actual)
    return {
      type,
      status: 'Unknown',
      reason: REASON.queueSettingsUnread,
      message: `Could not read the settings of queue "${s.queueName}" (${q.readError ?? 'no answer'}); QueueReachable says more.`,
    };
  const same = q.actual.maxDeliveryCount === q.desired.maxDeliveryCount && q.actual.lockDurationSeconds === q.desired.lockDurationSeconds;
  if (!same)
    return {
      type,
      status: 'False',
      reason: REASON.queueSettingsDiffer,
      message:
        `Queue "${s.queueName}" has ${settingsText(q.actual)}; spec.queue.serviceBus asks for ${settingsText(q.desired)}, and the operator ` +
        `could not change it (${q.applyError ?? 'not attempted'}). Give the operator's credential the Manage right (Azure Service Bus Data Owner), ` +
        "or change the queue or the spec to match. Workers are told the queue's maxDeliveryCount.",
    };
  const how = q.applied ? `updated from ${settingsText(q.applied.before)}` : 'as the spec asks';
  return { type, status: 'True', reason: REASON.queueSettingsMatch, message: `Queue "${s.queueName}" has ${settingsText(q.actual)} (${how}).` };
}

/** Ready, Progressing, Degraded, then QueueReachable and MetricsAvailable when queue scaling runs, and QueueConfigured once checked. */
export function evaluateConditions(f: ConditionFacts): ConditionVerdict[] {
  const core = [ready(f), progressing(f), degraded(f)];
  if (!f.scaling) return core;
  const queue = [queueReachable(f.scaling), metricsAvailable(f.scaling)];
  return f.scaling.queueSettings ? [...core, ...queue, queueConfigured(f.scaling)] : [...core, ...queue];
}
