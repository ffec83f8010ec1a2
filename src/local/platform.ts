// `npm start`: the whole platform on one machine, with pods that really run.
//
//   local control plane (src/local/cluster: etcd, kube-apiserver, controller-manager, scheduler,
//   kwok for fake nodes; + Prometheus and prometheus-adapter when built) -- or KUBECONFIG
//   -> Azurite (Blob + Table) -> Service Bus stand-in (queue ocr-jobs) behind one port
//   -> CRD -> Secrets -> operator (a process: the chart's operator Deployment would only be
//   a kwok fake here, nothing would run it) -> the sample OcrPipeline
//   -> node agent (runs the pipeline's pods as host processes) + service proxy (a local
//   port per Service) -> API /ready -> prints URL, key, curl and kubectl lines.
// Ctrl-C stops everything it started, in reverse order.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startCluster, type Cluster } from './cluster/cluster.ts';
import { defaultBinDir, readState } from './cluster/state.ts';
import { startAzurite, type Azurite } from './services/azurite.ts';
import { startServiceBusStandin, type ServiceBusStandin } from '../servicebus-standin/index.ts';
import { connectKube, type Kube, type KubeObject } from './kube.ts';
import { startNodeAgent, type NodeAgent } from './node-agent/agent.ts';
import type { PortMapping } from './node-agent/translate.ts';
import { PORT_NAMES } from '../contract/container.ts';
import { API_ADMIN_PORT_NAME } from '../operator/desired/api-deployment.ts';
import { REPO_ROOT } from './node-agent/main.ts';
import { waitFor } from '../shared/net.ts';
import { startServiceBusMux, withEndpointPort, type ServiceBusMux } from './servicebus-mux.ts';
import { startOperatorProcess } from './operator-process.ts';
import { startServiceProxy, type ServiceProxy } from './service-proxy.ts';
import { SAMPLE_RECEIPT, SAMPLES_DIR } from './receipts.ts';
import { ensureTesseractLanguages, sampleLanguages } from './tessdata.ts';
import { DEBIAN_TESSDATA } from '../worker/ocr/defaults.ts';

export const SAMPLE_PIPELINE = join(REPO_ROOT, 'config', 'samples', 'local', 'ocrpipeline.yaml');
export const CRD_FILE = join(REPO_ROOT, 'config', 'crd', 'ocrplatform.io_ocrpipelines.yaml');
export const FIELD_MANAGER = 'ocr-local-platform';
export interface PlatformOptions {
  /** $OCR_CACHE_DIR or its default, the same directory as the cluster tool's: cacheDir(process.env) from the main */
  cacheDir: string;
  /** use this cluster instead of starting the local control plane */
  kubeconfigPath?: string;
  /** cluster name when starting one (default "local") */
  clusterName?: string;
  /** namespace of the sample pipeline (default: the sample's, ocr-local) */
  namespace?: string;
  /** first port the service proxy tries (default 18080, so the API is at http://127.0.0.1:18080) */
  basePort?: number;
  /** where logs go (default <cacheDir>/local/logs) */
  logsDir?: string;
  /** run Prometheus + prometheus-adapter for the worker HPA (default: when the adapter binary is built) */
  withMetrics?: boolean;
  /** how long to wait for the API to answer /ready (default 180 s) */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface Platform {
  kubeconfigPath: string;
  namespace: string;
  pipeline: string;
  apiUrl: string;
  apiKey: string;
  logsDir: string;
  prometheusUrl: string | undefined;
  standin: ServiceBusStandin;
  agent: NodeAgent;
  proxy: ServiceProxy;
  kube: Kube;
  /** seconds from start to the API answering /ready */
  readySeconds: number;
  stop(): Promise<void>;
}

type Step = <T>(what: string, fn: () => Promise<T>) => Promise<T>;

/** The container ports that serve /metrics: the API's admin port and the worker's port (the chart's PodMonitor scrapes the same). */
export function servesMetrics(port: PortMapping): boolean {
  return (port.container === 'api' && port.name === API_ADMIN_PORT_NAME) || (port.container === 'worker' && port.name === PORT_NAMES.worker);
}

function yamlObjects(path: string): KubeObject[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJS() as KubeObject)
    .filter(Boolean);
}

/** REST path of a namespaced or cluster-scoped object of the kinds the platform applies. */
export function objectPath(o: KubeObject): string {
  const name = o.metadata?.name ?? '';
  const ns = o.metadata?.namespace;
  switch (o.kind) {
    case 'Namespace':
      return `/api/v1/namespaces/${name}`;
    case 'Secret':
      return `/api/v1/namespaces/${ns}/secrets/${name}`;
    case 'CustomResourceDefinition':
      return `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`;
    case 'OcrPipeline':
      return `/apis/ocrplatform.io/v1alpha1/namespaces/${ns}/ocrpipelines/${name}`;
    default:
      throw new Error(`the local platform does not apply ${o.kind} objects`);
  }
}

/** Server-side apply with the platform's field manager. */
export async function apply(kube: Kube, o: KubeObject): Promise<KubeObject> {
  return await kube.request('PATCH', objectPath(o), {
    body: o,
    contentType: 'application/apply-patch+yaml',
    query: { fieldManager: FIELD_MANAGER, force: true },
  });
}

/** The stand-in answers at once: the operator polls it every 2 s while idle, every second while busy. */
const LOCAL_QUEUE_POLL = 'idleMs=2000,busyMs=1000,backoffBaseMs=500,backoffMaxMs=5000,statusRefreshMs=2000';
/**
 * The operator's settings here: resync every 30 s, fast queue polls, and development-emulator
 * connection strings honoured (the Service Bus stand-in's say UseDevelopmentEmulator=true).
 */
const LOCAL_OPERATOR = { resyncSeconds: 30, queuePoll: LOCAL_QUEUE_POLL, allowDevelopmentEmulator: true } as const;

/** Debian's tesseract-ocr-<lang> for the samples' languages, so workers with spec.ocr.tesseractModel auto read the fast models. */
function installTessdata(log: (line: string) => void): void {
  const languages = sampleLanguages();
  try {
    const installed = ensureTesseractLanguages(languages, (line) => log(`           ${line}`));
    log(`           ${languages.join(', ')}: ${installed.length > 0 ? `installed ${installed.join(' ')}` : 'already there'} (${DEBIAN_TESSDATA})`);
  } catch (error) {
    // Optional: without Debian's files, tesseractModel auto reads with the best models the npm packages carry.
    log(`           WARNING: ${error instanceof Error ? error.message : String(error)}; tesseract reads with its best models instead of the fast ones`);
  }
}

/**
 * Starts everything; on failure stops what it had started and rethrows. The returned
 * stop() is idempotent and leaves no process of ours running.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const began = Date.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const elapsed = () => `${((Date.now() - began) / 1000).toFixed(1).padStart(5)}s`;
  const step: Step = async (what, fn) => {
    const t0 = Date.now();
    log(`[${elapsed()}] ${what} ...`);
    const result = await fn();
    log(`[${elapsed()}] ${what}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return result;
  };
  const logsDir = options.logsDir ?? join(options.cacheDir, 'local', 'logs');
  rmSync(logsDir, { recursive: true, force: true });
  mkdirSync(logsDir, { recursive: true });
  const workDir = join(options.cacheDir, 'local', `run-${process.pid}`);

  // what to stop, most recent first
  const stack: { what: string; stop: () => Promise<void> }[] = [];
  // steps running in parallel: settled before a failed start is torn down
  const inFlight: Promise<unknown>[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      for (const { what, stop } of stack.reverse()) {
        const t0 = Date.now();
        try {
          await stop();
          log(`stopped ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        } catch (error) {
          log(`stopping ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      rmSync(workDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    // --- Debian's tesseract models first: apt-get blocks this process, and workers look for them only at start (tessdata.ts)
    await step("Debian's tesseract models for the samples' languages (installed when missing)", async () => installTessdata(log));

    // --- Azure stand-ins, in parallel with the control plane
    const azure = (async () => {
      const azurite: Azurite = await step('Azurite (Blob + Table Storage emulator)', () => startAzurite());
      stack.push({ what: 'Azurite', stop: () => azurite.stop() });
      const standin: ServiceBusStandin = await step('Service Bus stand-in (queue ocr-jobs)', () =>
        startServiceBusStandin({ queues: [{ name: 'ocr-jobs', lockDurationSeconds: 60, maxDeliveryCount: 5 }] }),
      );
      stack.push({ what: 'Service Bus stand-in', stop: () => standin.close() });
      const mux: ServiceBusMux = await startServiceBusMux(standin.amqpPort, standin.httpPort);
      stack.push({ what: 'Service Bus port mux', stop: () => mux.close() });
      // one endpoint for AMQP and the management API, like a real namespace (see servicebus-mux.ts)
      return { azurite, standin, serviceBusConnectionString: withEndpointPort(standin.connectionString, mux.port) };
    })();
    inFlight.push(azure);
    azure.catch(() => undefined); // handled where it is awaited; this keeps Node from calling it unhandled meanwhile

    // --- Kubernetes
    const shared = options.kubeconfigPath;
    const withMetrics = options.withMetrics ?? existsSync(join(defaultBinDir(options.cacheDir), 'adapter'));
    let cluster: Cluster | undefined;
    let kubeconfigPath: string;
    let prometheusUrl: string | undefined;
    let setScrapeTargets: (targets: string[]) => void = () => {};
    if (shared) {
      kubeconfigPath = shared;
      // a cluster from src/local/cluster (npm run cluster:up) keeps its state next to the kubeconfig: use its Prometheus
      const state = readState(dirname(shared));
      if (state?.metrics) {
        const { targetsFile } = state.metrics;
        const original = readFileSync(targetsFile, 'utf8');
        const groups = JSON.parse(original) as unknown[];
        prometheusUrl = state.metrics.prometheusUrl;
        setScrapeTargets = (targets) => writeFileSync(targetsFile, `${JSON.stringify([...groups, { targets, labels: {} }], null, 2)}\n`);
        stack.push({ what: 'Prometheus scrape targets (restored)', stop: async () => writeFileSync(targetsFile, original) });
      }
      log(
        `[${elapsed()}] using the cluster of ${shared}${prometheusUrl ? ` (Prometheus ${prometheusUrl})` : ' (no Prometheus found next to it: the worker HPA will have no metric)'}`,
      );
    } else {
      cluster = await step(
        `local control plane${withMetrics ? ' with Prometheus + prometheus-adapter' : ' (prometheus-adapter not built: no worker autoscaling; `npm run tools` builds it)'}`,
        () =>
          startCluster({
            name: options.clusterName ?? 'local',
            cacheDir: options.cacheDir,
            nodes: 1,
            withMetrics,
            ifRunning: 'restart',
            log: (line) => log(`           ${line}`),
          }),
      );
      const c = cluster;
      stack.push({ what: 'local control plane', stop: () => c.stop() });
      kubeconfigPath = c.kubeconfigPath;
      prometheusUrl = c.prometheusUrl;
      if (prometheusUrl) setScrapeTargets = (targets) => c.setScrapeTargets(targets);
    }
    const kube = await connectKube(kubeconfigPath);

    // --- Azure stand-ins: they need nothing from Kubernetes, so they start meanwhile
    const { azurite, standin, serviceBusConnectionString } = await azure;

    // --- CRD, namespace, Secrets
    const pipelineObject = yamlObjects(SAMPLE_PIPELINE)[0]!;
    const namespace = options.namespace ?? pipelineObject.metadata?.namespace ?? 'ocr-local';
    const pipeline = pipelineObject.metadata?.name ?? 'receipts';
    const apiKey = `ocr-local-${randomBytes(12).toString('hex')}`;
    await step('CRD, namespace and Secrets', async () => {
      for (const crd of yamlObjects(CRD_FILE)) {
        await apply(kube, crd);
        await waitFor(
          `CRD ${crd.metadata?.name ?? ''} Established`,
          async () => {
            const got = await kube.request<{ status?: { conditions?: { type: string; status: string }[] } }>('GET', objectPath(crd));
            return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
          },
          30_000,
        );
      }
      await apply(kube, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
      stack.push({
        what: `namespace ${namespace}`,
        // our own cluster goes away entirely; in a shared one, delete what we created
        stop: async () => {
          if (shared) await kube.request('DELETE', `/api/v1/namespaces/${namespace}`).catch(() => undefined);
        },
      });
      const secret = (name: string, key: string, value: string): KubeObject => ({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace },
        type: 'Opaque',
        stringData: { [key]: value },
      });
      for (const s of [
        secret('ocr-servicebus', 'connectionString', serviceBusConnectionString),
        secret('ocr-storage', 'connectionString', azurite.connectionString),
        secret('ocr-api-keys', 'keys', `local:${apiKey}\n`),
        secret('ocr-webhook', 'signingKey', randomBytes(32).toString('hex')),
      ])
        await apply(kube, s);
    });

    // --- operator
    // it reconciles whenever it is up: the agent, the proxy and the pipeline do not wait for it
    const operatorStarting = step('operator (as a process: a Deployment from the chart would only be faked by kwok here)', async () => {
      const o = await startOperatorProcess({
        kubeconfigPath: kube.kubeconfigPath,
        namespaces: [namespace],
        ...LOCAL_OPERATOR,
        ...(prometheusUrl ? { prometheusUrl } : {}),
        logFile: join(logsDir, 'operator.log'),
      });
      stack.push({ what: 'operator', stop: () => o.stop() });
      return o;
    });
    inFlight.push(operatorStarting);
    operatorStarting.catch(() => undefined); // awaited below

    // --- node agent and service proxy, then the pipeline
    const agent = await step("node agent (runs the pipeline's pods as processes) and service proxy", async () => {
      const a = await startNodeAgent({
        kube,
        workDir: join(workDir, 'pods'),
        logsDir: join(logsDir, 'pods'),
        commands: { root: REPO_ROOT },
        log: (line) => log(`           [node-agent] ${line}`),
      });
      stack.push({ what: `node agent (and every pod process)`, stop: () => a.stop() });
      return a;
    });
    const proxy = await startServiceProxy({ kube, namespace, basePort: options.basePort, log: (line) => log(`           [service-proxy] ${line}`) });
    stack.push({ what: 'service proxy', stop: () => proxy.stop() });

    await step(`OcrPipeline ${namespace}/${pipeline} (${relative(REPO_ROOT, SAMPLE_PIPELINE)})`, async () => {
      await apply(kube, { ...pipelineObject, metadata: { ...pipelineObject.metadata, namespace } });
    });
    const operator = await operatorStarting;

    // Prometheus scrapes the operator (queue backlog) and the pipeline's pods where they serve /metrics, as the chart's
    // PodMonitor does in a cluster: the API on its admin port (webhooks, recovery, queue wait), the worker on its http port.
    const scrapeTimer = setInterval(() => {
      const pods = agent.pods().flatMap((p) => p.ports.filter(servesMetrics).map((port) => `127.0.0.1:${port.hostPort}`));
      setScrapeTargets([`127.0.0.1:${operator.metricsPort}`, ...pods]);
    }, 2_000);
    stack.push({ what: 'scrape target sync', stop: async () => clearInterval(scrapeTimer) });
    setScrapeTargets([`127.0.0.1:${operator.metricsPort}`]);

    const apiUrl = await step('API Service reachable and /ready (pods start, load models, pass their probes)', async () => {
      const url = await proxy.urlFor(namespace, `${pipeline}-api`, 60_000);
      await waitFor(
        `${url}/ready through the service proxy (pod logs in ${join(logsDir, 'pods')})`,
        async () => (await fetch(`${url}/ready`, { signal: AbortSignal.timeout(3_000) }).catch(() => undefined))?.ok ?? false,
        options.readyTimeoutMs ?? 180_000,
        500,
      );
      return url;
    });
    const readySeconds = (Date.now() - began) / 1000;
    log(`[${elapsed()}] platform ready in ${readySeconds.toFixed(1)} s`);

    return {
      kubeconfigPath,
      namespace,
      pipeline,
      apiUrl,
      apiKey,
      logsDir,
      prometheusUrl,
      standin,
      agent,
      proxy,
      kube,
      readySeconds,
      stop: stopAll,
    };
  } catch (error) {
    log(`start failed: ${error instanceof Error ? error.message : String(error)}`);
    log(`stopping what was started; logs stay in ${logsDir}`);
    await Promise.allSettled(inFlight);
    await stopAll();
    throw error;
  }
}

/** What `npm start` prints once the platform is ready. */
export function summary(
  p: Pick<Platform, 'apiUrl' | 'apiKey' | 'kubeconfigPath' | 'namespace' | 'pipeline' | 'logsDir' | 'prometheusUrl' | 'readySeconds'>,
  kubectl: string,
): string {
  const sample = relative(process.cwd(), join(SAMPLES_DIR, SAMPLE_RECEIPT)) || join(SAMPLES_DIR, SAMPLE_RECEIPT);
  const k = `KUBECONFIG=${p.kubeconfigPath} ${kubectl}`;
  return [
    '',
    `ocr-platform is running (ready in ${p.readySeconds.toFixed(1)} s).`,
    '',
    `  API:      ${p.apiUrl}`,
    `  API key:  ${p.apiKey}`,
    '',
    'OCR the sample receipt (waits for the worker, prints the text):',
    `  curl -s ${p.apiUrl}/v1/ocr -H 'x-api-key: ${p.apiKey}' -F file=@${sample}`,
    '',
    'Watch the pipeline, its pods (the ones on ocr-local-agent really run) and the autoscaler:',
    `  ${k} get ocrp -n ${p.namespace} -w`,
    `  ${k} get pods -n ${p.namespace} -o wide`,
    `  ${k} get hpa -n ${p.namespace}`,
    '',
    `Logs: ${p.logsDir} (operator.log, pods/<namespace>_<pod>_<container>.log)`,
    ...(p.prometheusUrl ? [`Prometheus: ${p.prometheusUrl}`] : []),
    'Load:  npm start -- --load 40   (sends 40 receipts and shows the workers scale)',
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}
