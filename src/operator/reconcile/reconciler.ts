// One reconcile of one pipeline: gather -> desired -> apply -> status. Level-based: it
// never asks what event woke it, only what the world looks like now.
import type { KubernetesObject } from '@kubernetes/client-node';
import { API_VERSION, KIND, type OcrPipelineStatus } from '../../crds/ocrpipeline.ts';
import { systemClock, type Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import { CONDITION, REASON } from '../conditions/reasons.ts';
import { desiredChildren } from '../desired/index.ts';
import type { EventRecorder, EventTarget } from '../events.ts';
import type { SecretIndex } from '../secret-index.ts';
import type { ScalingService } from '../scaling/service.ts';
import { applyChildren, type KubeWriter } from './apply.ts';
import { gather, type ClusterReader, type RawPipeline } from './gather.ts';
import { buildStatus, statusEqual } from './status.ts';

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
}

export class ApplyFailedError extends Error {
  override name = 'ApplyFailedError';
}

const PROBLEM_REASONS = [REASON.secretNotFound, REASON.secretKeyNotFound, REASON.applyFailed, REASON.invalidSpec, REASON.podCreationFailed] as const;

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

export class Reconciler {
  #d: ReconcilerDeps;
  #clock: Clock;

  constructor(deps: ReconcilerDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? systemClock;
  }

  async reconcile(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const { reader, writer, events, secretIndex } = this.#d;
    const log = this.#d.log.child({ namespace, name });

    const raw = reader.getPipeline(namespace, name);
    if (!raw || raw.metadata.deletionTimestamp) {
      // Deleted: ownerReferences let the garbage collector remove the children.
      secretIndex.delete(key);
      this.#d.scaling?.forget(key);
      if (raw) events.forgetObject(raw.metadata.uid);
      return;
    }
    const target: EventTarget = { apiVersion: API_VERSION, kind: KIND, name, namespace, uid: raw.metadata.uid };

    // gather
    const g = gather(raw, reader);
    secretIndex.set(
      key,
      g.secretRefs.map((r) => r.name),
    );
    // track: queue scaling's side effects, in this one place: (un)subscribe the pipeline's
    // queue poller and refresh Prometheus numbers in the background. observe is pure: the
    // latest queue view and the worker HPA's status -> plan, status.scaling, condition facts.
    if (g.pipeline) this.#d.scaling?.track(g.pipeline, g.queueSecret, g.worker?.desired ?? 0);
    const scaling = g.pipeline ? this.#d.scaling?.observe(g.pipeline, g.queueSecret, g.workerHpa) : undefined;

    // desired + apply. With a missing Secret the children are left as they are: pods that
    // reference it would fail to start (CreateContainerConfigError) and a rollout would
    // replace working pods with broken ones. The Secret watch re-queues us when it appears.
    let applyError: string | undefined;
    if (g.pipeline && g.missingSecrets.length === 0) {
      try {
        const scalingInput = scaling ? { scaling: { plan: scaling.plan, ...(scaling.prometheusUrl ? { prometheusUrl: scaling.prometheusUrl } : {}) } } : {};
        const desired = desiredChildren({ pipeline: g.pipeline, secretHashes: g.secretHashes, ...scalingInput });
        const result = await applyChildren(writer, desired, g.children, raw.metadata.uid);
        for (const c of result.created) {
          log.info({ kind: c.kind, child: c.metadata?.name }, `Created ${c.kind ?? 'child'}`);
          await events.record(target, 'Normal', 'Created', `Created ${describeChild(c)}`);
        }
        for (const c of result.deleted) {
          log.info({ kind: c.kind, child: c.metadata?.name }, `Deleted ${c.kind ?? 'child'}`);
          await events.record(target, 'Normal', 'Deleted', `Deleted ${describeChild(c)}, no longer desired`);
        }
      } catch (err) {
        applyError = describeError(err);
        log.error({ err }, 'Failed to apply children');
      }
    }

    // status
    const facts = {
      namespace,
      missingSecrets: g.missingSecrets,
      ...(g.invalidSpec !== undefined ? { invalidSpec: g.invalidSpec } : {}),
      ...(applyError !== undefined ? { applyError } : {}),
      ...(g.api ? { api: g.api } : {}),
      ...(g.worker ? { worker: g.worker } : {}),
      ...(scaling ? { scaling: scaling.facts } : {}),
    };
    const generation = raw.metadata.generation ?? 0;
    const status = buildStatus(raw.status, facts, generation, new Date(this.#clock()).toISOString(), scaling?.status);
    const degraded = status.conditions?.find((c) => c.type === CONDITION.degraded);
    if (degraded?.status === 'True') {
      await events.record(target, 'Warning', degraded.reason, degraded.message);
    } else {
      events.forget(raw.metadata.uid, PROBLEM_REASONS);
    }
    if (!statusEqual(raw.status, status)) {
      await writer.writeStatus(raw, status);
      log.debug({ conditions: status.conditions?.map((c) => `${c.type}=${c.status}`) }, 'Updated status');
    }
    if (applyError !== undefined) throw new ApplyFailedError(applyError);
  }
}
