// One reconcile of one pipeline: gather -> desired -> apply -> status. Level-based: it
// never asks what event woke it, only what the world looks like now.
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { API_VERSION, KIND, type OcrPipeline, type OcrPipelineStatus, type ScalingStatus } from '../../crds/ocrpipeline.ts';
import { systemClock, type Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ConditionFacts } from '../conditions/checks.ts';
import { CONDITION, REASON } from '../conditions/reasons.ts';
import { imageLanguageFacts } from '../conditions/image-languages.ts';
import { GENERATED_KEYS_DATA_KEY, readKeysCommand } from '../desired/api-keys.ts';
import { childName } from '../desired/common.ts';
import { desiredChildren, type DesiredInput } from '../desired/index.ts';
import { ocrStatus } from '../desired/ocr-engine.ts';
import type { BacklogOffer } from '../desired/input.ts';
import type { EventRecorder, EventTarget } from '../events.ts';
import type { SecretIndex } from '../secret-index.ts';
import type { ScalingObservation, ScalingService } from '../scaling/service.ts';
import { applyChildren, ensureGeneratedKeys, type ApplyResult, type KubeWriter } from './apply.ts';
import { deploymentFacts, gather, referencedSecretNames, type ClusterReader, type Gathered, type RawPipeline } from './gather.ts';
import { buildStatus, statusEqual, statusEqualIgnoringTransitions } from './status.ts';
import { AppliedRecords } from './unchanged.ts';

export interface StatusWriter {
  /** Replaces status through the status subresource (optimistic: carries resourceVersion). */
  writeStatus(raw: RawPipeline, status: OcrPipelineStatus): Promise<void>;
}

export interface ReconcilerDeps {
  reader: ClusterReader & { getPipeline(namespace: string, name: string): RawPipeline | undefined };
  writer: KubeWriter & StatusWriter;
  events: EventRecorder;
  secretIndex: SecretIndex;
  log: Logger;
  /** Default systemClock. */
  clock?: Clock;
  /** Queue-depth polling and worker scaling decisions; absent: the spec's HPA as is. */
  scaling?: ScalingService;
  /** Source of a generated API key (base64url); default 32 random bytes. Tests pass a fixed one. */
  newApiKey?: () => string;
  /** Runs the key's reconcile again after ms (the work queue's addAfter); absent: status is written at once, never deferred. */
  requeueAfter?: (key: string, ms: number) => void;
  /** Where API pods read their backlog (spec.api.maxBacklog, --backlog-url); undefined = not offered. */
  backlog?: BacklogOffer | undefined;
}

/** Least time between two status writes of one pipeline at the same generation, in ms (see Reconciler #deferStatus). */
export const STATUS_INTERVAL_MS = 2_000;

const keyOf = (raw: RawPipeline) => `${raw.metadata.namespace}/${raw.metadata.name}`;

export class ApplyFailedError extends Error {
  override name = 'ApplyFailedError';
}

const PROBLEM_REASONS = [
  REASON.secretNotFound,
  REASON.secretKeyNotFound,
  REASON.applyFailed,
  REASON.invalidSpec,
  REASON.podCreationFailed,
  REASON.languageNotInImage,
  REASON.podCrashLooping,
  REASON.podUnschedulable,
  REASON.imagePullFailing,
  REASON.progressDeadlineExceeded,
] as const;

export function describeError(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && 'body' in err) {
    const body = (err as { body: unknown }).body;
    const message = typeof body === 'string' ? safeMessage(body) : (body as { message?: string } | undefined)?.message;
    return `HTTP ${String((err as { code: unknown }).code)}: ${message ?? 'no message'}`;
  }
  return err instanceof Error ? err.message : String(err);
}

function safeMessage(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    return body;
  }
}

const describeChild = (o: KubernetesObject) => `${o.kind ?? ''} ${o.metadata?.name ?? ''}`;

/** Event reason when the operator generated a pipeline's API keys Secret. */
export const GENERATED_API_KEY_REASON = 'GeneratedAPIKey';

/** What desiredChildren builds from: the parsed pipeline, its Secrets' hashes and the scaling decision. */
function desiredInput(pipeline: OcrPipeline, secretHashes: Record<string, string>, scaling: ScalingObservation | undefined): DesiredInput {
  const scalingInput = scaling ? { scaling: { plan: scaling.plan, ...(scaling.prometheusUrl ? { prometheusUrl: scaling.prometheusUrl } : {}) } } : {};
  // The queue's real MaxDeliveryCount, for workers that cannot read it (queue-settings.ts, QueueConfigured).
  const actual = scaling?.facts.queueSettings?.actual;
  return { pipeline, secretHashes, ...scalingInput, ...(actual ? { queue: { maxDeliveryCount: actual.maxDeliveryCount } } : {}) };
}

/** The facts the condition checks read: gather's, the apply's outcome and queue scaling's. */
function conditionFacts(namespace: string, g: Gathered, applyError: string | undefined, scaling: ScalingObservation | undefined): ConditionFacts {
  return {
    namespace,
    missingSecrets: g.missingSecrets,
    ...(g.pipeline ? { imageLanguages: imageLanguageFacts(g.pipeline.spec) } : {}),
    ...(g.invalidSpec !== undefined ? { invalidSpec: g.invalidSpec } : {}),
    ...(applyError !== undefined ? { applyError } : {}),
    ...(g.api ? { api: g.api } : {}),
    ...(g.worker ? { worker: g.worker } : {}),
    ...(scaling ? { scaling: scaling.facts } : {}),
    ...(g.pods ? { pods: g.pods } : {}),
  };
}

/**
 * Replaces the cached Deployment facts with the apply's answers, which carry the generation
 * the apply just made: a cache that has not seen our change would report the old rollout as
 * complete. An answer without metadata.generation (a fake writer) leaves the cached facts.
 */
function freshDeployments(g: Gathered, applied: KubernetesObject[]): void {
  const name = g.raw.metadata.name;
  for (const component of ['api', 'worker'] as const) {
    const d: V1Deployment | undefined = applied.find((o) => o.kind === 'Deployment' && o.metadata?.name === childName(name, component));
    const generation = d?.metadata?.generation;
    const facts = deploymentFacts(d);
    if (facts && generation !== undefined && generation >= (g[component]?.generation ?? 0)) g[component] = facts;
  }
}

/** What status carries besides the conditions: status.scaling and status.api.keysSecret. */
interface StatusExtra {
  scaling: ScalingStatus | undefined;
  keysSecret: string | undefined;
  /** status.ocr: the resolved engine; undefined without a parsed spec. */
  ocr: OcrPipelineStatus['ocr'];
}

export class Reconciler {
  #d: ReconcilerDeps;
  #clock: Clock;
  /** Our last apply answer per child: lets a reconcile skip children nobody changed since (unchanged.ts). */
  #applied = new AppliedRecords();
  /** Per pipeline: when our last status write was, the resourceVersion it started from, and what it wrote. */
  #statusWritten = new Map<string, { at: number; before: string | undefined; status: OcrPipelineStatus }>();

  constructor(deps: ReconcilerDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? systemClock;
  }

  async reconcile(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const log = this.#d.log.child({ namespace, name });
    const raw = this.#d.reader.getPipeline(namespace, name);
    if (!raw || raw.metadata.deletionTimestamp) {
      this.#forget(key, raw);
      return;
    }
    const target: EventTarget = { apiVersion: API_VERSION, kind: KIND, name, namespace, uid: raw.metadata.uid };

    // Only the Secrets this pipeline references are read (by name); gather then reads them synchronously.
    await this.#d.reader.loadSecrets?.(namespace, referencedSecretNames(raw));
    const g = this.#gather(key, raw);
    const scaling = this.#trackScaling(g);
    const applyError = await this.#apply(g, scaling, target, log);
    await this.#updateStatus(
      raw,
      conditionFacts(namespace, g, applyError, scaling),
      { scaling: scaling?.status, keysSecret: g.keysSecret, ocr: g.pipeline ? ocrStatus(g.pipeline.spec) : undefined },
      target,
      log,
    );
    if (applyError !== undefined) throw new ApplyFailedError(applyError);
  }

  /** Deleted: ownerReferences let the garbage collector remove the children; we drop what we kept about it. */
  #forget(key: string, raw: RawPipeline | undefined): void {
    this.#d.secretIndex.delete(key);
    this.#d.scaling?.forget(key);
    this.#applied.forget(key);
    this.#statusWritten.delete(key);
    if (raw) this.#d.events.forgetObject(raw.metadata.uid);
  }

  /** gather, and index the Secrets it names so a change to one of them re-queues this pipeline. */
  #gather(key: string, raw: RawPipeline): Gathered {
    const g = gather(raw, this.#d.reader);
    // The generated keys Secret too: deleting or rotating it must wake the pipeline.
    this.#d.secretIndex.set(key, [...g.secretRefs.map((r) => r.name), ...(g.generatedKeys ? [g.generatedKeys.name] : [])]);
    return g;
  }

  /**
   * track: queue scaling's side effects, in this one place: (un)subscribe the pipeline's
   * queue poller and refresh Prometheus numbers in the background. observe is pure: the
   * latest queue view and the worker HPA's status -> plan, status.scaling, condition facts.
   * Undefined without a parsed spec or without queue scaling.
   */
  #trackScaling(g: Gathered): ScalingObservation | undefined {
    if (!g.pipeline) return undefined;
    this.#d.scaling?.track(g.pipeline, g.queueSecret, g.worker?.desired ?? 0);
    return this.#d.scaling?.observe(g.pipeline, g.queueSecret, g.workerHpa);
  }

  /**
   * desired + apply; returns the apply error's description, undefined when it succeeded or
   * was skipped. With a missing Secret the children are left as they are: pods that
   * reference it would fail to start (CreateContainerConfigError) and a rollout would
   * replace working pods with broken ones. The Secret watch re-queues us when it appears. A language the image
   * lacks (LanguageNotInImage) holds the children the same way: such workers would refuse to start.
   */
  async #apply(g: Gathered, scaling: ScalingObservation | undefined, target: EventTarget, log: Logger): Promise<string | undefined> {
    if (!g.pipeline || g.missingSecrets.length > 0 || imageLanguageFacts(g.pipeline.spec).missing.length > 0) return undefined;
    try {
      const keys = g.generatedKeys ? await ensureGeneratedKeys(this.#d.writer, g.pipeline, g.generatedKeys, this.#d.newApiKey) : undefined;
      if (keys?.created && g.generatedKeys) this.#announceKeys(g.generatedKeys.name, target, log);
      const secretHashes = { ...g.secretHashes, ...keys?.secretHashes };
      const desired = desiredChildren({
        ...desiredInput(g.pipeline, secretHashes, scaling),
        ...(this.#d.backlog ? { backlog: this.#d.backlog } : {}),
      });
      const { namespace, name } = g.raw.metadata;
      const result = await applyChildren(this.#d.writer, desired, g.children, g.raw.metadata.uid, { records: this.#applied, pipeline: `${namespace}/${name}` });
      for (const d of result.handedOver) log.info({ child: d.metadata?.name, replicas: (d as V1Deployment).spec?.replicas }, 'Handed over Deployment replicas');
      freshDeployments(g, result.applied);
      this.#announce(result, target, log);
      return undefined;
    } catch (err) {
      const applyError = describeError(err);
      log.error({ err }, 'Failed to apply children');
      return applyError;
    }
  }

  /** Logs and records the Event that says where the generated key is and how to read it (never the key itself). */
  #announceKeys(secret: string, target: EventTarget, log: Logger): void {
    const command = readKeysCommand(target.namespace, { name: secret, key: GENERATED_KEYS_DATA_KEY });
    log.info({ secret }, 'Generated API key Secret');
    this.#d.events.record(target, 'Normal', GENERATED_API_KEY_REASON, `Generated an API key in Secret ${secret}; read it with: ${command}`);
    // Only a create gets here, so no repeats: forget it, and a Secret deleted and generated again is announced again.
    this.#d.events.forget(target.uid, [GENERATED_API_KEY_REASON]);
  }

  /**
   * Logs every child the apply created or deleted, and records one Event for the creations and
   * one for the deletions of this reconcile (a new pipeline: one Event, not one per child).
   */
  #announce(result: ApplyResult, target: EventTarget, log: Logger): void {
    const { events } = this.#d;
    for (const c of result.created) log.info({ kind: c.kind, child: c.metadata?.name }, `Created ${c.kind ?? 'child'}`);
    for (const c of result.deleted) log.info({ kind: c.kind, child: c.metadata?.name }, `Deleted ${c.kind ?? 'child'}`);
    if (result.created.length > 0) events.record(target, 'Normal', 'Created', `Created ${result.created.map(describeChild).sort().join(', ')}`);
    if (result.deleted.length > 0) {
      events.record(target, 'Normal', 'Deleted', `Deleted ${result.deleted.map(describeChild).sort().join(', ')}, no longer desired`);
    }
  }

  /** status: build it from the facts, record (or forget) the Degraded Event, write it only when it changed. */
  async #updateStatus(raw: RawPipeline, facts: ConditionFacts, extra: StatusExtra, target: EventTarget, log: Logger): Promise<void> {
    const generation = raw.metadata.generation ?? 0;
    const status = buildStatus(raw.status, facts, generation, new Date(this.#clock()).toISOString(), extra.scaling, extra.keysSecret, extra.ocr);
    const degraded = status.conditions?.find((c) => c.type === CONDITION.degraded);
    if (degraded?.status === 'True') {
      this.#d.events.record(target, 'Warning', degraded.reason, degraded.message);
    } else {
      this.#d.events.forget(raw.metadata.uid, PROBLEM_REASONS);
    }
    if (statusEqual(raw.status, status) || this.#cacheBehindOurWrite(raw, status) || this.#deferStatus(raw, generation)) return;
    await this.#d.writer.writeStatus(raw, status);
    this.#statusWritten.set(keyOf(raw), { at: this.#clock(), before: raw.metadata.resourceVersion, status });
    log.debug({ conditions: status.conditions?.map((c) => `${c.type}=${c.status}`) }, 'Updated status');
  }

  /** The cached pipeline is still the one our last status write started from, and that write said the same: nothing to do. */
  #cacheBehindOurWrite(raw: RawPipeline, status: OcrPipelineStatus): boolean {
    const last = this.#statusWritten.get(keyOf(raw));
    return last !== undefined && last.before === raw.metadata.resourceVersion && statusEqualIgnoringTransitions(last.status, status);
  }

  /**
   * A status change within STATUS_INTERVAL_MS of the last write at the same generation waits for
   * the rest of the interval (the reconcile is requeued, and reads the world again then): a
   * new pipeline's pods, rollout and HPA report within seconds of each other, and one write
   * can carry several of them. A new generation is reported at once. Without requeueAfter, never.
   */
  #deferStatus(raw: RawPipeline, generation: number): boolean {
    const last = this.#statusWritten.get(keyOf(raw));
    const waitMs = last ? STATUS_INTERVAL_MS - (this.#clock() - last.at) : 0;
    if (!this.#d.requeueAfter || waitMs <= 0 || raw.status?.observedGeneration !== generation) return false;
    this.#d.requeueAfter(keyOf(raw), waitMs);
    return true;
  }
}
