// The I/O edge: informers (list+watch caches) and the writes the reconciler makes, over our
// own client (kube-http/: one connection pool, timeouts, retries; @kubernetes/client-node is
// used for its types only). Server-side apply is a PATCH with application/apply-patch+yaml
// (JSON is YAML), status a merge patch on the status subresource, Events a POST to core/v1.
import type { KubernetesObject, V1Deployment, V1Lease, V1ManagedFieldsEntry, V1ObjectMeta, V1Pod, V1Secret, CoreV1Event } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type OcrPipelineStatus } from '../crds/ocrpipeline.ts';
import type { Logger } from '../shared/logger.ts';
import { MANAGED_KINDS, kindPath, type ManagedKind } from '../contract/kinds.ts';
import { FIELD_MANAGER, LABELS } from '../contract/labels.ts';
import type { EventSink } from './events.ts';
import { childName } from './desired/common.ts';
import { KEDA_API_VERSION, SCALED_OBJECT_KIND, kedaHpaName } from './desired/keda-scaledobject.ts';
import { ApiError, type KubeClient } from './kube-http/client.ts';
import { Informer } from './kube-http/informer.ts';
import type { LeaseApi } from './leader.ts';
import { REPLICAS_HANDOVER_MANAGER, type KubeWriter } from './reconcile/apply.ts';
import type { ClusterReader, RawPipeline } from './reconcile/gather.ts';
import type { StatusWriter } from './reconcile/reconciler.ts';
import type { SecretSource, SecretStore } from './secret-store.ts';

/**
 * One watched kind: what it is, where its collection lives, (metadata-only kinds) the
 * representation to ask for, and (kinds a cluster may lack) how often to look for it again.
 */
interface Source {
  apiVersion: string;
  kind: string;
  path: (ns?: string) => string;
  accept?: { list: string; watch: string };
  /** A CRD that may not be installed or permitted: 404/403 is an empty cache, listed again every recheckMs (informer.ts). */
  optional?: { recheckMs: number };
}

/**
 * How often an optional kind that is not served (KEDA not installed) or not permitted (the
 * chart's keda.enabled false) is listed again: KEDA installed later is picked up within this,
 * without a restart. One GET per minute and namespace costs nothing measurable.
 */
export const OPTIONAL_KIND_RECHECK_MS = 60_000;

const nsPath = (prefix: string, plural: string) => (ns?: string) => (ns ? `${prefix}/namespaces/${ns}/${plural}` : `${prefix}/${plural}`);
/** apiVersion, kind and path of a child kind, from the one list in src/contract/kinds.ts. */
const managed = (k: ManagedKind): Source => ({ apiVersion: k.apiVersion, kind: k.kind, path: (ns?: string) => kindPath(k, ns) });

export function sources() {
  const pipelines: Source = { apiVersion: `${GROUP}/${VERSION}`, kind: 'OcrPipeline', path: nsPath(`/apis/${GROUP}/${VERSION}`, PLURAL) };
  // Metadata only (PartialObjectMetadata), stripped to names and versions: see secret-store.ts.
  const secrets: Source = {
    apiVersion: 'v1',
    kind: 'Secret',
    path: nsPath('/api/v1', 'secrets'),
    accept: { list: METADATA_LIST_ACCEPT, watch: METADATA_ACCEPT },
  };
  // Pods of pipelines, trimmed to what the pod checks read (trimPod).
  const pods: Source = { apiVersion: 'v1', kind: 'Pod', path: nsPath('/api/v1', 'pods') };
  const children: Source[] = [MANAGED_KINDS.deployment, MANAGED_KINDS.service, MANAGED_KINDS.hpa, MANAGED_KINDS.pdb, MANAGED_KINDS.networkPolicy].map(managed);
  // KEDA's ScaledObject: watched like the children above, but only where ScaledObjects can be
  // desired (the controller adds it with --prometheus-url) and optional: a cluster without
  // KEDA has no such API, and the chart grants it only with keda.enabled.
  const scaledObjects: Source = { ...managed(SCALED_OBJECTS), optional: { recheckMs: OPTIONAL_KIND_RECHECK_MS } };
  return { pipelines, secrets, pods, children, scaledObjects };
}

/** KEDA's ScaledObject collection (not in MANAGED_KINDS: not every cluster serves it). */
const SCALED_OBJECTS: ManagedKind = { apiVersion: KEDA_API_VERSION, kind: SCALED_OBJECT_KIND, plural: 'scaledobjects' };

/** Accept headers that make the API server send PartialObjectMetadata(List): metadata, never data. */
const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

/**
 * What a metadata-only cache keeps of an object: name, namespace, uid and resourceVersion.
 * Labels and annotations go too (kubectl's last-applied-configuration annotation can repeat
 * a Secret's data).
 */
export function metadataOnly<T extends KubernetesObject>(o: T): T {
  const m = o.metadata ?? {};
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion },
  } as T;
}

/**
 * What the pod cache keeps of a pod: identity, the component and pipeline labels, and the
 * status fields the pod checks read (phase, PodScheduled, container states, restart counts).
 * Specs, env, other labels and annotations, IPs and timestamps are dropped: less memory, and
 * timestamps would make every status heartbeat look like a change.
 */
export function trimPod(pod: V1Pod): V1Pod {
  const m = pod.metadata ?? {};
  const labels = Object.fromEntries([LABELS.component, LABELS.pipeline].flatMap((k) => (m.labels?.[k] !== undefined ? [[k, m.labels[k]]] : [])));
  const exit = (t: { exitCode: number; reason?: string; message?: string } | undefined) =>
    t ? { exitCode: t.exitCode, ...(t.reason ? { reason: t.reason } : {}), ...(t.message ? { message: t.message } : {}) } : undefined;
  const status = pod.status ?? {};
  return {
    apiVersion: pod.apiVersion ?? 'v1',
    kind: pod.kind ?? 'Pod',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      labels,
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
    },
    status: {
      ...(status.phase ? { phase: status.phase } : {}),
      conditions: (status.conditions ?? [])
        .filter((c) => c.type === 'PodScheduled')
        .map((c) => ({ type: c.type, status: c.status, ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}) })),
      containerStatuses: (status.containerStatuses ?? []).map((c) => {
        const waiting = c.state?.waiting;
        const terminated = exit(c.state?.terminated);
        const lastTerminated = exit(c.lastState?.terminated);
        return {
          name: c.name,
          restartCount: c.restartCount,
          state: {
            ...(waiting
              ? { waiting: { ...(waiting.reason ? { reason: waiting.reason } : {}), ...(waiting.message ? { message: waiting.message } : {}) } }
              : {}),
            ...(terminated ? { terminated } : {}),
          },
          lastState: lastTerminated ? { terminated: lastTerminated } : {},
        };
      }),
    },
  } as V1Pod;
}

/**
 * managedFields reduced to what the operator reads: who wrote, how, when, which top-level
 * fields, and whether spec.replicas is among them (apply.ts appliesReplicas, unchanged.ts
 * editedSinceOurApply). The full field sets are 30-40 % of a Deployment.
 */
export function reduceManagedFields(entries: V1ManagedFieldsEntry[] | undefined): V1ManagedFieldsEntry[] | undefined {
  return entries?.map((m) => {
    const fields = (m.fieldsV1 ?? {}) as Record<string, Record<string, unknown> | undefined>;
    const reduced = Object.fromEntries(
      Object.keys(fields).map((k) => [k, k === 'f:spec' && fields[k]?.['f:replicas'] !== undefined ? { 'f:replicas': {} } : {}]),
    );
    return { manager: m.manager, operation: m.operation, time: m.time, ...(m.subresource ? { subresource: m.subresource } : {}), fieldsV1: reduced };
  });
}

/** kubectl's copy of the whole object it applied: as large as the object, read by nobody here. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Metadata without kubectl's last-applied copy and with managedFields reduced (reduceManagedFields). */
function leanMetadata(m: V1ObjectMeta | undefined): V1ObjectMeta {
  const { [LAST_APPLIED]: _lastApplied, ...annotations } = m?.annotations ?? {};
  return { ...m, annotations, managedFields: reduceManagedFields(m?.managedFields) };
}

/**
 * What a child cache keeps: lean metadata; of a Deployment only spec.replicas and the status
 * fields deploymentFacts reads (conditions without their timestamps, which change on every
 * progress report); other kinds as they are (small, and the HPA's status feeds scaling).
 */
export function trimChild(o: KubernetesObject): KubernetesObject {
  const metadata = leanMetadata(o.metadata);
  if (o.kind !== 'Deployment' && !(o as V1Deployment).spec?.template) return { ...o, metadata };
  const d = o as V1Deployment;
  const status = d.status ?? {};
  return {
    apiVersion: d.apiVersion,
    kind: d.kind,
    metadata,
    spec: { ...(d.spec?.replicas !== undefined ? { replicas: d.spec.replicas } : {}) },
    status: {
      ...status,
      conditions: status.conditions?.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
    },
  } as V1Deployment;
}

/**
 * What the ScaledObject cache keeps: lean metadata and the spec (what the apply compares); not
 * KEDA's status, which nothing here reads (the worker HPA's status comes from KEDA's HPA) and
 * whose every change would otherwise wake a reconcile (child-changes.ts).
 */
export function trimScaledObject(o: KubernetesObject): KubernetesObject {
  const { status: _status, ...rest } = o as KubernetesObject & { status?: unknown };
  return { ...rest, metadata: leanMetadata(o.metadata) };
}

/** A pipeline as cached: lean metadata (status and spec are what reconcile reads). */
export const trimPipeline = (o: KubernetesObject): KubernetesObject => ({ ...o, metadata: leanMetadata(o.metadata) });

/** An informer per (kind, namespace) (kube-http/informer.ts: list+watch, resume, relist after 410, restart with backoff). */
export class WatchedKind<T extends KubernetesObject> {
  readonly source: Source;
  #informers: { ns: string | undefined; informer: Informer<T> }[];

  /**
   * @param view 'metadata' watches PartialObjectMetadata and caches only names and versions
   *   (metadataOnly(); the source must ask for that representation); a function trims every listed
   *   and watched object before it is cached (trimChild, trimPipeline, trimPod).
   */
  constructor(
    client: KubeClient,
    source: Source,
    namespaces: string[] | undefined,
    labelSelector: string | undefined,
    log: Logger,
    view: 'metadata' | ((o: KubernetesObject) => KubernetesObject),
  ) {
    this.source = source;
    const trim = (view === 'metadata' ? metadataOnly : view) as (o: KubernetesObject) => T;
    this.#informers = (namespaces ?? [undefined]).map((ns) => ({
      ns,
      informer: new Informer<T>(client, {
        path: source.path(ns),
        labelSelector,
        trim,
        log: log.child({ kind: source.kind, namespace: ns ?? '*' }),
        ...(source.accept ? { accept: source.accept } : {}),
        ...(source.optional ? { optional: source.optional } : {}),
      }),
    }));
  }

  on(verb: 'add' | 'update' | 'delete', cb: (obj: T) => void): void {
    for (const { informer } of this.#informers) informer.on(verb, cb);
  }

  /** Lists and starts watching; resolves once every cache holds its initial list (or its first list failed: then it retries in the background). */
  async start(): Promise<void> {
    await Promise.all(this.#informers.map(({ informer }) => informer.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#informers.map(({ informer }) => informer.stop()));
  }

  get(namespace: string, name: string): T | undefined {
    for (const { ns, informer } of this.#informers) {
      if (ns === undefined || ns === namespace) {
        const obj = informer.get(name, namespace);
        if (obj) return obj;
      }
    }
    return undefined;
  }

  list(namespace: string): T[] {
    return this.#informers.filter(({ ns }) => ns === undefined || ns === namespace).flatMap(({ informer }) => [...informer.list(namespace)]);
  }

  all(): T[] {
    return this.#informers.flatMap(({ informer }) => [...informer.list()]);
  }
}

/** Read side of the reconciler, backed by the informer caches. */
export class CacheReader implements ClusterReader {
  #pipelines: WatchedKind<RawPipeline>;
  #secrets: SecretStore;
  #children: WatchedKind<KubernetesObject>[];
  #pods: WatchedKind<V1Pod> | undefined;

  constructor(pipelines: WatchedKind<RawPipeline>, secrets: SecretStore, children: WatchedKind<KubernetesObject>[], pods?: WatchedKind<V1Pod>) {
    this.#pipelines = pipelines;
    this.#secrets = secrets;
    this.#children = children;
    this.#pods = pods;
  }

  listPods(namespace: string, pipeline: string): V1Pod[] {
    return (this.#pods?.list(namespace) ?? []).filter((p) => p.metadata?.labels?.[LABELS.pipeline] === pipeline);
  }

  getPipeline(namespace: string, name: string): RawPipeline | undefined {
    return this.#pipelines.get(namespace, name);
  }

  loadSecrets(namespace: string, names: readonly string[]): Promise<void> {
    return this.#secrets.load(namespace, names);
  }

  getSecret(namespace: string, name: string): V1Secret | undefined {
    return this.#secrets.get(namespace, name);
  }

  getDeployment(namespace: string, name: string): V1Deployment | undefined {
    const deployments = this.#children.find((c) => c.source.kind === 'Deployment');
    return deployments?.get(namespace, name);
  }

  /**
   * Looked up by name, never by scanning the namespace: every child is named <pipeline>-api or
   * <pipeline>-worker (desired/common.ts childName), and KEDA's HPA keda-hpa-<pipeline>-worker.
   */
  listChildren(namespace: string, pipeline: string): KubernetesObject[] {
    const names = [childName(pipeline, 'api'), childName(pipeline, 'worker'), kedaHpaName(pipeline)];
    // List responses omit apiVersion/kind on items; put them back so children compare by identity.
    return this.#children.flatMap((c) =>
      names
        .map((n) => c.get(namespace, n))
        .filter((o): o is KubernetesObject => o?.metadata?.labels?.[LABELS.pipeline] === pipeline)
        .map((o) => ({ ...o, apiVersion: c.source.apiVersion, kind: c.source.kind })),
    );
  }
}

/** Known REST collections of the kinds the reconciler writes: the managed kinds and KEDA's ScaledObject (watched only where KEDA is served, sources()). */
const WRITTEN_KINDS: readonly ManagedKind[] = [...Object.values(MANAGED_KINDS), SCALED_OBJECTS];

/** The REST path of one object of a kind the reconciler writes. */
export function objectPath(obj: KubernetesObject): string {
  const kind = WRITTEN_KINDS.find((k) => k.apiVersion === obj.apiVersion && k.kind === obj.kind);
  if (!kind) throw new Error(`No REST path known for ${obj.apiVersion ?? '?'} ${obj.kind ?? '?'}: add it to MANAGED_KINDS (src/contract/kinds.ts)`);
  return `${kindPath(kind, obj.metadata?.namespace)}/${obj.metadata?.name ?? ''}`;
}

const APPLY_PATCH = 'application/apply-patch+yaml';
const MERGE_PATCH = 'application/merge-patch+json';
const codeOf = (err: unknown): unknown => (err instanceof ApiError ? err.code : undefined);

/** Write side of the reconciler. */
export class ApiWriter implements KubeWriter, StatusWriter {
  #client: KubeClient;

  constructor(client: KubeClient) {
    this.#client = client;
  }

  /** POST, never apply: a Secret that exists (409) is read back as it is, so a rotated key stays. */
  async createSecret(secret: V1Secret): Promise<{ secret: V1Secret; created: boolean }> {
    const namespace = secret.metadata?.namespace ?? '';
    const collection = `/api/v1/namespaces/${namespace}/secrets`;
    try {
      return { secret: await this.#client.request<V1Secret>({ method: 'POST', path: collection, body: secret }), created: true };
    } catch (err) {
      if (codeOf(err) !== 409) throw err;
      return { secret: await this.#client.request<V1Secret>({ method: 'GET', path: `${collection}/${secret.metadata?.name ?? ''}` }), created: false };
    }
  }

  /** Server-side apply, field manager ocr-platform-operator, force: ours is the word on every field we set. */
  async apply(obj: KubernetesObject): Promise<KubernetesObject> {
    return this.#client.request<KubernetesObject>({
      method: 'PATCH',
      path: objectPath(obj),
      query: { fieldManager: FIELD_MANAGER, force: true },
      body: obj,
      contentType: APPLY_PATCH,
    });
  }

  async handOver(obj: KubernetesObject): Promise<'applied' | 'conflict'> {
    try {
      await this.#client.request({
        method: 'PATCH',
        path: objectPath(obj),
        query: { fieldManager: REPLICAS_HANDOVER_MANAGER, force: false },
        body: obj,
        contentType: APPLY_PATCH,
      });
      return 'applied';
    } catch (err) {
      if (codeOf(err) === 409) return 'conflict';
      throw err;
    }
  }

  async delete(obj: KubernetesObject): Promise<void> {
    await this.#client.request({ method: 'DELETE', path: objectPath(obj), query: { propagationPolicy: 'Background' } });
  }

  /**
   * A JSON merge patch on the status subresource, without resourceVersion: the work queue
   * guarantees one reconcile per pipeline at a time, so there is no competing writer, and a
   * cache that lags one write behind cannot cause 409 conflicts. Fields that disappeared
   * are sent as null so the patch removes them.
   */
  async writeStatus(raw: RawPipeline, status: OcrPipelineStatus): Promise<void> {
    const { namespace, name } = raw.metadata;
    await this.#client.request({
      method: 'PATCH',
      path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}/${name}/status`,
      body: { status: statusPatch(raw.status, status) },
      contentType: MERGE_PATCH,
    });
  }
}

/** Versions from the metadata-only Secret watch, data by GET (secret-store.ts). */
export function secretSource(client: KubeClient, metadata: WatchedKind<KubernetesObject>): SecretSource {
  return {
    version: (namespace, name) => metadata.get(namespace, name)?.metadata?.resourceVersion,
    read: async (namespace, name) => {
      try {
        return await client.request<V1Secret>({ method: 'GET', path: `/api/v1/namespaces/${namespace}/secrets/${name}` });
      } catch (err) {
        if (codeOf(err) === 404) return undefined;
        throw err;
      }
    },
  };
}

export function eventSink(client: KubeClient): EventSink {
  return (namespace, event: CoreV1Event) => client.request({ method: 'POST', path: `/api/v1/namespaces/${namespace}/events`, body: event });
}

/** The Lease calls of leader.ts. */
export function leaseApi(client: KubeClient): LeaseApi {
  const path = (namespace: string, name?: string) => `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases${name ? `/${name}` : ''}`;
  return {
    readNamespacedLease: ({ name, namespace }) => client.request<V1Lease>({ method: 'GET', path: path(namespace, name) }),
    createNamespacedLease: ({ namespace, body }) => client.request<V1Lease>({ method: 'POST', path: path(namespace), body }),
    replaceNamespacedLease: ({ name, namespace, body }) => client.request<V1Lease>({ method: 'PUT', path: path(namespace, name), body }),
  };
}

/** The merge-patch body for status: the new status, with removed top-level fields as null. */
export function statusPatch(previous: OcrPipelineStatus | undefined, next: OcrPipelineStatus): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next };
  for (const key of Object.keys(previous ?? {})) if (!(key in next)) patch[key] = null;
  return patch;
}
