// What the operator integration tests share: the cluster (hack/test.sh's shared one from
// OCR_TEST_KUBECONFIG, else one of our own), a namespace per test file, the CRD, pipeline
// manifests, and readers that report the state of the cluster (children, owners,
// conditions, resourceVersions). Every assertion reads the API server, never the operator.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
  type V1OwnerReference,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { defaultBinDir, loadKubeConfig, startCluster } from '../../support/cluster.ts';
import { startOperatorProcess, type OperatorProcess, type OperatorProcessOptions } from '../../support/operator-process.ts';
import { waitFor } from '../../support/ports.ts';

const execFileAsync = promisify(execFile);

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const GROUP = 'ocrplatform.io';
export const VERSION = 'v1alpha1';
export const PLURAL = 'ocrpipelines';
export const TEST_FIELD_MANAGER = 'ocr-operator-tests';
export const PIPELINE_LABEL = 'ocrplatform.io/pipeline';

/** The kinds the operator manages, for listing children. */
export const CHILD_KINDS = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
] as const;

/** The children every pipeline with autoscaled API and workers (min < max) gets. */
export function expectedChildren(pipeline: string): string[] {
  return [
    `Deployment/${pipeline}-api`,
    `Deployment/${pipeline}-worker`,
    `HorizontalPodAutoscaler/${pipeline}-api`,
    `HorizontalPodAutoscaler/${pipeline}-worker`,
    `PodDisruptionBudget/${pipeline}-api`,
    `PodDisruptionBudget/${pipeline}-worker`,
    `Service/${pipeline}-api`,
  ];
}

export const skipWithoutCluster = process.env.OCR_TEST_SKIP_CLUSTER ? 'OCR_TEST_SKIP_CLUSTER is set' : false;

export interface TestCluster {
  kc: KubeConfig;
  kubeconfigPath: string;
  /** Stops a cluster this file started; leaves the shared one running. */
  stop(): Promise<void>;
}

/** hack/test.sh's cluster (OCR_TEST_KUBECONFIG), else a cluster of our own named `name`. */
export async function testCluster(name: string): Promise<TestCluster> {
  const shared = process.env.OCR_TEST_KUBECONFIG;
  if (shared) return { kc: loadKubeConfig(shared), kubeconfigPath: shared, stop: async () => {} };
  const cluster = await startCluster({ name, withMetrics: false, log: (line) => console.error(`  ${line}`) });
  return { kc: loadKubeConfig(cluster.kubeconfigPath), kubeconfigPath: cluster.kubeconfigPath, stop: () => cluster.stop() };
}

/** A namespace name unique to this process and purpose (max 63 characters). */
export const uniqueNamespace = (purpose: string): string => `op-${purpose}-${process.pid}-${Date.now().toString(36)}`.slice(0, 63);

export async function createNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name, labels: { 'ocrplatform.io/test': 'operator' } } } });
}

/** Deletes without waiting: the namespace controller finishes it in the background. */
export async function deleteNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kc
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name })
    .catch(() => undefined);
}

/** Server-side apply with the tests' field manager (or another one, to play an HPA or a user). */
export async function apply(kc: KubeConfig, obj: KubernetesObject, fieldManager = TEST_FIELD_MANAGER): Promise<KubernetesObject> {
  return await KubernetesObjectApi.makeApiClient(kc).patch(obj, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
}

export function yamlObjects(path: string): KubernetesObject[] {
  return parseAllDocuments(readFileSync(join(ROOT, path), 'utf8'))
    .map((d) => d.toJS() as KubernetesObject)
    .filter(Boolean);
}

/**
 * Applies the generated CRD with kubectl (server-side) and waits until it is Established.
 * Not KubernetesObjectApi.patch: its serializer maps a CRD onto the typed model, whose
 * property is `x_kubernetes_validations`, and silently drops `x-kubernetes-validations`
 * (and the other x-kubernetes-* keys): the CEL rules would never reach the API server.
 */
export async function installCrd(kc: KubeConfig, kubeconfigPath: string): Promise<void> {
  const file = join(ROOT, 'config/crd/ocrplatform.io_ocrpipelines.yaml');
  await execFileAsync(
    join(defaultBinDir(), 'kubectl'),
    ['--kubeconfig', kubeconfigPath, 'apply', '--server-side', '--force-conflicts', `--field-manager=${TEST_FIELD_MANAGER}`, '-f', file],
    { timeout: 30_000 },
  );
  const objects = KubernetesObjectApi.makeApiClient(kc);
  for (const crd of yamlObjects('config/crd/ocrplatform.io_ocrpipelines.yaml')) {
    await waitFor(
      `CRD ${crd.metadata?.name ?? ''} to be Established`,
      async () => {
        const got = (await objects.read({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          metadata: { name: crd.metadata?.name ?? '' },
        })) as { status?: { conditions?: Array<{ type: string; status: string }> } };
        return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
      },
      30_000,
      250,
    );
  }
}

/** The setup every operator test starts with: a cluster, the CRD installed, and its own namespace `ns`. */
export async function clusterWithNamespace(name: string, ns: string): Promise<TestCluster> {
  const cluster = await testCluster(name);
  await installCrd(cluster.kc, cluster.kubeconfigPath);
  await createNamespace(cluster.kc, ns);
  return cluster;
}

/** The teardown every operator test ends with (after stopping its operators): the namespace, then the cluster. */
export async function closeNamespace(cluster: TestCluster | undefined, ns: string): Promise<void> {
  if (!cluster) return;
  await deleteNamespace(cluster.kc, ns);
  await cluster.stop();
}

/** Queue polls every 500 ms (backoff 200-500 ms, status refresh 500 ms): a test sees many polls within seconds, where the default waits a minute. */
export const FAST_QUEUE_POLL = 'idleMs=500,busyMs=500,backoffBaseMs=200,backoffMaxMs=500,statusRefreshMs=500';

/** The operator as a real process on the test cluster, watching only `ns`; `options` add the flags a test needs (resync, queue poll, concurrency). */
export function startOperatorIn(
  cluster: TestCluster,
  ns: string,
  options: Omit<OperatorProcessOptions, 'kubeconfigPath' | 'namespaces'> = {},
): Promise<OperatorProcess> {
  return startOperatorProcess({ kubeconfigPath: cluster.kubeconfigPath, namespaces: [ns], ...options });
}

/** A sample from config/samples/, moved into `namespace`. */
export function sample(file: 'ocrpipeline-minimal.yaml' | 'ocrpipeline-full.yaml', namespace: string): KubernetesObject {
  const [obj] = yamlObjects(`config/samples/${file}`);
  if (!obj?.metadata) throw new Error(`config/samples/${file} holds no object`);
  return { ...obj, metadata: { ...obj.metadata, namespace } };
}

/**
 * A connection string that parses but points at a closed loopback port, outside the Azure
 * Service Bus domains: the operator's egress policy refuses it before any request
 * (QueueReachable=False NamespaceNotAllowed), without the Azure CLI or the network.
 */
export const UNREACHABLE_CONNECTION_STRING = 'Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=dGVzdA==';

export function secret(namespace: string, name: string, data: Record<string, string>): KubernetesObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData: data } as KubernetesObject;
}

/** A small pipeline: Service Bus by connection-string Secret `servicebus`, autoscaled API and workers. */
export type PipelineManifest = KubernetesObject & { spec: Record<string, unknown> };

export function pipeline(namespace: string, name: string, spec: Record<string, unknown> = {}): PipelineManifest {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'OcrPipeline',
    metadata: { name, namespace },
    spec: {
      image: 'example.invalid/ocr-platform:it',
      queue: { serviceBus: { connectionStringSecretRef: { name: 'servicebus', key: 'connectionString' }, queueName: 'ocr-jobs' } },
      storage: { blob: { accountUrl: 'https://example.invalid', container: 'ocr' } },
      api: { replicas: { min: 1, max: 3 } },
      worker: { replicas: { min: 1, max: 3 } },
      ...spec,
    },
  };
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}
export interface PipelineState {
  uid: string;
  generation: number;
  resourceVersion: string;
  status?: { observedGeneration?: number; conditions?: Condition[] };
}

export async function readPipeline(kc: KubeConfig, namespace: string, name: string): Promise<PipelineState | undefined> {
  try {
    const o = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })) as {
      metadata: { uid: string; generation: number; resourceVersion: string };
      status?: PipelineState['status'];
    };
    return { uid: o.metadata.uid, generation: o.metadata.generation, resourceVersion: o.metadata.resourceVersion, ...(o.status ? { status: o.status } : {}) };
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

export const condition = (p: PipelineState | undefined, type: string): Condition | undefined => p?.status?.conditions?.find((c) => c.type === type);

/** Ready=True and status.observedGeneration equal to metadata.generation. */
export function isReadyAtCurrentGeneration(p: PipelineState | undefined): boolean {
  const ready = condition(p, 'Ready');
  return ready?.status === 'True' && p?.status?.observedGeneration === p?.generation;
}

export interface Child {
  /** "Kind/name" */
  id: string;
  resourceVersion: string;
  owners: V1OwnerReference[];
  labels: Record<string, string>;
}

/** Every child of the managed kinds in `namespace`; with `pipeline`, only that pipeline's (by label). */
export async function listChildren(kc: KubeConfig, namespace: string, pipelineName?: string): Promise<Child[]> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const selector = pipelineName ? `${PIPELINE_LABEL}=${pipelineName}` : undefined;
  const lists = await Promise.all(
    CHILD_KINDS.map(async (k) =>
      (await objects.list(k.apiVersion, k.kind, namespace, undefined, undefined, undefined, undefined, selector)).items.map((o) => ({
        id: `${k.kind}/${o.metadata?.name ?? ''}`,
        resourceVersion: o.metadata?.resourceVersion ?? '',
        owners: o.metadata?.ownerReferences ?? [],
        labels: o.metadata?.labels ?? {},
      })),
    ),
  );
  // Services the API server makes itself (none in a fresh namespace) carry no pipeline label.
  return lists
    .flat()
    .filter((c) => pipelineName !== undefined || c.labels[PIPELINE_LABEL] !== undefined)
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** Pods of a namespace, for readiness checks. */
export async function podsReady(kc: KubeConfig, namespace: string): Promise<{ total: number; ready: number }> {
  const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace });
  const ready = pods.items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
  return { total: pods.items.length, ready };
}

/** `ids` of children -> resourceVersion, plus the pipelines', for "nothing was written" checks. */
export async function resourceVersions(kc: KubeConfig, namespace: string, pipelines: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const c of await listChildren(kc, namespace)) out[c.id] = c.resourceVersion;
  for (const name of pipelines) out[`OcrPipeline/${name}`] = (await readPipeline(kc, namespace, name))?.resourceVersion ?? 'missing';
  return out;
}

/** waitFor with these tests' interval (300 ms); on timeout the error carries `context()`. */
export const eventually = (what: string, check: () => Promise<boolean>, timeoutMs: number, context: () => Promise<string> | string = () => ''): Promise<void> =>
  waitFor(what, check, timeoutMs, { intervalMs: 300, detail: context });

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
