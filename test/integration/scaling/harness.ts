// The pieces the scaling e2e test and `npm run bench:scaling` share: a local control plane
// with Prometheus + prometheus-adapter (the shared one from OCR_TEST_KUBECONFIG when it
// runs with metrics, else our own), the Service Bus stand-in, the operator as a real
// process on loopback, and Prometheus scraping that process.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request as httpsRequest } from 'node:https';
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { loadKubeConfig, readState, startCluster, TEST_TIMING, type Cluster } from '../../support/cluster.ts';
import { startOperatorProcess, type OperatorProcess } from '../../support/operator-process.ts';
import { waitFor } from '../../support/ports.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface ScalingCluster {
  kc: KubeConfig;
  kubeconfigPath: string;
  prometheusUrl: string;
  /** Intervals in force, for reports: Prometheus scrape, adapter relist, HPA sync. */
  timing: { scrape: string; relist: string; hpaSync: string };
  /** Adds loopback targets to Prometheus' scrape list (the shared cluster's others are kept). */
  addScrapeTargets(targets: string[]): void;
  /** Restores the scrape list and stops a cluster we started (a shared one keeps running). */
  stop(): Promise<void>;
}

const parseSeconds = (d: string): number => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(d);
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : n;
};
export const seconds = parseSeconds;

/**
 * The shared cluster when OCR_TEST_KUBECONFIG points at one started with metrics
 * (hack/test.sh does), else a cluster of our own named `name`.
 */
export async function scalingCluster(name: string, log: (line: string) => void): Promise<ScalingCluster> {
  const shared = process.env.OCR_TEST_KUBECONFIG;
  const state = shared ? readState(dirname(shared)) : undefined;
  if (shared && state?.metrics) {
    const { targetsFile } = state.metrics;
    const original = readFileSync(targetsFile, 'utf8');
    const groups = JSON.parse(original) as Array<{ targets: string[]; labels: Record<string, string> }>;
    return {
      kc: loadKubeConfig(shared),
      kubeconfigPath: shared,
      prometheusUrl: state.metrics.prometheusUrl,
      timing: { scrape: state.metrics.scrapeInterval, relist: state.metrics.adapterRelistInterval, hpaSync: TEST_TIMING.hpaSyncPeriod },
      addScrapeTargets(targets) {
        writeFileSync(targetsFile, `${JSON.stringify([...groups, { targets, labels: {} }], null, 2)}\n`);
      },
      async stop() {
        writeFileSync(targetsFile, original);
      },
    };
  }
  if (shared) log(`OCR_TEST_KUBECONFIG's cluster runs without metrics; starting our own cluster ${name}`);
  const cluster: Cluster = await startCluster({ name, withMetrics: true, ifRunning: 'restart', log });
  let targets: string[] = [];
  return {
    kc: loadKubeConfig(cluster.kubeconfigPath),
    kubeconfigPath: cluster.kubeconfigPath,
    prometheusUrl: cluster.prometheusUrl ?? '',
    timing: { scrape: TEST_TIMING.scrapeInterval, relist: TEST_TIMING.adapterRelistInterval, hpaSync: TEST_TIMING.hpaSyncPeriod },
    addScrapeTargets(more) {
      targets = [...targets, ...more];
      cluster.setScrapeTargets(targets);
    },
    stop: () => cluster.stop(),
  };
}

/** The REST path of an object: /api/v1/namespaces/ns/secrets/name, /apis/group/version/plural/name. */
function objectPath(obj: KubernetesObject): string {
  const [group, version] = obj.apiVersion?.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const plural = `${obj.kind?.toLowerCase() ?? ''}s`.replace(/ys$/, 'ies').replace(/sss$/, 'sses');
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const ns = obj.metadata?.namespace ? `/namespaces/${obj.metadata.namespace}` : '';
  return `${prefix}${ns}/${plural}/${obj.metadata?.name ?? ''}`;
}

/**
 * Server-side apply of the object exactly as given (field manager of the tests). A raw
 * request on purpose: KubernetesObjectApi serializes known kinds through its typed models,
 * which drop `x-kubernetes-*` keys (int-or-string, CEL validations, list types) from a CRD.
 */
export async function apply(kc: KubeConfig, obj: object, dryRun = false): Promise<KubernetesObject> {
  const o = obj as KubernetesObject;
  const url = new URL(objectPath(o), kc.getCurrentCluster()!.server);
  url.searchParams.set('fieldManager', 'ocr-scaling-tests');
  url.searchParams.set('force', 'true');
  if (dryRun) url.searchParams.set('dryRun', 'All');
  const options: Parameters<KubeConfig['applyToHTTPSOptions']>[0] = {
    method: 'PATCH',
    timeout: 15_000,
    headers: { 'content-type': 'application/apply-patch+yaml', accept: 'application/json' },
  };
  await kc.applyToHTTPSOptions(options);
  const body = JSON.stringify(obj);
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = httpsRequest(url, options, (res) => {
      let t = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        t += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: t }));
    });
    req.on('timeout', () => req.destroy(new Error(`apply ${o.kind ?? ''} ${o.metadata?.name ?? ''} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
  if (status < 200 || status > 299) {
    const message = ((): string => {
      try {
        return (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        return text;
      }
    })();
    throw new Error(`apply ${o.kind ?? ''} ${o.metadata?.name ?? ''}: HTTP ${status}: ${message}`);
  }
  return JSON.parse(text) as KubernetesObject;
}

export function yamlObjects(path: string): KubernetesObject[] {
  return parseAllDocuments(readFileSync(join(ROOT, path), 'utf8'))
    .map((d) => d.toJS() as KubernetesObject)
    .filter(Boolean);
}

/** Applies a CRD and waits until the API server serves it. */
export async function applyCrd(kc: KubeConfig, path: string): Promise<void> {
  for (const crd of yamlObjects(path)) {
    await apply(kc, crd);
    await waitFor(
      `CRD ${crd.metadata?.name ?? ''} to be established`,
      async () => {
        const got = (await KubernetesObjectApi.makeApiClient(kc).read({
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

export type { OperatorProcess };

/** The operator as a real process: admin kubeconfig, one namespace, no leader election, fast polls. */
export async function startOperator(o: { kubeconfigPath: string; namespace: string; prometheusUrl?: string; queuePoll?: string }): Promise<OperatorProcess> {
  return await startOperatorProcess({
    kubeconfigPath: o.kubeconfigPath,
    namespaces: [o.namespace],
    resyncSeconds: 5,
    queuePoll: o.queuePoll ?? 'idleMs=2000,busyMs=1000,backoffBaseMs=500,backoffMaxMs=2000,statusRefreshMs=5000',
    // the stand-in's connection strings say UseDevelopmentEmulator=true
    allowDevelopmentEmulator: true,
    ...(o.prometheusUrl ? { prometheusUrl: o.prometheusUrl } : {}),
    keepLines: 400,
  });
}

/** Reads one value of a Prometheus instant query (undefined when the result is empty). */
export async function promValue(prometheusUrl: string, query: string): Promise<number | undefined> {
  const url = new URL('/api/v1/query', prometheusUrl);
  url.searchParams.set('query', query);
  const body = (await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).json()) as { data?: { result?: Array<{ value: [number, string] }> } };
  const v = body.data?.result?.[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}
