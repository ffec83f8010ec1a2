// npm run bench:operator: the operator at 1, 100 and 1,000 pipelines, apart from the cluster
// (issue 14, item 1). Method and the meaning of every figure: bench/operator/RESULTS.md.
//
// The local control plane runs in its benchmark profile (kube-controller-manager and the
// scheduler at raised client rates and sync workers; an audit log of writes). The operator
// runs compiled, as the image and the chart run it: `npm run build`, then
// `node --enable-source-maps dist/operator/main.js` with the chart's default flags, as its own
// user (CN=ocr-operator) so its writes can be counted; only --expose-gc and a SIGUSR2 probe
// (memory-probe.ts) are added. The benchmark observes through watches (observe.ts), never LISTs.
//
// Per size N, in fresh namespaces: (1) the operator makes N pipelines' children: *operator done*
// and *cluster done*; (2) idle: the operator is restarted with --resync-seconds=idle/2 and
// watched for idle-seconds (restart writes, resync writes, CPU); (3) the cluster floor: the
// same children applied by the benchmark itself, no operator, until every Deployment is available.
//
//   npm run bench:operator [-- --sizes 1,100,1000 --max-seconds 240 --idle-seconds 60 --skip-build]
//
// Bound: per size at most max-seconds (creation) + 60 s (restart) + idle-seconds + 2 x 120 s
// (namespace deletions) + max-seconds (floor); with the defaults and three sizes about
// 3 x 840 s = 42 min, plus the build (about 1 min) and the cluster start (about 1 min).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { loadKubeConfig, readState, startCluster, type Cluster } from '../../test/support/cluster.ts';
import { startOperatorProcess, type OperatorProcess } from '../../test/support/operator-process.ts';
import { ROOT, UNREACHABLE_CONNECTION_STRING, apply, createNamespace, installCrd, pipeline, secret, sleep } from '../../test/integration/operator/harness.ts';
import {
  apiserverMetrics,
  connectionsTo,
  diffTotals,
  memoryAfterGc,
  operatorReconciles,
  pipelineWrites,
  readAudit,
  requestTotals,
  resetMemoryProbe,
  tally,
  type AuditWrite,
  type Memory,
} from './measure.ts';
import { applier } from './apply.ts';
import {
  cpuTable,
  cpuWindow,
  latencyLines,
  latencyWindow,
  parseLatencySums,
  sampleCpu,
  type CpuSample,
  type CpuWindow,
  type LatencyRow,
  type Tracked,
} from './cpu.ts';
import { CHILDREN_PER_PIPELINE, floorObject, NamespaceObserver } from './observe.ts';
import { profileLines, summarizeProfileFile, type ProfileSummary } from './profile.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,100,1000' },
    'max-seconds': { type: 'string', default: '240' },
    'idle-seconds': { type: 'string', default: '60' },
    'skip-build': { type: 'boolean', default: false },
    // The local control plane's name (state in ~/.cache/ocr-platform/clusters/<name>); a running one of that name is restarted.
    'cluster-name': { type: 'string', default: 'bench-operator' },
    // V8 CPU profiles of the operator from the first apply to operator done and over the quiet window (memory-probe.ts); the profiler's own cost is in the CPU figures then.
    'cpu-profile': { type: 'boolean', default: false },
    // No floor run (its namespace deletion and applies take as long as creation on a busy machine).
    'skip-floor': { type: 'boolean', default: false },
    // The operator's --concurrency (pipelines reconciled in parallel); default: the chart's (values.yaml concurrency), to choose that default from a sweep.
    concurrency: { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 2000)) throw new Error(`--sizes: integers from 1 to 2000, comma-separated; got ${values.sizes}`);
const maxMs = Number(values['max-seconds']) * 1000;
const idleSeconds = Number(values['idle-seconds']);
const resyncSeconds = Math.max(1, Math.round(idleSeconds / 2));

/** A top-level scalar of charts/ocr-platform/values.yaml (read at each run, so the benchmark and the chart cannot drift); undefined when absent. */
function chartValue(key: string): string | undefined {
  return new RegExp(`^${key}:\\s*"?([^"\\s#]+)"?`, 'm').exec(readFileSync(join(ROOT, 'charts/ocr-platform/values.yaml'), 'utf8'))?.[1];
}

/** --concurrency, else the chart's default; 1-64 as the operator's flag accepts (src/operator/cli.ts). */
function operatorConcurrency(): number {
  const raw = values.concurrency ?? chartValue('concurrency');
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new Error(`--concurrency: an integer from 1 to 64 (the operator's range); got ${raw ?? 'nothing, and values.yaml has no concurrency'}`);
  return n;
}
const concurrency = operatorConcurrency();
/** Pipelines (and floor children) applied at once: the benchmark's own pace of creation. */
const APPLY_BATCH = 25;
const DELETE_WAIT_MS = 120_000;
/**
 * The harness's small pipeline with tiny requests: the pods are kwok's (no process runs), and
 * at the defaults (API 250m, worker 1 CPU) 1,000 pipelines would need 157 fake nodes of 8 CPUs;
 * the scheduler would leave most pods Pending and cluster done would measure node capacity.
 */
const TINY = { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } };
const BENCH_SPEC = { api: { replicas: { min: 1, max: 3 }, resources: TINY }, worker: { replicas: { min: 1, max: 3 }, resources: TINY } };
const MiB = 2 ** 20;
const say = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
const s1 = (ms: number | undefined) => (ms === undefined ? 'n/a' : (ms / 1000).toFixed(1));
/** CPU seconds over a wall of `wallSeconds` as a percentage of one core. */
const pct = (cpuSeconds: number | undefined, wallSeconds: number) => (cpuSeconds === undefined ? 'n/a' : `${((cpuSeconds / wallSeconds) * 100).toFixed(2)} %`);

interface Row {
  n: number;
  operatorDoneMs?: number;
  clusterDoneMs?: number;
  floorMs?: number;
  writes: AuditWrite[];
  cpuSeconds: number;
  memory?: Memory;
  connectionsAtDone: number;
  idle?: {
    writes: AuditWrite[];
    restartWrites: number;
    resyncWrites: number;
    cpuSeconds: number;
    memory?: Memory;
    /** The restarted operator's peak RSS since its start (VmHWM): the cold start's lists and first reconciles. */
    peakRssBytes: number;
    connections: number;
    quiet?: Quiet;
  };
  /** CPU per process: first apply -> operator done, first apply -> cluster done (or the bound), and the floor. */
  cpu: { toOperatorDone?: CpuWindow; toClusterDone?: CpuWindow; floor?: CpuWindow };
  /** Mean apiserver / etcd / APF-wait latencies during creation (first apply -> cluster done) and the floor. */
  latency: { creation?: LatencyRow[]; floor?: LatencyRow[] };
  /** With --cpu-profile: where the operator's CPU went from the first apply to operator done. */
  profile?: ProfileSummary;
  clusterWrites: Array<[string, number]>;
  progress: string;
}

/**
 * The quiet part of the idle window, after the restart settled: up to 1.8 R after the new
 * operator synced its caches (R = --resync-seconds), from when its reconcile counter stood still
 * for 1 s after 1.2 R (at the latest 1.8 R - 5 s). Its first resync fires 0.9-1.1 R after the
 * sync and queues its pipelines over R / 10 (controller.ts), so by 1.2 R all are queued; the
 * second fires no earlier than 1.8 R. `reconciles` (the operator's own counter) says whether the
 * window really was quiet.
 */
interface Quiet {
  fromSeconds: number;
  toSeconds: number;
  cpu: CpuWindow;
  reconciles?: number;
  profile?: ProfileSummary;
}

/** The control plane's processes (its state file's pids), then the operator's and this benchmark's, for cpu.ts. */
function tracked(cluster: Cluster, operatorPid: number | undefined): Tracked[] {
  const procs = readState(cluster.stateDir)?.processes ?? [];
  return [
    ...procs.map((p) => ({ label: p.component, pid: p.pid })),
    { label: 'operator', pid: operatorPid },
    { label: 'benchmark (this process)', pid: process.pid },
  ];
}

/** With --cpu-profile: SIGWINCH starts or stops the operator's CPU profile (memory-probe.ts). */
function toggleProfile(op: OperatorProcess): void {
  if (values['cpu-profile']) process.kill(op.pid, 'SIGWINCH');
}

/** With --cpu-profile: waits (at most 30 s) for the operator to write its profile number `seq`, then summarizes and deletes it. */
async function profileOf(op: OperatorProcess, seq: number): Promise<ProfileSummary | undefined> {
  if (!values['cpu-profile']) return undefined;
  const marker = `{"benchProfile":{"seq":${seq},`;
  for (let i = 0; i < 300; i++) {
    const line = op.logLines().find((l) => l.startsWith(marker));
    if (line) return summarizeProfileFile((JSON.parse(line) as { benchProfile: { path: string } }).benchProfile.path, false);
    await sleep(100);
  }
  say(`no CPU profile ${seq} from the operator in 30 s`);
  return undefined;
}

/** CPU of every tracked process and the apiserver's latency sums, at one moment. */
async function snapshot(kc: KubeConfig, track: readonly Tracked[]): Promise<{ cpu: CpuSample; latency: ReturnType<typeof parseLatencySums> }> {
  const cpu = sampleCpu(track);
  return { cpu, latency: parseLatencySums(await apiserverMetrics(kc)) };
}

/** The chart's default flags (charts/ocr-platform/values.yaml), for one watched namespace; --concurrency from the option (default the chart's). */
function chartFlags(kubeconfigPath: string, namespace: string, resync?: number): string[] {
  return [
    `--kubeconfig=${kubeconfigPath}`,
    '--metrics-addr=:9090',
    `--namespaces=${namespace}`,
    '--leader-elect=true',
    '--leader-election-id=ocr-platform-operator',
    `--leader-election-namespace=${namespace}`,
    '--lease-duration=15',
    '--renew-deadline=10',
    '--retry-period=2',
    `--concurrency=${concurrency}`,
    '--log-level=info',
    ...(resync === undefined ? [] : [`--resync-seconds=${resync}`]),
  ];
}

/** The operator's environment as the chart sets it: MALLOC_ARENA_MAX when values.yaml sets mallocArenaMax. */
function chartEnv(): Record<string, string> {
  const arenas = chartValue('mallocArenaMax');
  return arenas && /^\d+$/.test(arenas) ? { MALLOC_ARENA_MAX: arenas } : {};
}

async function startOperator(cluster: Cluster, namespace: string, resync?: number): Promise<OperatorProcess> {
  resetMemoryProbe();
  const op = await startOperatorProcess({
    kubeconfigPath: cluster.operatorKubeconfigPath,
    namespaces: [namespace],
    script: 'dist/operator/main.js',
    // --enable-source-maps: the image's NODE_OPTIONS. --expose-gc and the probe: the benchmark's only additions.
    nodeArgs: ['--enable-source-maps', '--expose-gc', `--import=${pathToFileURL(join(ROOT, 'bench/operator/memory-probe.ts')).href}`],
    flags: chartFlags(cluster.operatorKubeconfigPath, namespace, resync),
    // The chart's environment: MALLOC_ARENA_MAX from values.yaml mallocArenaMax (read at each run, so the two cannot drift).
    env: chartEnv(),
    logFile: join(cluster.logsDir, `operator-${namespace}.log`),
    stopGraceMs: 15_000,
  });
  await checkConcurrency(op);
  return op;
}

/** Fails the run unless the operator's "Starting operator" line reports the --concurrency it was given (so a sweep measures what it says). */
async function checkConcurrency(op: OperatorProcess): Promise<void> {
  for (let waited = 0; waited < 30_000; waited += 100) {
    const line = op.logLines().find((l) => l.includes('"Starting operator"'));
    if (line) {
      const got = (JSON.parse(line) as { concurrency?: unknown }).concurrency;
      if (got !== concurrency) throw new Error(`the operator reports concurrency ${String(got)}, the benchmark passed ${concurrency}`);
      return;
    }
    await sleep(100);
  }
  throw new Error('the operator logged no "Starting operator" line in 30 s');
}

async function deleteNamespaceAndWait(kc: KubeConfig, name: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.deleteNamespace({ name }).catch(() => undefined);
  const until = Date.now() + DELETE_WAIT_MS;
  while (Date.now() < until) {
    const gone = await core.readNamespace({ name }).then(
      () => false,
      () => true,
    );
    if (gone) return;
    await sleep(2_000);
  }
  say(`namespace ${name} still terminating after ${DELETE_WAIT_MS / 1000} s; going on`);
}

/** Applies in order, APPLY_BATCH at a time, over APPLY_BATCH keep-alive connections (apply.ts). */
async function applyAll(kc: KubeConfig, objects: KubernetesObject[], fieldManager: string): Promise<void> {
  const writer = applier(kc, fieldManager, APPLY_BATCH);
  try {
    for (let i = 0; i < objects.length; i += APPLY_BATCH) await Promise.all(objects.slice(i, i + APPLY_BATCH).map((o) => writer.apply(o)));
  } finally {
    writer.close();
  }
}

/** Waits until `done` or the bound, printing progress every 5 s; returns whether it finished. */
async function waitProgress(label: string, started: number, done: () => boolean, progress: () => string): Promise<boolean> {
  let lastPrint = 0;
  while (!done()) {
    const elapsed = performance.now() - started;
    if (elapsed > maxMs) {
      say(`${label}: bound of ${maxMs / 1000} s hit: ${progress()}`);
      return false;
    }
    if (elapsed - lastPrint >= 5_000) {
      say(`${label} t=${(elapsed / 1000).toFixed(0)} s: ${progress()}`);
      lastPrint = elapsed;
    }
    await sleep(250);
  }
  return true;
}

async function creation(cluster: Cluster, kc: KubeConfig, n: number, ns: string, row: Row): Promise<{ op: OperatorProcess; observer: NamespaceObserver }> {
  await createNamespace(kc, ns);
  await apply(kc, secret(ns, 'servicebus', { connectionString: UNREACHABLE_CONNECTION_STRING }));
  const op = await startOperator(cluster, ns);
  const port = Number(new URL(kc.getCurrentCluster()!.server).port);
  const t0 = performance.now();
  const observer = new NamespaceObserver({ kc, namespace: ns, pipelines: n, deployments: 2 * n, now: () => performance.now() - t0 });
  await observer.start();
  let auditOffset = statSync(cluster.auditLogPath!).size;
  const totalsBefore = await requestTotals(kc);
  const cpuBefore = op.usage().cpuSeconds;
  const track = tracked(cluster, op.pid);
  const before = await snapshot(kc, track);
  toggleProfile(op);
  const names = Array.from({ length: n }, (_, i) => `p${String(i).padStart(4, '0')}`);
  const applying = applyAll(
    kc,
    names.map((name) => pipeline(ns, name, BENCH_SPEC)),
    'bench-pipelines',
  );
  const collect = () => {
    const r = readAudit(cluster.auditLogPath!, auditOffset);
    auditOffset = r.offset;
    row.writes.push(...r.writes);
  };
  let atDone: Promise<void> | undefined;
  const progress = () => {
    collect();
    return (
      `children ${observer.childCount}/${n * CHILDREN_PER_PIPELINE}, operator done ${observer.operatorDone}/${n}, ` +
      `Deployments available ${observer.availableDeployments}/${2 * n}, Ready ${observer.readyPipelines}/${n}, operator writes ${pipelineWrites(row.writes).length}`
    );
  };
  const finished = await waitProgress(
    `N=${n}`,
    t0,
    () => {
      if (observer.operatorDoneAtAll !== undefined && !atDone) {
        // At operator done: CPU, memory after a GC, connections (the cluster may still be rolling out).
        row.cpuSeconds = op.usage().cpuSeconds - cpuBefore;
        row.cpu.toOperatorDone = cpuWindow(before.cpu, sampleCpu(track));
        row.connectionsAtDone = connectionsTo(op.pid, port);
        atDone = memoryAfterGc(op.pid, () => op.logLines()).then((m) => {
          row.memory = m;
          toggleProfile(op); // after the memory probe: stopping a profile builds it in the operator's heap
        });
      }
      return observer.operatorDoneAtAll !== undefined && observer.clusterDoneAt !== undefined;
    },
    progress,
  );
  const after = await snapshot(kc, track);
  row.cpu.toClusterDone = cpuWindow(before.cpu, after.cpu);
  row.latency.creation = latencyWindow(before.latency, after.latency);
  await applying;
  await atDone;
  if (atDone) row.profile = await profileOf(op, 1);
  row.operatorDoneMs = observer.operatorDoneAtAll;
  row.clusterDoneMs = observer.clusterDoneAt;
  if (!atDone) row.cpuSeconds = op.usage().cpuSeconds - cpuBefore;
  row.progress = progress();
  row.clusterWrites = diffTotals(totalsBefore, await requestTotals(kc));
  say(
    `N=${n}: ${finished ? 'done' : 'NOT done'}: operator done ${s1(row.operatorDoneMs)} s, cluster done ${s1(row.clusterDoneMs)} s, ` +
      `${pipelineWrites(row.writes).length} operator writes (${(pipelineWrites(row.writes).length / n).toFixed(1)}/pipeline)`,
  );
  return { op, observer };
}

/** When the operator logged "Synced caches" (epoch ms, from its log line); now when it does not within 120 s. */
async function syncedAt(op: OperatorProcess): Promise<number> {
  for (let waited = 0; waited < 120_000; waited += 250) {
    const line = op.logLines().find((l) => l.includes('"Synced caches; reconciling"'));
    if (line) return (JSON.parse(line) as { time: number }).time;
    await sleep(250);
  }
  say('the restarted operator logged no "Synced caches" in 120 s; timing the idle window from now');
  return Date.now();
}

/** The quiet window (see Quiet), measured on the restarted operator; `syncPerfMs` is its sync on performance.now()'s clock. */
async function quietWindow(cluster: Cluster, op: OperatorProcess, syncPerfMs: number): Promise<Quiet> {
  const r = resyncSeconds * 1000;
  await sleep(Math.max(0, syncPerfMs + 1.2 * r - performance.now()));
  // The first resync's reconciles are queued by 1.2 R; start once they are done (the counter stood still for 1 s), at the latest 5 s before 1.8 R.
  let reconcilesBefore = await operatorReconciles(op.metricsPort);
  while (performance.now() < syncPerfMs + 1.8 * r - 5_000) {
    await sleep(1_000);
    const now = await operatorReconciles(op.metricsPort);
    if (now === reconcilesBefore) break;
    reconcilesBefore = now;
  }
  const track = tracked(cluster, op.pid);
  const before = sampleCpu(track);
  toggleProfile(op);
  await sleep(Math.max(0, syncPerfMs + 1.8 * r - performance.now()));
  const after = sampleCpu(track);
  toggleProfile(op);
  const reconcilesAfter = await operatorReconciles(op.metricsPort);
  const profile = await profileOf(op, 1);
  return {
    fromSeconds: (before.atMs - syncPerfMs) / 1000,
    toSeconds: (after.atMs - syncPerfMs) / 1000,
    cpu: cpuWindow(before, after),
    ...(reconcilesBefore !== undefined && reconcilesAfter !== undefined ? { reconciles: reconcilesAfter - reconcilesBefore } : {}),
    ...(profile ? { profile } : {}),
  };
}

/**
 * Restart with a short resync, then idle-seconds of watching (longer if the quiet window ends
 * later): writes split where the first resync can start (0.9 R after the caches synced), CPU of
 * the new process with its start-up, and the quiet window's CPU apart.
 */
/** A process's peak resident set since its start (VmHWM, bytes). */
function peakRss(pid: number): number {
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
}

async function idle(cluster: Cluster, kc: KubeConfig, ns: string, first: OperatorProcess, row: Row): Promise<OperatorProcess> {
  await sleep(5_000); // the last status writes land
  const port = Number(new URL(kc.getCurrentCluster()!.server).port);
  const offset = statSync(cluster.auditLogPath!).size;
  const restartAt = performance.now();
  say(`N=${row.n}: restarting the operator (--resync-seconds=${resyncSeconds}), then ${idleSeconds} s idle`);
  await first.stop();
  const op = await startOperator(cluster, ns, resyncSeconds);
  const synced = await syncedAt(op);
  const quiet = await quietWindow(cluster, op, performance.now() - (Date.now() - synced));
  await sleep(Math.max(0, restartAt + idleSeconds * 1000 - performance.now()));
  const writes = pipelineWrites(readAudit(cluster.auditLogPath!, offset).writes);
  const resyncAt = synced + 0.9 * resyncSeconds * 1000;
  const peakRssBytes = peakRss(op.pid);
  const memory = await memoryAfterGc(op.pid, () => op.logLines());
  row.idle = {
    peakRssBytes,
    writes,
    restartWrites: writes.filter((w) => w.atMs < resyncAt).length,
    resyncWrites: writes.filter((w) => w.atMs >= resyncAt).length,
    cpuSeconds: op.usage().cpuSeconds,
    memory,
    connections: connectionsTo(op.pid, port),
    quiet,
  };
  const operatorQuiet = quiet.cpu.rows.find(([l]) => l === 'operator')?.[1];
  say(
    `N=${row.n}: idle window ${((performance.now() - restartAt) / 1000).toFixed(0)} s: ${writes.length} writes (restart ${row.idle.restartWrites}, ` +
      `after the resync ${row.idle.resyncWrites}), peak RSS since the restart ${mib(peakRssBytes)} MiB, RSS after GC ${mib(memory?.rssBytes)} MiB (heap ${mib(memory?.heapUsedBytes)} MiB), CPU ${row.idle.cpuSeconds.toFixed(2)} s with start-up, ${row.idle.connections} connections; ` +
      `quiet ${quiet.fromSeconds.toFixed(0)}-${quiet.toSeconds.toFixed(0)} s after the sync: operator ${pct(operatorQuiet, quiet.cpu.wallSeconds)} of a core, ` +
      `${quiet.reconciles ?? 'n/a'} reconciles`,
  );
  return op;
}

async function floor(cluster: Cluster, kc: KubeConfig, n: number, ns: string, objects: KubernetesObject[], row: Row): Promise<void> {
  await createNamespace(kc, ns);
  const track = tracked(cluster, undefined);
  const before = await snapshot(kc, track);
  const t0 = performance.now();
  const observer = new NamespaceObserver({ kc, namespace: ns, pipelines: 0, deployments: 2 * n, now: () => performance.now() - t0 });
  await observer.start();
  const applying = applyAll(kc, objects, 'bench-floor');
  await waitProgress(
    `N=${n} floor`,
    t0,
    () => observer.clusterDoneAt !== undefined,
    () => `children ${observer.childCount}/${objects.length}, Deployments available ${observer.availableDeployments}/${2 * n}`,
  );
  const after = await snapshot(kc, track);
  row.cpu.floor = cpuWindow(before.cpu, after.cpu);
  row.latency.floor = latencyWindow(before.latency, after.latency);
  await applying;
  row.floorMs = observer.clusterDoneAt;
  observer.stop();
  say(`N=${n}: floor ${s1(row.floorMs)} s (the same ${objects.length} children applied by the benchmark, no operator)`);
}

async function runSize(cluster: Cluster, kc: KubeConfig, n: number): Promise<Row> {
  const stamp = Date.now().toString(36);
  const ns = `bench-op-${n}-${stamp}`;
  const row: Row = { n, writes: [], cpuSeconds: 0, connectionsAtDone: 0, clusterWrites: [], progress: '', cpu: {}, latency: {} };
  const { op, observer } = await creation(cluster, kc, n, ns, row);
  let last = op;
  try {
    if (row.operatorDoneMs !== undefined) last = await idle(cluster, kc, ns, op, row);
  } finally {
    await last.stop();
    observer.stop();
  }
  const objects = [...observer.objects.values()].map((o) => floorObject(o, `bench-floor-${n}-${stamp}`));
  await deleteNamespaceAndWait(kc, ns);
  if (values['skip-floor']) {
    say(`N=${n}: --skip-floor: no floor run`);
  } else if (objects.length === n * CHILDREN_PER_PIPELINE) {
    await floor(cluster, kc, n, `bench-floor-${n}-${stamp}`, objects, row);
    await deleteNamespaceAndWait(kc, `bench-floor-${n}-${stamp}`);
  } else {
    say(`N=${n}: no floor run: the operator made ${objects.length} of ${n * CHILDREN_PER_PIPELINE} children`);
  }
  return row;
}

function build(): void {
  if (values['skip-build']) return say('--skip-build: using dist/ as it is');
  say('npm run build (tsc -p tsconfig.build.json)');
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch (error) {
    const out = String((error as { stdout?: Buffer }).stdout ?? '');
    // tsc emits despite type errors; another change in progress must not stop the benchmark, but it is reported.
    say(`the build reported type errors (dist/ emitted anyway):\n${out.split('\n').slice(0, 10).join('\n')}`);
  }
  if (!existsSync(join(ROOT, 'dist/operator/main.js'))) throw new Error('dist/operator/main.js is missing after the build');
}

const mib = (b: number | undefined) => (b === undefined ? 'n/a' : (b / MiB).toFixed(0));

function reportCreation(rows: Row[]): void {
  console.log(`\nCreation (operator --concurrency=${concurrency}${values.concurrency === undefined ? ", the chart's default" : ''}):`);
  console.log(
    '| pipelines | operator done (s) | cluster done (s) | floor (s) | cluster / floor | operator writes / pipeline | lease writes | operator CPU (s) | RSS after GC (MiB) | heap after GC (MiB) | connections at done |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const pw = pipelineWrites(r.writes).length;
    const ratio = r.clusterDoneMs !== undefined && r.floorMs ? (r.clusterDoneMs / r.floorMs).toFixed(2) : 'n/a';
    console.log(
      `| ${r.n} | ${s1(r.operatorDoneMs)} | ${s1(r.clusterDoneMs)} | ${s1(r.floorMs)} | ${ratio} | ${(pw / r.n).toFixed(1)} | ${r.writes.length - pw} | ${r.cpuSeconds.toFixed(1)} | ${mib(r.memory?.rssBytes)} | ${mib(r.memory?.heapUsedBytes)} | ${r.connectionsAtDone} |`,
    );
  }
}

function reportIdle(rows: Row[]): void {
  console.log(
    `\nIdle (restart with --resync-seconds=${resyncSeconds}, then ${idleSeconds} s; the quiet window ends 1.8 x ${resyncSeconds} s after the caches synced and starts once the first resync's reconciles are done):`,
  );
  console.log(
    `| pipelines | writes | restart writes | writes after the resync | CPU (s, with start-up) | CPU % of a core (with start-up) | quiet window (s after sync) | operator CPU % of a core, quiet${values['cpu-profile'] ? ' (with the profiler: not the idle figure)' : ''} | reconciles, quiet | RSS after GC (MiB) | peak RSS since the restart (MiB) | connections |`,
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows.filter((x) => x.idle)) {
    const i = r.idle!;
    const q = i.quiet;
    const quietCpu = q?.cpu.rows.find(([l]) => l === 'operator')?.[1];
    console.log(
      `| ${r.n} | ${i.writes.length} | ${i.restartWrites} | ${i.resyncWrites} | ${i.cpuSeconds.toFixed(2)} | ${((i.cpuSeconds / idleSeconds) * 100).toFixed(1)} | ` +
        `${q ? `${q.fromSeconds.toFixed(0)}-${q.toSeconds.toFixed(0)}` : 'n/a'} | ${q ? pct(quietCpu, q.cpu.wallSeconds) : 'n/a'} | ${q?.reconciles ?? 'n/a'} | ` +
        `${mib(i.memory?.rssBytes)} | ${mib(i.peakRssBytes)} | ${i.connections} |`,
    );
  }
}

const joined = (pairs: Array<[string, number]>) => pairs.map(([k, v]) => `${k} ${v}`).join(', ') || 'none';

/** Per size: writes by verb and resource, CPU per process in each window, the apiserver's and etcd's mean latencies. */
function reportDetails(r: Row): void {
  console.log(`\nN=${r.n}: operator writes by verb and resource (audit log): ${joined(tally(pipelineWrites(r.writes)))}`);
  if (r.idle) console.log(`N=${r.n}: idle window writes: ${joined(tally(r.idle.writes))}`);
  console.log(`N=${r.n}: every client's writes during creation (apiserver_request_total): ${joined(r.clusterWrites)}`);
  console.log(
    `\n${cpuTable(`N=${r.n}: CPU by process`, [
      ['first apply -> operator done', r.cpu.toOperatorDone],
      ['first apply -> cluster done', r.cpu.toClusterDone],
      ['floor', r.cpu.floor],
      ['idle, quiet window', r.idle?.quiet?.cpu],
    ])}`,
  );
  const latency = latencyLines(`N=${r.n}: mean latency`, [
    ['creation', r.latency.creation],
    ['floor', r.latency.floor],
  ]);
  if (latency) console.log(`\n${latency}`);
  if (r.profile) console.log(`\n${profileLines(`N=${r.n}: operator CPU profile, first apply -> operator done`, r.profile)}`);
  if (r.idle?.quiet?.profile) console.log(`\n${profileLines(`N=${r.n}: operator CPU profile, idle quiet window`, r.idle.quiet.profile)}`);
}

function report(rows: Row[]): void {
  reportCreation(rows);
  reportIdle(rows);
  for (const r of rows) reportDetails(r);
  const last = rows[rows.length - 1]!;
  const num = (ms: number | undefined) => (ms === undefined ? 'timeout' : (ms / 1000).toFixed(1));
  console.log(
    `\noperator: ${last.n} pipelines, operator done ${num(last.operatorDoneMs)} s, cluster done ${num(last.clusterDoneMs)} s, floor ${values['skip-floor'] ? 'skipped' : `${num(last.floorMs)} s`}, ` +
      `${(pipelineWrites(last.writes).length / last.n).toFixed(1)} writes/pipeline, RSS ${last.memory ? (last.memory.rssBytes / MiB).toFixed(0) : 'n/a'} MiB, restart writes ${last.idle?.restartWrites ?? 'n/a'}`,
  );
}

async function main(): Promise<void> {
  const [load1, load5] = loadavg();
  say(`load average at start: ${load1!.toFixed(2)} (1 min), ${load5!.toFixed(2)} (5 min)`);
  say(`operator --concurrency=${concurrency} (${values.concurrency === undefined ? "the chart's default, values.yaml" : '--concurrency'})`);
  if (load1! > 1) say(`WARNING: load average ${load1!.toFixed(2)} is above 1: another process competes for the 2 cores; the figures are not final`);
  build();
  const maxN = Math.max(...sizes);
  // kwok nodes hold 110 pods each; every pipeline runs 2 pods (API and worker at min 1).
  const nodes = Math.min(50, Math.max(2, Math.ceil((2 * maxN) / 100) + 1));
  const cluster = await startCluster({ name: values['cluster-name'], nodes, profile: 'bench', ifRunning: 'restart', log: (l) => say(l) });
  const rows: Row[] = [];
  try {
    const kc = loadKubeConfig(cluster.kubeconfigPath);
    await installCrd(kc, cluster.kubeconfigPath);
    for (const n of sizes) {
      const row = await runSize(cluster, kc, n);
      rows.push(row);
      if (row.operatorDoneMs === undefined) break; // a larger size would only time out too
    }
  } finally {
    await cluster.stop();
  }
  report(rows);
  say(`load average at the end: ${loadavg()[0]!.toFixed(2)}`);
}

await main();
