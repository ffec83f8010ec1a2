// What bench:operator sees of a namespace, through watches only (one LIST-free watch per kind,
// resumed from the last resourceVersion when the server closes it): per pipeline, when it
// was *operator done* (all its children exist and its latest write carries a status at the
// current generation, written after the last child was created), and when the namespace is
// *cluster done* (every Deployment available, every pipeline Ready=True). It also keeps the
// children's last state, so the floor run can apply the very same objects.
//
// "Written after the children existed" compares resourceVersions: on a single etcd they are
// its global revision, so a larger one was written later (Kubernetes calls them opaque; this
// benchmark runs only on our own one-etcd control plane).
import { Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

/** The child kinds the operator makes for a pipeline (test/integration/operator/harness.ts expectedChildren), with their list paths. */
export const CHILD_KINDS = [
  { kind: 'Deployment', apiVersion: 'apps/v1', path: (ns: string) => `/apis/apps/v1/namespaces/${ns}/deployments`, perPipeline: 2 },
  { kind: 'Service', apiVersion: 'v1', path: (ns: string) => `/api/v1/namespaces/${ns}/services`, perPipeline: 1 },
  {
    kind: 'HorizontalPodAutoscaler',
    apiVersion: 'autoscaling/v2',
    path: (ns: string) => `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers`,
    perPipeline: 2,
  },
  { kind: 'PodDisruptionBudget', apiVersion: 'policy/v1', path: (ns: string) => `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`, perPipeline: 2 },
] as const;
export const CHILDREN_PER_PIPELINE = CHILD_KINDS.reduce((n, k) => n + k.perPipeline, 0);
const PIPELINES_PATH = (ns: string) => `/apis/ocrplatform.io/v1alpha1/namespaces/${ns}/ocrpipelines`;

type Obj = KubernetesObject & {
  metadata: { name: string; resourceVersion?: string; generation?: number; creationTimestamp?: string };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    availableReplicas?: number;
    conditions?: Array<{ type: string; status: string }>;
  };
};

interface PipelineSeen {
  rv: number;
  statusCurrent: boolean;
  ready: boolean;
}

/** The pipeline a child belongs to: the operator names them <pipeline>-api and <pipeline>-worker. */
export function pipelineOf(childName: string): string {
  return childName.replace(/-(api|worker)$/, '');
}

const hasCondition = (o: Obj, type: string) => o.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;

/** A Deployment whose controller has seen its generation and which has all its replicas available. */
export function deploymentAvailable(d: Obj): boolean {
  const seen = (d.status?.observedGeneration ?? 0) >= (d.metadata.generation ?? 1);
  return seen && (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 1) && hasCondition(d, 'Available');
}

export interface ObserverOptions {
  kc: KubeConfig;
  namespace: string;
  /** Pipelines expected (0 for the floor run: children only). */
  pipelines: number;
  /** Deployments expected. */
  deployments: number;
  /** ms since the benchmark's t0, for the timestamps. */
  now: () => number;
}

export class NamespaceObserver {
  readonly #o: ObserverOptions;
  /** pipeline -> child key -> resourceVersion of its creation */
  readonly #children = new Map<string, Map<string, number>>();
  readonly #pipelines = new Map<string, PipelineSeen>();
  readonly #available = new Map<string, boolean>();
  /** child key -> latest object, for the floor run */
  readonly objects = new Map<string, Obj>();
  readonly operatorDoneAt = new Map<string, number>();
  #childCount = 0;
  #clusterDoneAt: number | undefined;
  #aborts: AbortController[] = [];
  #stopped = false;
  watchRestarts = 0;

  constructor(o: ObserverOptions) {
    this.#o = o;
  }

  async start(): Promise<void> {
    const paths: Array<[string, string]> = CHILD_KINDS.map((k) => [k.kind, k.path(this.#o.namespace)]);
    if (this.#o.pipelines > 0) paths.push(['OcrPipeline', PIPELINES_PATH(this.#o.namespace)]);
    await Promise.all(paths.map(([kind, path]) => this.#watch(kind, path, undefined)));
  }

  stop(): void {
    this.#stopped = true;
    for (const a of this.#aborts) a.abort();
  }

  get childCount(): number {
    return this.#childCount;
  }
  get availableDeployments(): number {
    return [...this.#available.values()].filter(Boolean).length;
  }
  get readyPipelines(): number {
    return [...this.#pipelines.values()].filter((p) => p.ready).length;
  }
  get operatorDone(): number {
    return this.operatorDoneAt.size;
  }
  /** ms since t0 when every pipeline was operator done (undefined until then). */
  get operatorDoneAtAll(): number | undefined {
    return this.#o.pipelines > 0 && this.operatorDoneAt.size === this.#o.pipelines ? Math.max(...this.operatorDoneAt.values()) : undefined;
  }
  get clusterDoneAt(): number | undefined {
    return this.#clusterDoneAt;
  }

  async #watch(kind: string, path: string, resourceVersion: string | undefined): Promise<void> {
    let lastRv = resourceVersion;
    const abort = await new Watch(this.#o.kc).watch(
      path,
      { allowWatchBookmarks: true, resourceVersion, timeoutSeconds: 300 },
      (phase, obj: Obj) => {
        lastRv = obj.metadata?.resourceVersion ?? lastRv;
        if (phase === 'BOOKMARK') return;
        this.#seen(kind, phase, obj);
      },
      () => {
        if (this.#stopped) return;
        // The server ends every watch after timeoutSeconds; resume where it stopped (no LIST).
        this.watchRestarts += 1;
        setTimeout(() => void this.#watch(kind, path, lastRv).catch(() => undefined), 100);
      },
    );
    this.#aborts.push(abort);
  }

  #seen(kind: string, phase: string, obj: Obj): void {
    const name = obj.metadata.name;
    const rv = Number(obj.metadata.resourceVersion);
    if (kind === 'OcrPipeline') {
      if (phase === 'DELETED') return;
      const statusCurrent = obj.status?.observedGeneration === obj.metadata.generation;
      this.#pipelines.set(name, { rv, statusCurrent, ready: statusCurrent && hasCondition(obj, 'Ready') });
      this.#check(name);
    } else {
      const key = `${kind}/${name}`;
      const owner = pipelineOf(name);
      const set = this.#children.get(owner) ?? new Map<string, number>();
      this.#children.set(owner, set);
      if (phase === 'DELETED') {
        if (set.delete(key)) this.#childCount -= 1;
        this.objects.delete(key);
        return;
      }
      if (!set.has(key)) {
        set.set(key, rv);
        this.#childCount += 1;
      }
      this.objects.set(key, obj);
      if (kind === 'Deployment') this.#available.set(name, deploymentAvailable(obj));
      this.#check(owner);
    }
    this.#checkCluster();
  }

  /** Marks a pipeline operator done the first time its children are complete and its latest status came after them. */
  #check(pipeline: string): void {
    if (this.operatorDoneAt.has(pipeline)) return;
    const p = this.#pipelines.get(pipeline);
    const children = this.#children.get(pipeline);
    if (!p?.statusCurrent || !children || children.size < CHILDREN_PER_PIPELINE) return;
    if (p.rv > Math.max(...children.values())) this.operatorDoneAt.set(pipeline, this.#o.now());
  }

  #checkCluster(): void {
    if (this.#clusterDoneAt !== undefined) return;
    const pipelinesOk = this.#o.pipelines === 0 || this.readyPipelines === this.#o.pipelines;
    if (pipelinesOk && this.availableDeployments === this.#o.deployments) this.#clusterDoneAt = this.#o.now();
  }
}

/** The children as the floor run applies them: what the operator set, without what the server or controllers filled in. */
export function floorObject(o: Obj, namespace: string): KubernetesObject {
  const { name, labels, annotations } = o.metadata as { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  const kept = Object.fromEntries(Object.entries(annotations ?? {}).filter(([k]) => !k.startsWith('deployment.kubernetes.io/')));
  const spec = structuredClone(o.spec ?? {}) as Record<string, unknown>;
  // A Service's ClusterIP is allocated cluster-wide: let the server pick a new one.
  for (const k of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy', 'internalTrafficPolicy', 'sessionAffinity'])
    if (o.kind === 'Service') delete spec[k];
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { name, namespace, labels, ...(Object.keys(kept).length > 0 ? { annotations: kept } : {}) },
    spec,
  } as KubernetesObject;
}
