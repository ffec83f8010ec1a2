// The e2e suite's shared pieces: its settings (from the environment), named stages that
// print progress and have a hard timeout, and thin kubectl/helm wrappers bound to the
// suite's kubeconfig. Everything here works against any cluster; what differs between
// the local control plane and a real one (kind) lives in backends.ts and operator.ts.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { runHelm, runTool } from '../chart/helm.ts';
import { waitFor, type WaitOptions } from '../support/ports.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART_DIR = join(ROOT, 'charts', 'ocr-platform');
export const CRD_NAME = 'ocrpipelines.ocrplatform.io';
export const SAMPLE_PIPELINE = join(ROOT, 'config', 'samples', 'local', 'ocrpipeline.yaml');
export const QUEUE = 'ocr-jobs';

/**
 * Where the operator and the pipeline's pods run:
 * - `process` (default; the local control plane, whose nodes are kwok fakes): the chart's
 *   operator Deployment is installed but nothing runs its pods, so the suite runs the
 *   operator as a process with the chart's flags and the chart's ServiceAccount token;
 *   Azurite and the Service Bus stand-in run as processes on loopback; the pipeline's API
 *   and worker pods run as host processes through the local node agent (src/local).
 * - `incluster` (kind or any cluster with real nodes that can run the image): the
 *   operator Deployment runs for real; Azurite and the stand-in run as Deployments; the
 *   API is reached through a NodePort (kind-config.yaml maps it to the host).
 */
export type OperatorMode = 'process' | 'incluster';

export interface E2eSettings {
  mode: OperatorMode;
  /** The image of the operator, API and workers, repository:tag. */
  image: { repository: string; tag: string; pullPolicy: 'Always' | 'IfNotPresent' | 'Never' };
  /** incluster: the API's URL from this machine and the node port behind it. */
  apiUrl: string;
  apiNodePort: number;
  /** incluster: the Prometheus URL the operator queries (chart value prometheusUrl); may be empty. */
  prometheusUrl: string;
  /** Names of everything the suite creates, unique per run so a shared cluster is safe. */
  release: string;
  releaseNamespace: string;
  namespace: string;
  pipeline: string;
}

function parseImage(ref: string): { repository: string; tag: string } {
  const at = ref.lastIndexOf(':');
  if (at <= ref.lastIndexOf('/')) throw new Error(`E2E_IMAGE must be repository:tag (for example ocr-platform:e2e), got "${ref}"`);
  return { repository: ref.slice(0, at), tag: ref.slice(at + 1) };
}

export function settingsFrom(env: NodeJS.ProcessEnv, pid = process.pid): E2eSettings {
  const mode = env.E2E_OPERATOR ?? 'process';
  if (mode !== 'process' && mode !== 'incluster') {
    throw new Error(
      `E2E_OPERATOR must be "process" (local control plane: operator, API and workers run as processes) or "incluster" (kind: everything runs in pods), got "${mode}"`,
    );
  }
  const pullPolicy = env.E2E_IMAGE_PULL_POLICY ?? 'IfNotPresent';
  if (pullPolicy !== 'Always' && pullPolicy !== 'IfNotPresent' && pullPolicy !== 'Never') {
    throw new Error(`E2E_IMAGE_PULL_POLICY must be Always, IfNotPresent or Never, got "${pullPolicy}"`);
  }
  const nodePort = Number(env.E2E_API_NODE_PORT ?? 30080);
  if (!Number.isInteger(nodePort) || nodePort < 30000 || nodePort > 32767) {
    throw new Error(`E2E_API_NODE_PORT must be a node port (30000-32767), got "${env.E2E_API_NODE_PORT}"`);
  }
  return {
    mode,
    image: { ...parseImage(env.E2E_IMAGE ?? 'ocr-platform:e2e'), pullPolicy },
    apiUrl: (env.E2E_API_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, ''),
    apiNodePort: nodePort,
    prometheusUrl: env.E2E_PROMETHEUS_URL ?? '',
    release: `e2e-${pid}`,
    releaseNamespace: `e2e-system-${pid}`,
    namespace: `e2e-${pid}`,
    pipeline: 'receipts',
  };
}

// ---- stages -------------------------------------------------------------------------

const began = Date.now();
export const elapsed = (): string => `${((Date.now() - began) / 1000).toFixed(1).padStart(6)}s`;

/** Progress on stderr at once (node:test diagnostics only show up when a test ends). */
export function progress(line: string): void {
  process.stderr.write(`  [e2e ${elapsed()}] ${line}\n`);
}

/**
 * Polls `check` every `intervalMs` until it returns true, for at most `timeoutMs`;
 * `what` names the wait in progress lines and in the timeout error, and `detail` (when
 * given) is appended to that error: usually the state that was not reached.
 */
export const poll = (what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, options: Omit<WaitOptions, 'progress'> = {}): Promise<void> =>
  waitFor(what, check, timeoutMs, { ...options, intervalMs: options.intervalMs ?? 1_000, progress });

// ---- kubectl and helm ---------------------------------------------------------------

export interface Cli {
  kubeconfig: string;
  /** kubectl with the suite's kubeconfig; throws with kubectl's message on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** kubectl ... -o json, parsed. */
  json<T = Json>(args: string[]): Promise<T>;
  /** helm with the suite's kubeconfig; resolves with the exit code and output. */
  helm(args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** A JSON object read back from the API server; tests read it field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export function cli(kubeconfig: string): Cli {
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const result = await runTool('kubectl', ['--kubeconfig', kubeconfig, ...args], { input, timeoutMs: 90_000 });
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
    return result.stdout;
  };
  return {
    kubeconfig,
    kubectl,
    json: async (args) => JSON.parse(await kubectl([...args, '-o', 'json'])),
    helm: (args, timeoutMs = 180_000) => runHelm([...args, '--kubeconfig', kubeconfig], { timeoutMs }),
  };
}

/**
 * Every listable kind the API server serves (namespaced and cluster-scoped), so "nothing
 * is left behind" means every kind, not a list someone has to remember to extend.
 * Events are left out: they are records of what happened, and expire on their own.
 */
export async function listableKinds(k: Cli): Promise<{ namespaced: string[]; cluster: string[] }> {
  const names = async (namespaced: boolean) =>
    (await k.kubectl(['api-resources', '--verbs=list', `--namespaced=${namespaced}`, '-o', 'name']))
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s && !/^events(\.events\.k8s\.io)?$/.test(s));
  return { namespaced: await names(true), cluster: await names(false) };
}

/** `kind/name` of every object matching `selector`: in the namespaces given (or all) and, optionally, cluster-wide. */
export async function objectsWith(
  k: Cli,
  kinds: { namespaced: string[]; cluster: string[] },
  selector: string,
  scope: { namespaces: string[] | 'all'; clusterScoped: boolean },
): Promise<string[]> {
  const get = async (args: string[]) => (await k.kubectl(['get', ...args, '-l', selector, '--ignore-not-found', '-o', 'name'])).split('\n').filter(Boolean);
  const found: string[] = [];
  if (scope.namespaces === 'all') found.push(...(await get([kinds.namespaced.join(','), '--all-namespaces'])));
  else for (const ns of scope.namespaces) found.push(...(await get([kinds.namespaced.join(','), '-n', ns])).map((n) => `${ns}/${n}`));
  if (scope.clusterScoped) found.push(...(await get([kinds.cluster.join(',')])));
  return found;
}

// ---- the pipeline -------------------------------------------------------------------

/**
 * The pipeline under test: the local sample (config/samples/local/ocrpipeline.yaml: quick
 * probes, small requests, messagesPerReplica 2) in the suite's namespace, with Secrets by
 * reference, at most 3 workers (a 2-core machine runs them all) and, on the local control
 * plane, a nodeSelector for the node agent's node (its pods really run there).
 */
export function pipelineManifest(s: E2eSettings, nodeSelector: Record<string, string> | undefined): Json {
  const sample = parse(readFileSync(SAMPLE_PIPELINE, 'utf8'));
  const spec = { ...sample.spec };
  spec.image = `${s.image.repository}:${s.image.tag}`;
  spec.imagePullPolicy = s.image.pullPolicy;
  spec.worker = { ...spec.worker, replicas: { min: 1, max: MAX_WORKERS } };
  spec.queue = { serviceBus: { connectionStringSecretRef: { name: SECRETS.serviceBus, key: 'connectionString' }, queueName: QUEUE } };
  spec.storage = { blob: { connectionStringSecretRef: { name: SECRETS.storage, key: 'connectionString' }, container: 'ocr' } };
  spec.api = { ...spec.api, apiKeysSecretRef: { name: SECRETS.apiKeys, key: 'keys' } };
  spec.webhookSecretRef = { name: SECRETS.webhook, key: 'signingKey' };
  const { nodeSelector: _sampleSelector, ...pod } = spec.pod ?? {};
  spec.pod = nodeSelector ? { ...pod, nodeSelector } : pod;
  if (Object.keys(spec.pod).length === 0) delete spec.pod;
  return { apiVersion: 'ocrplatform.io/v1alpha1', kind: 'OcrPipeline', metadata: { name: s.pipeline, namespace: s.namespace }, spec };
}

export const MAX_WORKERS = 3;
export const SECRETS = { serviceBus: 'e2e-servicebus', storage: 'e2e-storage', apiKeys: 'e2e-api-keys', webhook: 'e2e-webhook' } as const;

export function secretManifest(namespace: string, name: string, data: Record<string, string>): Json {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', stringData: data };
}

/** The Lease holder identity an operator replica writes: `<hostname>_<8 hex>` (src/operator/main.ts). */
export function holderHost(identity: string | undefined): string | undefined {
  const m = /^(.+)_[0-9a-f]{8}$/.exec(identity ?? '');
  return m?.[1];
}

export const thisHost = hostname;
