// The I/O edge: informers (list+watch caches) and the writes the reconciler makes. Built on
// @kubernetes/client-node v2: ListWatch via makeInformer, server-side apply through
// KubernetesObjectApi.patch with PatchStrategy.ServerSideApply, status through the
// CustomObjects status subresource, Events through core/v1.
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  ListWatch,
  NetworkingV1Api,
  PatchStrategy,
  PolicyV1Api,
  Watch,
  setHeaderOptions,
  type Informer,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
  type V1Deployment,
  type V1ManagedFieldsEntry,
  type V1ObjectMeta,
  type V1Pod,
  type V1Secret,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type OcrPipelineStatus } from '../crds/ocrpipeline.ts';
import type { Logger } from '../shared/logger.ts';
import { MANAGED_KINDS, kindPath, type ManagedKind } from '../contract/kinds.ts';
import { FIELD_MANAGER, LABELS } from '../contract/labels.ts';
import type { EventSink } from './events.ts';
import { childName } from './desired/common.ts';
import { kedaHpaName } from './desired/keda-scaledobject.ts';
import { REPLICAS_HANDOVER_MANAGER, type KubeWriter } from './reconcile/apply.ts';
import type { ClusterReader, RawPipeline } from './reconcile/gather.ts';
import type { StatusWriter } from './reconcile/reconciler.ts';
import type { SecretSource, SecretStore } from './secret-store.ts';

type Cache<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

/** One watched kind: where it lives and how to list it in a namespace or cluster-wide. */
interface Source {
  apiVersion: string;
  kind: string;
  path: (ns?: string) => string;
  list: (ns: string | undefined, labelSelector: string | undefined) => Promise<KubernetesListObject<KubernetesObject>>;
}

const nsPath = (prefix: string, plural: string) => (ns?: string) => (ns ? `${prefix}/namespaces/${ns}/${plural}` : `${prefix}/${plural}`);
/** apiVersion, kind and path of a child kind, from the one list in src/contract/kinds.ts. */
const managed = (k: ManagedKind) => ({ apiVersion: k.apiVersion, kind: k.kind, path: (ns?: string) => kindPath(k, ns) });

export function sources(kc: KubeConfig) {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const autoscaling = kc.makeApiClient(AutoscalingV2Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const networking = kc.makeApiClient(NetworkingV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const pipelines: Source = {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'OcrPipeline',
    path: nsPath(`/apis/${GROUP}/${VERSION}`, PLURAL),
    list: async (ns) =>
      (ns
        ? await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL })
        : await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as KubernetesListObject<KubernetesObject>,
  };
  // Metadata only (PartialObjectMetadataList), stripped to names and versions: see secret-store.ts.
  const asMetadata = setHeaderOptions('Accept', METADATA_LIST_ACCEPT);
  const secrets: Source = {
    apiVersion: 'v1',
    kind: 'Secret',
    path: nsPath('/api/v1', 'secrets'),
    list: async (ns, labelSelector) => {
      const list = ns
        ? await core.listNamespacedSecret({ namespace: ns, labelSelector }, asMetadata)
        : await core.listSecretForAllNamespaces({ labelSelector }, asMetadata);
      return { ...list, items: (list.items ?? []).map(metadataOnly) }; // an empty metadata list has items: null
    },
  };
  // Pods of pipelines, trimmed to what the pod checks read (trimPod).
  const pods: Source = {
    apiVersion: 'v1',
    kind: 'Pod',
    path: nsPath('/api/v1', 'pods'),
    list: async (ns, labelSelector) => {
      const list = ns ? await core.listNamespacedPod({ namespace: ns, labelSelector }) : await core.listPodForAllNamespaces({ labelSelector });
      return { ...list, items: (list.items ?? []).map(trimPod) };
    },
  };
  const children: Source[] = [
    {
      ...managed(MANAGED_KINDS.deployment),
      list: (ns, labelSelector) =>
        ns ? apps.listNamespacedDeployment({ namespace: ns, labelSelector }) : apps.listDeploymentForAllNamespaces({ labelSelector }),
    },
    {
      ...managed(MANAGED_KINDS.service),
      list: (ns, labelSelector) => (ns ? core.listNamespacedService({ namespace: ns, labelSelector }) : core.listServiceForAllNamespaces({ labelSelector })),
    },
    {
      ...managed(MANAGED_KINDS.hpa),
      list: (ns, labelSelector) =>
        ns
          ? autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: ns, labelSelector })
          : autoscaling.listHorizontalPodAutoscalerForAllNamespaces({ labelSelector }),
    },
    {
      ...managed(MANAGED_KINDS.pdb),
      list: (ns, labelSelector) =>
        ns ? policy.listNamespacedPodDisruptionBudget({ namespace: ns, labelSelector }) : policy.listPodDisruptionBudgetForAllNamespaces({ labelSelector }),
    },
    {
      ...managed(MANAGED_KINDS.networkPolicy),
      list: (ns, labelSelector) =>
        ns ? networking.listNamespacedNetworkPolicy({ namespace: ns, labelSelector }) : networking.listNetworkPolicyForAllNamespaces({ labelSelector }),
    },
  ];
  return { pipelines, secrets, pods, children, core, custom };
}

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
 * Query parameters of every watch: bookmarks (the API server tells a quiet watch its current
 * resourceVersion, so a reconnect resumes from there instead of relisting) and a server-side
 * timeout (a watch ends cleanly and is reopened from its last resourceVersion over the same
 * pooled connection), 5 to 10 min at random so the watches of a process do not end together.
 */
export function watchQuery(query: Record<string, string | number | boolean | undefined>, random: () => number = Math.random) {
  return { ...query, allowWatchBookmarks: true, timeoutSeconds: Math.round(WATCH_TIMEOUT_SECONDS * (1 + random())) };
}
/** Shortest server-side watch timeout, in seconds (client-go's minimum is 5 min too). */
const WATCH_TIMEOUT_SECONDS = 300;
/**
 * Client-side inactivity limit of a watch, in ms: longer than the API server's bookmark
 * interval (about one a minute), so a quiet but healthy watch is not torn down every 30 s
 * (the library's default); a dead connection still ends within it.
 */
const WATCH_INACTIVITY_MS = 150_000;

/**
 * A Watch with watchQuery's parameters that passes every event through `trim` before the
 * informer caches it (ERROR events carry a Status, whose code tells the informer to relist,
 * and BOOKMARK events only a resourceVersion: both pass as they are). With `accept`, the
 * request asks for that representation (PartialObjectMetadata): the client's Watch reads only
 * the cluster and the authentication from its KubeConfig, and the header goes on after the authentication.
 */
function cachingWatch(kc: KubeConfig, trim: (o: KubernetesObject) => KubernetesObject, accept?: string): Watch {
  const config = accept
    ? ({
        getCurrentCluster: () => kc.getCurrentCluster(),
        applySecurityAuthentication: async (ctx: Parameters<KubeConfig['applySecurityAuthentication']>[0]) => {
          await kc.applySecurityAuthentication(ctx);
          ctx.setHeaderParam('Accept', accept);
        },
      } as unknown as KubeConfig)
    : kc;
  const watch = new Watch(config);
  (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = WATCH_INACTIVITY_MS;
  const inner = watch.watch.bind(watch);
  watch.watch = (path, query, callback, done) =>
    inner(
      path,
      watchQuery(query),
      (phase, obj: KubernetesObject, raw) => callback(phase, phase === 'ERROR' || phase === 'BOOKMARK' ? obj : trim(obj), raw),
      done,
    );
  return watch;
}

/** Watch retry delays, in ms: the first, the largest, and how long a watch must have run without error before the delay starts over. */
export const WATCH_RETRY = { baseMs: 1_000, maxMs: 60_000, healthyMs: 60_000, jitter: 0.2 } as const;

/**
 * The next delay before restarting a failed watch, and the un-jittered delay to remember for the
 * next failure: doubling from baseMs up to maxMs, back to baseMs only after the watch ran
 * healthyMs without error (a watch that connects and fails at once keeps growing), ±jitter.
 * @param previousMs the remembered delay of the last failure; 0 for none
 * @param healthyForMs how long the watch ran since its last (re)start
 */
export function watchRetryDelay(previousMs: number, healthyForMs: number, random: () => number = Math.random): { waitMs: number; nextMs: number } {
  const nextMs = previousMs === 0 || healthyForMs >= WATCH_RETRY.healthyMs ? WATCH_RETRY.baseMs : Math.min(WATCH_RETRY.maxMs, previousMs * 2);
  return { waitMs: Math.round(nextMs * (1 + WATCH_RETRY.jitter * (2 * random() - 1))), nextMs };
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

/** A pipeline as cached: lean metadata (status and spec are what reconcile reads). */
export const trimPipeline = (o: KubernetesObject): KubernetesObject => ({ ...o, metadata: leanMetadata(o.metadata) });

/** An informer per (kind, namespace); restarts itself with backoff when its watch fails. */
export class WatchedKind<T extends KubernetesObject> {
  readonly source: Source;
  #informers: { ns: string | undefined; informer: Cache<T> }[];
  #log: Logger;
  #stopped = false;

  /**
   * @param view 'metadata' watches PartialObjectMetadata and caches only names and versions
   *   (metadataOnly(); the source's list must return that shape); a function trims every listed
   *   and watched object before it is cached (trimChild, trimPipeline, trimPod).
   */
  constructor(
    kc: KubeConfig,
    source: Source,
    namespaces: string[] | undefined,
    labelSelector: string | undefined,
    log: Logger,
    view: 'metadata' | ((o: KubernetesObject) => KubernetesObject),
  ) {
    this.source = source;
    this.#log = log.child({ kind: source.kind });
    const trim = view === 'metadata' ? metadataOnly : view;
    this.#informers = (namespaces ?? [undefined]).map((ns) => {
      const list = async () => {
        const l = await source.list(ns, labelSelector);
        return { ...l, items: (l.items ?? []).map(trim) } as KubernetesListObject<T>;
      };
      const watch = cachingWatch(kc, trim, view === 'metadata' ? METADATA_ACCEPT : undefined);
      return { ns, informer: new ListWatch<T>(source.path(ns), watch, list, false, labelSelector) };
    });
    for (const { ns, informer } of this.#informers) this.#restartOnError(ns, informer);
  }

  /** Restarts a failed watch after watchRetryDelay (resumes from its last resourceVersion, or relists after 410 Gone). */
  #restartOnError(ns: string | undefined, informer: Cache<T>): void {
    let delayMs = 0;
    let startedAt = performance.now();
    informer.on('error', (err: unknown) => {
      if (this.#stopped) return;
      const { waitMs, nextMs } = watchRetryDelay(delayMs, performance.now() - startedAt);
      delayMs = nextMs;
      this.#log.warn({ namespace: ns ?? '*', err, retryInMs: waitMs }, 'Failed to watch; restarting');
      const timer = setTimeout(() => {
        startedAt = performance.now();
        void informer.start().catch(() => undefined);
      }, waitMs);
      timer.unref();
    });
  }

  on(verb: 'add' | 'update' | 'delete', cb: (obj: T) => void): void {
    for (const { informer } of this.#informers) informer.on(verb, cb);
  }

  /** Lists and starts watching; resolves once every cache holds its initial list. */
  async start(): Promise<void> {
    await Promise.all(this.#informers.map(({ informer }) => informer.start()));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
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

/** Write side of the reconciler. */
export class ApiWriter implements KubeWriter, StatusWriter {
  #objects: KubernetesObjectApi;
  #custom: CustomObjectsApi;
  #core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.#objects = KubernetesObjectApi.makeApiClient(kc);
    this.#custom = kc.makeApiClient(CustomObjectsApi);
    this.#core = kc.makeApiClient(CoreV1Api);
  }

  /** POST, never apply: a Secret that exists (409) is read back as it is, so a rotated key stays. */
  async createSecret(secret: V1Secret): Promise<{ secret: V1Secret; created: boolean }> {
    const namespace = secret.metadata?.namespace ?? '';
    try {
      return { secret: await this.#core.createNamespacedSecret({ namespace, body: secret }), created: true };
    } catch (err) {
      if ((err as { code?: unknown }).code !== 409) throw err;
      return { secret: await this.#core.readNamespacedSecret({ namespace, name: secret.metadata?.name ?? '' }), created: false };
    }
  }

  async apply(obj: KubernetesObject): Promise<KubernetesObject> {
    return this.#objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }

  async handOver(obj: KubernetesObject): Promise<'applied' | 'conflict'> {
    try {
      await this.#objects.patch(obj, undefined, undefined, REPLICAS_HANDOVER_MANAGER, false, PatchStrategy.ServerSideApply);
      return 'applied';
    } catch (err) {
      if ((err as { code?: unknown }).code === 409) return 'conflict';
      throw err;
    }
  }

  async delete(obj: KubernetesObject): Promise<void> {
    await this.#objects.delete(obj, undefined, undefined, undefined, undefined, 'Background');
  }

  /**
   * A JSON merge patch on the status subresource, without resourceVersion: the work queue
   * guarantees one reconcile per pipeline at a time, so there is no competing writer, and a
   * cache that lags one write behind cannot cause 409 conflicts. Fields that disappeared
   * are sent as null so the patch removes them.
   */
  async writeStatus(raw: RawPipeline, status: OcrPipelineStatus): Promise<void> {
    const { namespace, name } = raw.metadata;
    await this.#custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: { status: statusPatch(raw.status, status) } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}

/** Versions from the metadata-only Secret watch, data by GET (secret-store.ts). */
export function secretSource(kc: KubeConfig, metadata: WatchedKind<KubernetesObject>): SecretSource {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    version: (namespace, name) => metadata.get(namespace, name)?.metadata?.resourceVersion,
    read: async (namespace, name) => {
      try {
        return await core.readNamespacedSecret({ namespace, name });
      } catch (err) {
        if ((err as { code?: unknown }).code === 404) return undefined;
        throw err;
      }
    },
  };
}

export function eventSink(core: CoreV1Api): EventSink {
  return (namespace, event) => core.createNamespacedEvent({ namespace, body: event });
}

/** The merge-patch body for status: the new status, with removed top-level fields as null. */
export function statusPatch(previous: OcrPipelineStatus | undefined, next: OcrPipelineStatus): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next };
  for (const key of Object.keys(previous ?? {})) if (!(key in next)) patch[key] = null;
  return patch;
}
