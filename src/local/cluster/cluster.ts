// Starts and stops the local control plane: etcd -> kube-apiserver ->
// kube-controller-manager + kube-scheduler -> kwok -> fake nodes [-> Prometheus ->
// prometheus-adapter -> APIService]. Each step waits on the component's health
// with a timeout; a failed start tears down whatever it had started.
import { freePort } from '../../shared/net.ts';
import { KubeConfig, CoreV1Api, KubernetesObjectApi, type V1Node } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  adapterArgs,
  apiserverArgs,
  AUDIT_POLICY,
  controllerManagerArgs,
  etcdArgs,
  KUBERNETES_SERVICE_IP,
  kwokArgs,
  prometheusArgs,
  schedulerArgs,
  TEST_TIMING,
  type AuditFiles,
  type Ports,
  type Profile,
  type Timing,
} from './args.ts';
import { fakeNode, KWOK_STAGES } from './kwok.ts';
import {
  adapterRegistration,
  DEFAULT_ADAPTER_CONFIG,
  EXTERNAL_METRICS_APISERVICE,
  fileSdTargets,
  parseScrapeTarget,
  prometheusConfig,
} from './metrics-config.ts';
import { generatePki, kubeconfigYaml, type ClientName, type Pki } from './pki.ts';
import { get, isOurProcess, startProcess, stopProcess, waitHealthy, type StartedProcess, type TlsClient } from './processes.ts';
import { acquireLock, defaultBinDir, defaultStateDir, readState, removeState, validateName, writeState, type ClusterState } from './state.ts';

export interface ClusterOptions {
  /** cluster name; state lives in <cacheDir>/clusters/<name> unless stateDir is given */
  name: string;
  /** $OCR_CACHE_DIR or its default, from the caller's environment: cacheDir(process.env) in state.ts */
  cacheDir: string;
  stateDir?: string;
  /** where hack/tools.sh put the binaries (default <cacheDir>/bin) */
  binDir?: string;
  /** also run Prometheus and prometheus-adapter as external.metrics.k8s.io */
  withMetrics?: boolean;
  /** prometheus-adapter config file (default: a rule for ocr_queue_backlog{namespace,pipeline}) */
  adapterConfigPath?: string;
  /** loopback host:port targets Prometheus scrapes at /metrics */
  scrapeTargets?: string[];
  /** number of fake nodes (default 2) */
  nodes?: number;
  timing?: Partial<Timing>;
  /**
   * 'bench': raised client rates and sync workers for kube-controller-manager and the scheduler,
   * and an audit log of every write (args.ts, Profile). Default 'default'. A running cluster is
   * reused only when it was started with the same profile.
   */
  profile?: Profile;
  /**
   * What to do when a healthy cluster of this name already runs: 'reuse' it (default;
   * `cluster:up` is idempotent), or 'restart' it from scratch (tests that must not see
   * objects left by an earlier, crashed run).
   */
  ifRunning?: 'reuse' | 'restart';
  /** progress lines (default: stderr) */
  log?: (line: string) => void;
}

export interface Cluster {
  name: string;
  stateDir: string;
  kubeconfigPath: string;
  apiServerUrl: string;
  logsDir: string;
  /** set when started with metrics */
  prometheusUrl?: string;
  /** A kubeconfig for the operator with its own identity (CN=ocr-operator, a master), so its requests can be told apart. */
  operatorKubeconfigPath: string;
  /** The apiserver's audit log (one JSON line per write); set in the 'bench' profile. */
  auditLogPath?: string;
  /** true when an already running cluster was found and returned as is */
  reused: boolean;
  /** seconds the start took (0 when reused) */
  startSeconds: number;
  /** replaces Prometheus' scrape targets (picked up within one scrape interval) */
  setScrapeTargets(targets: readonly string[]): void;
  /** stops every component; a reused cluster is left running (it belongs to whoever started it) */
  stop(): Promise<void>;
}

const TIMEOUTS = { etcd: 30_000, apiserver: 90_000, controllers: 60_000, kwok: 30_000, nodes: 60_000, prometheus: 30_000, adapter: 60_000 };

const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;

function defaultLog(line: string): void {
  process.stderr.write(`[cluster ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

export function requireBinaries(binDir: string, names: readonly string[]): Record<string, string> {
  const missing = names.filter((n) => !existsSync(join(binDir, n)));
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')} in ${binDir}: build them with \`npm run tools\` (a cold build takes 20-40 min; see hack/README.md)`);
  }
  return Object.fromEntries(names.map((n) => [n, join(binDir, n)]));
}

const PROMETHEUS_PATHS = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'];

/**
 * Debian's prometheus, installed when missing (as root). We never use the packaged
 * daemon (it may run on :9090 where systemd exists): ours runs on a free port with
 * its own config and data dir.
 */
export function ensurePrometheus(log: (line: string) => void): string {
  const found = PROMETHEUS_PATHS.find((p) => existsSync(p));
  if (found) return found;
  const hint = 'apt-get update && apt-get install -y --no-install-recommends prometheus';
  if (process.getuid?.() !== 0) throw new Error(`prometheus is not installed and we are not root: run \`sudo sh -c '${hint}'\``);
  log("prometheus is missing: installing Debian's package (apt-get)");
  try {
    execFileSync('sh', ['-c', `${hint} >/dev/null`], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (error) {
    throw new Error(`installing prometheus failed (${hint}): ${(error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error)}`);
  }
  const installed = PROMETHEUS_PATHS.find((p) => existsSync(p));
  if (!installed) throw new Error(`\`${hint}\` ran but no prometheus binary appeared in ${PROMETHEUS_PATHS.join(' or ')}`);
  return installed;
}

export function loadKubeConfig(kubeconfigPath: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

function adminTls(pki: Pki): TlsClient {
  return { ca: readFileSync(pki.caCert), cert: readFileSync(pki.clients.admin.cert), key: readFileSync(pki.clients.admin.key) };
}

const isOk = async (url: string, tls: TlsClient = {}): Promise<boolean> => (await get(url, tls)).status === 200;

function statusCode(error: unknown): number | undefined {
  return (error as { code?: number }).code;
}

/** Is the cluster described by `state` up? Every recorded process alive and the apiserver ready. */
export async function isHealthy(state: ClusterState): Promise<boolean> {
  if (!state.readyAt || !state.processes.every((p) => isOurProcess(p.pid, p.binary))) return false;
  try {
    const kc = loadKubeConfig(state.kubeconfigPath);
    const user = kc.getCurrentUser();
    const cluster = kc.getCurrentCluster();
    const tls: TlsClient = {
      ca: Buffer.from(cluster?.caData ?? '', 'base64'),
      cert: Buffer.from(user?.certData ?? '', 'base64'),
      key: Buffer.from(user?.keyData ?? '', 'base64'),
    };
    return await isOk(`${state.apiServerUrl}/readyz`, tls);
  } catch {
    return false;
  }
}

/**
 * Prometheus watches the file_sd file with inotify and reads it at once: a plain
 * write is seen half-written ("unexpected end of JSON input"), so write + rename.
 */
function writeTargets(file: string, targets: readonly string[]): void {
  const content = fileSdTargets(targets);
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
}

const operatorKubeconfigOf = (stateDir: string): string => join(stateDir, 'operator.kubeconfig');
const auditFilesOf = (logsDir: string): AuditFiles => ({ policyFile: join(logsDir, 'audit-policy.yaml'), logFile: join(logsDir, 'audit.log') });

function handle(state: ClusterState, reused: boolean, startSeconds: number, log: (line: string) => void): Cluster {
  return {
    name: state.name,
    stateDir: state.stateDir,
    kubeconfigPath: state.kubeconfigPath,
    apiServerUrl: state.apiServerUrl,
    logsDir: state.logsDir,
    prometheusUrl: state.metrics?.prometheusUrl,
    operatorKubeconfigPath: operatorKubeconfigOf(state.stateDir),
    auditLogPath: state.profile === 'bench' ? auditFilesOf(state.logsDir).logFile : undefined,
    reused,
    startSeconds,
    setScrapeTargets(targets) {
      if (!state.metrics) throw new Error(`cluster ${state.name} runs without metrics: start it with withMetrics: true (--with-metrics)`);
      writeTargets(state.metrics.targetsFile, targets);
    },
    async stop() {
      if (reused) return;
      await stopCluster({ stateDir: state.stateDir, log });
    },
  };
}

/** A running cluster is reused only when it has what the caller asks for (metrics, the same profile). */
function refuseMismatch(existing: ClusterState, options: ClusterOptions): void {
  const stopFirst = `stop it first (npm run cluster:down -- --name ${existing.name}) or use another name`;
  if ((existing.profile ?? 'default') !== (options.profile ?? 'default')) {
    throw new Error(`cluster ${existing.name} is running with profile ${existing.profile ?? 'default'}; ${stopFirst}`);
  }
  if (options.withMetrics && !existing.metrics) throw new Error(`cluster ${existing.name} is running without metrics; ${stopFirst}`);
}

/** The apiserver's audit files in the bench profile (policy written now), else undefined. */
function auditFor(profile: Profile, logsDir: string): AuditFiles | undefined {
  if (profile !== 'bench') return undefined;
  const audit = auditFilesOf(logsDir);
  writeFileSync(audit.policyFile, AUDIT_POLICY);
  return audit;
}

/**
 * Starts a cluster, or returns the one already running under that name
 * (idempotent). Throws with the failing component's log tail when a step fails,
 * after stopping whatever this call started.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const name = validateName(options.name);
  const stateDir = options.stateDir ?? defaultStateDir(options.cacheDir, name);
  const log = options.log ?? defaultLog;
  const timing: Timing = { ...TEST_TIMING, ...options.timing };
  const nodeCount = options.nodes ?? 2;
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 50) throw new Error(`nodes must be an integer from 1 to 50, got ${nodeCount}`);
  const scrapeTargets = (options.scrapeTargets ?? []).map(parseScrapeTarget);
  if (options.adapterConfigPath && !existsSync(options.adapterConfigPath)) throw new Error(`adapter config ${options.adapterConfigPath} does not exist`);
  const binDir = options.binDir ?? defaultBinDir(options.cacheDir);
  const bins = requireBinaries(binDir, options.withMetrics ? [...BINARIES, 'adapter'] : BINARIES);
  const prometheusBin = options.withMetrics ? ensurePrometheus(log) : '';

  const release = acquireLock(stateDir);
  try {
    const existing = readState(stateDir);
    if (existing && options.ifRunning === 'restart') {
      log(`cluster ${name} exists: stopping it for a fresh start`);
      await stopFromState(existing, log);
    } else if (existing && (await isHealthy(existing))) {
      refuseMismatch(existing, options);
      log(`cluster ${name} is already running`);
      const cluster = handle(existing, true, 0, log);
      if (options.scrapeTargets && existing.metrics) cluster.setScrapeTargets(scrapeTargets);
      return cluster;
    } else if (existing) {
      log(`cluster ${name} has a state file but is not healthy: cleaning up its leftovers first`);
      await stopFromState(existing, log);
    }
    return await freshStart({ name, stateDir, log, timing, nodeCount, scrapeTargets, bins, prometheusBin, options });
  } finally {
    release();
  }
}

interface StartContext {
  name: string;
  stateDir: string;
  log: (line: string) => void;
  timing: Timing;
  nodeCount: number;
  scrapeTargets: string[];
  bins: Record<string, string>;
  prometheusBin: string;
  options: ClusterOptions;
}

async function freshStart(ctx: StartContext): Promise<Cluster> {
  const { name, stateDir, log, timing, bins } = ctx;
  const began = Date.now();
  for (const sub of ['pki', 'logs', 'etcd', 'prometheus', 'adapter']) rmSync(join(stateDir, sub), { recursive: true, force: true });
  const logsDir = join(stateDir, 'logs');
  mkdirSync(logsDir, { recursive: true });

  const ports: Ports = {
    etcdClient: await freePort(),
    etcdPeer: await freePort(),
    apiserver: await freePort(),
    controllerManager: await freePort(),
    scheduler: await freePort(),
    kwok: await freePort(),
  };
  const apiServerUrl = `https://127.0.0.1:${ports.apiserver}`;
  const kubeconfigPath = join(stateDir, 'admin.kubeconfig');
  const profile = ctx.options.profile ?? 'default';
  const state: ClusterState = { version: 1, name, stateDir, kubeconfigPath, apiServerUrl, logsDir, ports, processes: [], profile };
  writeState(state);

  const started: StartedProcess[] = [];
  const run = (component: string, binary: string, args: string[]): StartedProcess => {
    const p = startProcess(component, binary, args, join(logsDir, `${component}.log`));
    started.push(p);
    state.processes.push({ component, pid: p.pid, binary, logFile: p.logFile });
    writeState(state);
    return p;
  };
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    log(`${what} ...`);
    const result = await fn();
    log(`${what}: ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return result;
  };

  try {
    log(`starting cluster ${name}${profile === 'bench' ? ' (bench profile: raised controller/scheduler rates, audit log)' : ''}; logs in ${logsDir}`);
    const pki = await step('PKI and kubeconfigs', async () => generatePki(join(stateDir, 'pki'), KUBERNETES_SERVICE_IP));
    const kubeconfigFor = (client: ClientName, file: string): string => {
      const path = join(stateDir, file);
      writeFileSync(path, kubeconfigYaml(apiServerUrl, pki.caCert, pki.clients[client].cert, pki.clients[client].key, client), { mode: 0o600 });
      return path;
    };
    for (const [client, file] of [
      ['admin', 'admin.kubeconfig'],
      ['ocr-operator', 'operator.kubeconfig'],
    ] as const)
      kubeconfigFor(client, file);
    const kcmKubeconfig = kubeconfigFor('kube-controller-manager', 'kube-controller-manager.kubeconfig');
    const schedulerKubeconfig = kubeconfigFor('kube-scheduler', 'kube-scheduler.kubeconfig');
    const kwokKubeconfig = kubeconfigFor('kwok', 'kwok.kubeconfig');
    const tls = adminTls(pki);

    await step(`etcd on 127.0.0.1:${ports.etcdClient}`, async () => {
      const p = run('etcd', bins.etcd!, etcdArgs(ports, join(stateDir, 'etcd')));
      await waitHealthy(
        'etcd /health',
        async () => {
          const res = await get(`http://127.0.0.1:${ports.etcdClient}/health`);
          return res.status === 200 && (JSON.parse(res.body) as { health?: string }).health === 'true';
        },
        { timeoutMs: TIMEOUTS.etcd, process: p },
      );
    });

    await step(`kube-apiserver on ${apiServerUrl}`, async () => {
      const p = run('kube-apiserver', bins['kube-apiserver']!, apiserverArgs(ports, pki, auditFor(profile, logsDir)));
      await waitHealthy('kube-apiserver /readyz', () => isOk(`${apiServerUrl}/readyz`, tls), { timeoutMs: TIMEOUTS.apiserver, process: p });
    });

    await step(`kube-controller-manager (127.0.0.1:${ports.controllerManager}) and kube-scheduler (127.0.0.1:${ports.scheduler})`, async () => {
      const kcm = run('kube-controller-manager', bins['kube-controller-manager']!, controllerManagerArgs(ports, pki, kcmKubeconfig, timing, profile));
      const scheduler = run('kube-scheduler', bins['kube-scheduler']!, schedulerArgs(ports, schedulerKubeconfig, profile));
      const selfSigned = { ...tls, insecure: true };
      await Promise.all([
        waitHealthy('kube-controller-manager /healthz', () => isOk(`https://127.0.0.1:${ports.controllerManager}/healthz`, selfSigned), {
          timeoutMs: TIMEOUTS.controllers,
          process: kcm,
        }),
        waitHealthy('kube-scheduler /readyz', () => isOk(`https://127.0.0.1:${ports.scheduler}/readyz`, selfSigned), {
          timeoutMs: TIMEOUTS.controllers,
          process: scheduler,
        }),
      ]);
    });

    await step(`kwok (127.0.0.1:${ports.kwok})`, async () => {
      const stages = join(stateDir, 'kwok-stages.yaml');
      writeFileSync(stages, KWOK_STAGES);
      const p = run('kwok', bins.kwok!, kwokArgs(ports, kwokKubeconfig, stages));
      await waitHealthy('kwok /healthz', () => isOk(`http://127.0.0.1:${ports.kwok}/healthz`), { timeoutMs: TIMEOUTS.kwok, process: p });
    });

    const kc = loadKubeConfig(kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    await step(`${ctx.nodeCount} fake nodes Ready and schedulable, default ServiceAccount present`, () => createFakeNodes(core, ctx.nodeCount));

    if (ctx.options.withMetrics) await startMetrics(ctx, state, run, kc, step);

    state.readyAt = new Date().toISOString();
    writeState(state);
    const seconds = (Date.now() - began) / 1000;
    log(`cluster ${name} is up in ${seconds.toFixed(1)} s`);
    return handle(state, false, seconds, log);
  } catch (error) {
    log(`start failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    log(`tearing down what was started; logs stay in ${logsDir}`);
    await stopFromState(state, log);
    removeData(stateDir);
    throw error;
  }
}

/** Creates `count` kwok nodes and waits until they are schedulable and the `default` ServiceAccount exists. */
async function createFakeNodes(core: CoreV1Api, count: number): Promise<void> {
  const names = Array.from({ length: count }, (_, i) => `kwok-node-${i}`);
  for (const nodeName of names) await createIgnoringConflict(() => core.createNode({ body: fakeNode(nodeName) }));
  await waitHealthy(
    'fake nodes Ready without the not-ready taint',
    async () => {
      const nodes = await Promise.all(names.map((n) => core.readNode({ name: n })));
      return nodes.every(nodeSchedulable);
    },
    { timeoutMs: TIMEOUTS.nodes },
  );
  // ServiceAccount admission rejects pods until the serviceaccount controller made `default`
  await waitHealthy(
    'ServiceAccount default/default',
    async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return true;
    },
    { timeoutMs: TIMEOUTS.nodes },
  );
}

function nodeSchedulable(node: V1Node): boolean {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const tainted = (node.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/'));
  return ready && !tainted;
}

async function createIgnoringConflict(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (statusCode(error) !== 409) throw error;
  }
}

type Step = <T>(what: string, fn: () => Promise<T>) => Promise<T>;

async function startMetrics(
  ctx: StartContext,
  state: ClusterState,
  run: (c: string, b: string, a: string[]) => StartedProcess,
  kc: KubeConfig,
  step: Step,
): Promise<void> {
  const { stateDir, timing } = ctx;
  const prometheusPort = await freePort();
  const adapterPort = await freePort();
  state.ports.prometheus = prometheusPort;
  state.ports.adapter = adapterPort;
  const promDir = join(stateDir, 'prometheus');
  const adapterDir = join(stateDir, 'adapter');
  mkdirSync(join(promDir, 'data'), { recursive: true });
  mkdirSync(join(adapterDir, 'certs'), { recursive: true });
  const targetsFile = join(promDir, 'targets.json');
  writeTargets(targetsFile, ctx.scrapeTargets);
  writeFileSync(join(promDir, 'prometheus.yml'), prometheusConfig(targetsFile, timing.scrapeInterval));
  const adapterConfigPath = join(adapterDir, 'config.yaml');
  if (ctx.options.adapterConfigPath) copyFileSync(ctx.options.adapterConfigPath, adapterConfigPath);
  else writeFileSync(adapterConfigPath, DEFAULT_ADAPTER_CONFIG);
  const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  state.metrics = { prometheusUrl, adapterConfigPath, targetsFile, scrapeInterval: timing.scrapeInterval, adapterRelistInterval: timing.adapterRelistInterval };

  await step(`prometheus on ${prometheusUrl} (scrape interval ${timing.scrapeInterval}, targets ${ctx.scrapeTargets.join(', ') || 'none yet'})`, async () => {
    const p = run('prometheus', ctx.prometheusBin, prometheusArgs(prometheusPort, join(promDir, 'prometheus.yml'), join(promDir, 'data')));
    await waitHealthy('prometheus /-/ready', () => isOk(`${prometheusUrl}/-/ready`), { timeoutMs: TIMEOUTS.prometheus, process: p });
  });

  await step(`prometheus-adapter on 127.0.0.1:${adapterPort} (relist interval ${timing.adapterRelistInterval}, config ${adapterConfigPath})`, async () => {
    const p = run(
      'prometheus-adapter',
      ctx.bins.adapter!,
      adapterArgs(adapterPort, prometheusPort, state.kubeconfigPath, adapterConfigPath, join(adapterDir, 'certs'), timing),
    );
    await waitHealthy('prometheus-adapter /readyz', () => isOk(`https://127.0.0.1:${adapterPort}/readyz`, { insecure: true }), {
      timeoutMs: TIMEOUTS.adapter,
      process: p,
    });
    const objects = kc.makeApiClient(KubernetesObjectApi);
    const { namespace, service, apiService } = adapterRegistration(adapterPort);
    for (const object of [namespace, service, apiService]) await createIgnoringConflict(() => objects.create(object));
    await waitHealthy(
      `APIService ${EXTERNAL_METRICS_APISERVICE} Available`,
      async () => {
        const current = await objects.read({ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: EXTERNAL_METRICS_APISERVICE } });
        const conditions = (current as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? [];
        return conditions.some((c) => c.type === 'Available' && c.status === 'True');
      },
      { timeoutMs: TIMEOUTS.adapter, process: p },
    );
  });
}

/**
 * Deletes the external-metrics APIService while the apiserver still runs (an
 * unavailable aggregated API makes namespace deletion and garbage collection
 * stall), then stops every process in reverse start order.
 */
async function stopFromState(state: ClusterState, log: (line: string) => void): Promise<void> {
  const apiserver = state.processes.find((p) => p.component === 'kube-apiserver');
  if (state.metrics && apiserver && isOurProcess(apiserver.pid, apiserver.binary)) {
    try {
      const objects = loadKubeConfig(state.kubeconfigPath).makeApiClient(KubernetesObjectApi);
      await Promise.race([
        objects.delete({ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: EXTERNAL_METRICS_APISERVICE } }),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 5 s')), 5_000)),
      ]);
      log(`deleted APIService ${EXTERNAL_METRICS_APISERVICE}`);
    } catch (error) {
      if (statusCode(error) !== 404)
        log(`could not delete APIService ${EXTERNAL_METRICS_APISERVICE}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const p of [...state.processes].reverse()) {
    const how = await stopProcess(p.pid, p.binary);
    if (how !== 'not running') log(`${p.component} (pid ${p.pid}): ${how}`);
  }
  removeState(state.stateDir);
}

/** etcd and Prometheus data are worthless once the cluster stopped (tens of MB each); logs and PKI stay. */
function removeData(stateDir: string): void {
  for (const sub of ['etcd', 'prometheus']) rmSync(join(stateDir, sub), { recursive: true, force: true });
}

/** Stops the cluster recorded in the state dir (defaultStateDir(cacheDir, name) for a named one); a no-op when none is recorded. */
export async function stopCluster(options: { stateDir: string; log?: (line: string) => void }): Promise<boolean> {
  const { stateDir } = options;
  const log = options.log ?? defaultLog;
  const release = acquireLock(stateDir);
  try {
    const state = readState(stateDir);
    if (!state) return false;
    const t0 = Date.now();
    await stopFromState(state, log);
    removeData(stateDir);
    log(`cluster ${state.name} stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s (logs kept in ${state.logsDir})`);
    return true;
  } finally {
    release();
  }
}

export async function clusterStatus(options: { stateDir: string }): Promise<{ state?: ClusterState; healthy: boolean }> {
  const state = readState(options.stateDir);
  return { state, healthy: state ? await isHealthy(state) : false };
}

/** Lines printed at the end of `cluster:up`: where things are and how to stop them. */
export function summary(cluster: Pick<Cluster, 'name' | 'kubeconfigPath' | 'logsDir' | 'apiServerUrl' | 'prometheusUrl'>, state?: ClusterState): string {
  const lines = [
    `cluster:     ${cluster.name}`,
    `api server:  ${cluster.apiServerUrl}`,
    `kubeconfig:  ${cluster.kubeconfigPath}`,
    `             export KUBECONFIG=${cluster.kubeconfigPath}`,
    `logs:        ${cluster.logsDir}`,
  ];
  if (cluster.prometheusUrl)
    lines.push(
      `prometheus:  ${cluster.prometheusUrl} (scrape interval ${state?.metrics?.scrapeInterval ?? '?'}, targets file ${state?.metrics?.targetsFile ?? '?'})`,
    );
  if (state?.profile === 'bench') lines.push(`profile:     bench (raised controller/scheduler rates; audit log ${join(cluster.logsDir, 'audit.log')})`);
  if (state?.metrics) lines.push(`adapter:     relist interval ${state.metrics.adapterRelistInterval}, config ${state.metrics.adapterConfigPath}`);
  lines.push(`stop with:   npm run cluster:down${cluster.name === 'dev' ? '' : ` -- --name ${cluster.name}`}`);
  return lines.join('\n');
}
