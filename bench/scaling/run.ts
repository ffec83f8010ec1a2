// Scaling reaction benchmark (npm run bench:scaling): from a backlog of 0 to 1,000 messages,
// how long until (1) the operator sees the backlog (its ocr_queue_backlog gauge), (2) the
// worker HPA desires the right count, (3) that many worker pods are Ready (kwok pods: Ready as
// soon as they are scheduled), through the real path: Service Bus stand-in -> operator poller
// -> /metrics -> Prometheus scrape -> prometheus-adapter -> HPA sync -> Deployment -> pods.
// Run at two sets of intervals, each on its own local control plane:
//   test:        queue poll idle 5 s / busy 1 s, scrape 5 s, HPA sync 5 s (the integration tests')
//   production:  the operator's defaults (idle poll 60 s +-20 %, busy 5 s, activity probe 1 s),
//                the chart's scrape interval 15 s, upstream HPA sync 15 s
// beside KEDA's defaults (pollingInterval 30 s + HPA sync 15 s = 45 s worst case).
//
// The activity probe (src/operator/scaling/activity.ts) wakes an idle poller when the API's
// ocr_api_jobs_created_total rises. This benchmark sends to the queue directly, not through an
// API, so it serves that counter itself on loopback (one series, namespace and pipeline as the
// chart's PodMonitor labels the API pods' series), scraped by the same Prometheus at the same
// interval, and raises it as it sends: the timing path is the real one, the counter's source
// is the benchmark.
//
//   npm run bench:scaling -- [--intervals test,production[,production-no-wake]] [--trials 3] [--messages 1000] [--per-replica 50]
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { AppsV1Api, AutoscalingV2Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { API_METRIC } from '../../src/contract/metrics.ts';
import { loadKubeConfig, startCluster } from '../../test/support/cluster.ts';
import { serviceBusClient, startServiceBusStandin } from '../../test/support/servicebus.ts';
import { waitFor } from '../../test/support/ports.ts';
import { apply, applyCrd, startOperator } from '../../test/integration/scaling/harness.ts';

const { values } = parseArgs({
  options: {
    intervals: { type: 'string', default: 'test,production' },
    trials: { type: 'string', default: '3' },
    messages: { type: 'string', default: '1000' },
    'per-replica': { type: 'string', default: '50' },
  },
});
const TRIALS = Number(values.trials);
const MESSAGES = Number(values.messages);
const PER_REPLICA = Number(values['per-replica']);
const WANT = Math.ceil(MESSAGES / PER_REPLICA);
const NS = `bench-scaling-${process.pid}`;
const PIPELINE = 'receipts';
const KEDA = { pollingS: 30, hpaSyncS: 15 };

interface IntervalSet {
  name: 'test' | 'production' | 'production-no-wake';
  /** --queue-poll for the operator (production: jitter=0.2, which is its default, so every value is the default) */
  queuePoll: string;
  /** seconds, for the arithmetic */
  idlePollS: number;
  jitter: number;
  activityS: number;
  scrape: string;
  hpaSync: string;
}

const SETS: Record<IntervalSet['name'], IntervalSet> = {
  test: {
    name: 'test',
    queuePoll: 'idleMs=5000,busyMs=1000,backoffBaseMs=500,backoffMaxMs=5000,jitter=0',
    idlePollS: 5,
    jitter: 0,
    activityS: 1,
    scrape: '5s',
    hpaSync: '5s',
  },
  production: { name: 'production', queuePoll: 'jitter=0.2', idlePollS: 60, jitter: 0.2, activityS: 1, scrape: '15s', hpaSync: '15s' },
  // production without the activity wake (--queue-poll activityMs=0): what the wake buys
  'production-no-wake': {
    name: 'production-no-wake',
    queuePoll: 'jitter=0.2,activityMs=0',
    idlePollS: 60,
    jitter: 0.2,
    activityS: Number.POSITIVE_INFINITY,
    scrape: '15s',
    hpaSync: '15s',
  },
};

const say = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
const secondsOf = (d: string) => Number(d.replace(/s$/, ''));

async function externalMetric(kc: KubeConfig): Promise<number | undefined> {
  const path = `/apis/external.metrics.k8s.io/v1beta1/namespaces/${NS}/ocr_queue_backlog?labelSelector=pipeline%3D${PIPELINE}`;
  const url = new URL(path, kc.getCurrentCluster()!.server);
  const options: Parameters<KubeConfig['applyToHTTPSOptions']>[0] = { method: 'GET', timeout: 5_000 };
  await kc.applyToHTTPSOptions(options);
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(url, options, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (b += c));
      res.on('end', () => resolve(res.statusCode === 200 ? b : ''));
    });
    req.on('error', reject);
    req.end();
  });
  if (!body) return undefined;
  const v = (JSON.parse(body) as { items: Array<{ value: string }> }).items[0]?.value;
  return v === undefined ? undefined : quantity(v);
}

/** A Kubernetes quantity as the metrics API returns it: 1k, 10500m, 42. */
export function quantity(v: string): number {
  const m = /^([0-9.]+)(m|k|M|G)?$/.exec(v);
  if (!m) return Number.NaN;
  const scale = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * scale;
}

async function operatorGauge(port: number): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = new RegExp(`^ocr_queue_backlog\\{[^}]*pipeline="${PIPELINE}"[^}]*\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The API's created-jobs counter as the chart's PodMonitor would label it, raised by the benchmark as it sends. */
async function jobCounter(): Promise<{ server: Server; port: number; add(n: number): void }> {
  let count = 0;
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(`# TYPE ${API_METRIC.jobsCreated} counter\n${API_METRIC.jobsCreated}{namespace="${NS}",pipeline="${PIPELINE}",path="multipart"} ${count}\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, add: (n) => (count += n) };
}

interface Trial {
  gauge: number;
  hpa: number;
  ready: number;
}

const TINY = { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } };

function pipelineSpec() {
  return {
    apiVersion: 'ocrplatform.io/v1alpha1',
    kind: 'OcrPipeline',
    metadata: { name: PIPELINE, namespace: NS },
    spec: {
      image: 'example.invalid/ocr-platform:bench',
      queue: { serviceBus: { connectionStringSecretRef: { name: 'servicebus', key: 'connection-string' }, queueName: 'ocr-jobs' } },
      storage: { blob: { accountUrl: 'https://example.invalid', container: 'ocr' } },
      // kwok pods run nothing: tiny requests, so the fake nodes' 8 CPUs never decide when the pods are Ready
      api: { replicas: { min: 1, max: 1 }, resources: TINY },
      worker: {
        replicas: { min: 1, max: WANT + 10 },
        resources: TINY,
        scaling: {
          messagesPerReplica: PER_REPLICA,
          // one step from 1 to WANT, so the figure is the metric path, not the rate limit
          behavior: {
            scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 100, periodSeconds: 15 }] },
            scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 5 }] },
          },
        },
      },
    },
  };
}

async function runSet(set: IntervalSet): Promise<Trial[]> {
  say(`intervals ${set.name}: queue poll ${set.queuePoll || 'operator defaults'}, scrape ${set.scrape}, HPA sync ${set.hpaSync}`);
  const cluster = await startCluster({
    name: `bench-scaling-${set.name}`,
    withMetrics: true,
    ifRunning: 'restart',
    // prometheus-adapter lists series over the last relist interval only: below the scrape
    // interval a series drops in and out of its list and the HPA's metric comes and goes.
    // Production keeps the upstream relist (10 min); 60 s covers 4 scrapes here.
    timing: { scrapeInterval: set.scrape, hpaSyncPeriod: set.hpaSync, adapterRelistInterval: set.name === 'test' ? '5s' : '60s' },
    log: (l) => say(l),
  });
  const kc = loadKubeConfig(cluster.kubeconfigPath);
  const standin = await startServiceBusStandin({ queues: [{ name: 'ocr-jobs', maxMessages: MESSAGES * 2 }] });
  const sb = serviceBusClient(standin);
  const counter = await jobCounter();
  const core = kc.makeApiClient(CoreV1Api);
  const hpas = kc.makeApiClient(AutoscalingV2Api);
  const apps = kc.makeApiClient(AppsV1Api);
  let operator: Awaited<ReturnType<typeof startOperator>> | undefined;
  const results: Trial[] = [];
  try {
    await applyCrd(kc, 'config/crd/ocrplatform.io_ocrpipelines.yaml');
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'servicebus' }, stringData: { 'connection-string': standin.managementConnectionString } },
    });
    operator = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, namespace: NS, prometheusUrl: cluster.prometheusUrl!, queuePoll: set.queuePoll });
    cluster.setScrapeTargets([`127.0.0.1:${operator.metricsPort}`, `127.0.0.1:${counter.port}`]);
    await apply(kc, pipelineSpec());
    const hpaDesired = async () =>
      (await hpas.readNamespacedHorizontalPodAutoscaler({ name: `${PIPELINE}-worker`, namespace: NS }).catch(() => undefined))?.status?.desiredReplicas;
    const workersReady = async () =>
      (await apps.readNamespacedDeployment({ name: `${PIPELINE}-worker`, namespace: NS }).catch(() => undefined))?.status?.readyReplicas ?? 0;
    // Settle: the HPA exists, reads an empty queue, wants the minimum; one worker Ready.
    await waitFor('the worker HPA to settle at 1', async () => (await hpaDesired()) === 1 && (await externalMetric(kc)) === 0, 300_000, 500);
    for (let trial = 1; trial <= TRIALS; trial++) {
      // A random wait, so each trial meets the poll, scrape and sync timers at another phase.
      await new Promise((r) => setTimeout(r, Math.random() * secondsOf(set.hpaSync) * 1000));
      say(`${set.name} trial ${trial}: sending ${MESSAGES} messages`);
      const sender = sb.createSender('ocr-jobs');
      const t0 = performance.now();
      for (let sent = 0; sent < MESSAGES; sent += 100) {
        const batch = Math.min(100, MESSAGES - sent);
        await sender.sendMessages(Array.from({ length: batch }, (_, i) => ({ body: { n: sent + i } })));
        counter.add(batch);
      }
      await sender.close();
      const at: Partial<Trial> = {};
      await waitFor(
        `trial ${trial}: ${WANT} worker pods Ready`,
        async () => {
          const now = () => (performance.now() - t0) / 1000;
          if (at.gauge === undefined && (await operatorGauge(operator!.metricsPort)) === MESSAGES) at.gauge = now();
          if (at.hpa === undefined && (await hpaDesired()) === WANT) at.hpa = now();
          if (at.hpa !== undefined && at.ready === undefined && (await workersReady()) >= WANT) at.ready = now();
          return at.ready !== undefined;
        },
        300_000,
        200,
      );
      const r: Trial = { gauge: at.gauge ?? Number.NaN, hpa: at.hpa!, ready: at.ready! };
      results.push(r);
      say(
        `${set.name} trial ${trial}: operator sees the backlog ${r.gauge.toFixed(1)} s, HPA desires ${WANT} ${r.hpa.toFixed(1)} s, ${WANT} pods Ready ${r.ready.toFixed(1)} s`,
      );
      const receiver = sb.createReceiver('ocr-jobs', { receiveMode: 'receiveAndDelete' });
      for (let drained = 0; drained < MESSAGES;) {
        const batch = await receiver.receiveMessages(Math.min(250, MESSAGES - drained), { maxWaitTimeInMs: 2_000 });
        if (batch.length === 0) break;
        drained += batch.length;
      }
      await receiver.close();
      await waitFor('the HPA to return to 1', async () => (await hpaDesired()) === 1, 300_000, 500);
    }
  } finally {
    await operator?.stop();
    await sb.close();
    await standin.close();
    counter.server.close();
    await core.deleteNamespace({ name: NS }).catch(() => undefined);
    await cluster.stop();
  }
  return results;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function report(set: IntervalSet, trials: Trial[]): void {
  const scrape = secondsOf(set.scrape);
  const hpaSync = secondsOf(set.hpaSync);
  const keda = KEDA.pollingS + KEDA.hpaSyncS;
  // The backlog reaches the HPA by whichever comes first: the poller's own idle read, or the
  // activity probe's wake after the API's counter was scraped; then one operator scrape and one HPA sync.
  const idlePath = set.idlePollS * (1 + set.jitter) + scrape + hpaSync;
  const wakePath = scrape + set.activityS + scrape + hpaSync; // Infinity without the wake
  console.log(`\n${set.name} intervals: backlog 0 -> ${MESSAGES} (want ${WANT} workers at ${PER_REPLICA} messages each), ${trials.length} trials`);
  console.log('| step | median (s) | min (s) | max (s) |');
  console.log('|---|---:|---:|---:|');
  for (const [label, key] of [
    ['operator sees the backlog', 'gauge'],
    [`HPA desires ${WANT}`, 'hpa'],
    [`${WANT} worker pods Ready`, 'ready'],
  ] as const) {
    const xs = trials.map((t) => t[key]);
    console.log(`| ${label} | ${median(xs).toFixed(1)} | ${Math.min(...xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`);
  }
  console.log(
    `worst case to "HPA desires" at these intervals: ${Math.min(idlePath, wakePath).toFixed(0)} s ` +
      (Number.isFinite(wakePath)
        ? `(activity wake: scrape ${scrape} + probe ${set.activityS} + scrape ${scrape} + HPA sync ${hpaSync} = ${wakePath.toFixed(0)} s; `
        : '(activity wake off; ') +
      `idle poll alone: ${set.idlePollS} x ${1 + set.jitter} + ${scrape} + ${hpaSync} = ${idlePath.toFixed(0)} s); ` +
      `KEDA defaults (pollingInterval ${KEDA.pollingS} s + HPA sync ${KEDA.hpaSyncS} s): ${keda} s; measured median / KEDA worst case ${(median(trials.map((t) => t.hpa)) / keda).toFixed(2)}`,
  );
}

async function main(): Promise<void> {
  const load = loadavg()[0]!;
  say(`load average at start: ${load.toFixed(2)}${load > 1 ? ' (above 1: the figures are not final)' : ''}`);
  const names = values.intervals.split(',').map((s) => s.trim()) as Array<IntervalSet['name']>;
  for (const n of names) if (!(n in SETS)) throw new Error(`--intervals: test, production, production-no-wake; got ${n}`);
  const all: Array<[IntervalSet, Trial[]]> = [];
  for (const n of names) all.push([SETS[n], await runSet(SETS[n])]);
  for (const [set, trials] of all) report(set, trials);
  say(`load average at the end: ${loadavg()[0]!.toFixed(2)}`);
}

await main();
