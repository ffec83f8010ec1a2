// Runs the real helm binary against charts/ocr-platform for the chart tests. helm is built
// by hack/tools.sh (`npm run tools`) into $OCR_CACHE_DIR/bin; a helm on PATH works too.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART_DIR = join(root, 'charts', 'ocr-platform');
export const FULL_VALUES = join(root, 'test', 'chart', 'values-full.yaml');

/** The release the tests render: a fixed name and namespace keep snapshots stable. */
export const RELEASE = { name: 'ocr-platform', namespace: 'ocr-system' } as const;
/** Kubernetes version the chart is rendered for (the one hack/tools.sh builds). */
export const KUBE_VERSION = 'v1.36.3';

/**
 * A field of a rendered manifest. Tests read manifests field by field and assert on what
 * they find; a missing field fails the assertion (or throws), so `any` hides nothing here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Field = any;

/** Kubernetes object as rendered by helm; only the fields the tests read are typed. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: Field;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Path of a tool from hack/tools.sh ($OCR_CACHE_DIR/bin) or PATH, or undefined. */
export function findTool(name: string): string | undefined {
  const cache = process.env.OCR_CACHE_DIR ?? join(homedir(), '.cache', 'ocr-platform');
  const dirs = [join(cache, 'bin'), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  return dirs.map((dir) => join(dir, name)).find(executable);
}

export const findHelm = (): string | undefined => findTool('helm');

export const HELM_MISSING = 'helm not found: run `npm run tools` (hack/tools.sh builds it into $HOME/.cache/ocr-platform/bin) or put helm on PATH';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool with a time limit (and optional stdin); resolves with the exit code instead of throwing. */
export function runTool(name: string, args: string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ToolResult> {
  const path = findTool(name);
  if (!path) return Promise.reject(new Error(name === 'helm' ? HELM_MISSING : `${name} not found: run \`npm run tools\` or put it on PATH`));
  return new Promise((resolve) => {
    const env = { ...process.env, ...options.env };
    const child = execFile(path, args, { timeout: options.timeoutMs ?? 60_000, env, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(options.input ?? '');
  });
}

/** Runs helm; its cache and config live under .tmp/ (git-ignored), never in a user's helm config. */
export function runHelm(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ToolResult> {
  const dirs = {
    HELM_CACHE_HOME: join(root, '.tmp', 'helm', 'cache'),
    HELM_CONFIG_HOME: join(root, '.tmp', 'helm', 'config'),
    HELM_DATA_HOME: join(root, '.tmp', 'helm', 'data'),
  };
  return runTool('helm', args, { ...options, env: { ...dirs, ...options.env } });
}

export interface RenderOptions {
  /** --set-json pairs, for example {replicaCount: 3, 'image.tag': '1.2.3'}. */
  set?: Record<string, unknown>;
  /** extra values files, applied before `set`. */
  valuesFiles?: string[];
  /** API versions the cluster is said to serve (helm --api-versions), e.g. monitoring.coreos.com/v1/PodMonitor. */
  apiVersions?: string[];
}

/** What a cluster with the Prometheus Operator serves: the chart then renders its PodMonitor and PrometheusRule. */
export const PROMETHEUS_OPERATOR_APIS = [
  'monitoring.coreos.com/v1/PodMonitor',
  'monitoring.coreos.com/v1/PrometheusRule',
  'monitoring.coreos.com/v1/ServiceMonitor',
];

export function templateArgs(options: RenderOptions & { release?: string; namespace?: string }): string[] {
  const args = ['template', options.release ?? RELEASE.name, CHART_DIR, '--namespace', options.namespace ?? RELEASE.namespace, '--kube-version', KUBE_VERSION];
  for (const file of options.valuesFiles ?? []) args.push('--values', file);
  for (const [key, value] of Object.entries(options.set ?? {})) args.push('--set-json', `${key}=${JSON.stringify(value)}`);
  for (const apiVersion of options.apiVersions ?? []) args.push('--api-versions', apiVersion);
  return args;
}

const rendered = new Map<string, Promise<string>>();

/**
 * `helm template` output as text; throws with helm's message when rendering fails.
 * Rendering is deterministic, so one run per distinct set of options is enough (many
 * tests read the default render; each helm run costs ~0.4 s on a busy machine).
 */
export function renderText(options: RenderOptions = {}): Promise<string> {
  const key = JSON.stringify(options);
  let text = rendered.get(key);
  if (!text) {
    text = runHelm(templateArgs(options)).then((result) => {
      if (result.code !== 0) throw new Error(`helm template failed (exit ${result.code}): ${result.stderr.trim()}`);
      return result.stdout;
    });
    rendered.set(key, text);
  }
  return text;
}

/** `helm template` output as objects. */
export async function render(options: RenderOptions = {}): Promise<Manifest[]> {
  return parseManifests(await renderText(options));
}

/** `helm template` that is expected to fail: resolves with helm's error output. */
export async function renderError(options: RenderOptions): Promise<string> {
  const result = await runHelm(templateArgs(options));
  if (result.code === 0) throw new Error(`helm template succeeded, but a failure was expected for ${JSON.stringify(options)}`);
  return result.stderr;
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

export function findAll(manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

/** The one manifest of a kind (and name suffix); throws listing what was rendered otherwise. */
export function findOne(manifests: Manifest[], kind: string, nameSuffix = ''): Manifest {
  const found = manifests.filter((m) => m.kind === kind && m.metadata.name.endsWith(nameSuffix));
  if (found.length !== 1) {
    const rendered = manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ');
    throw new Error(`expected one ${kind} named *${nameSuffix}, found ${found.length} among: ${rendered}`);
  }
  return found[0]!;
}

/** The operator container of the rendered Deployment. */
export function operatorContainer(manifests: Manifest[]): Field {
  return findOne(manifests, 'Deployment').spec.template.spec.containers[0];
}
