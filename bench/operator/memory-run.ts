// Memory of the compiled operator at N pipelines, with a choice of node flags (issue 14, item 5):
// for comparing V8 flags and module-loading changes without the full bench:operator run (no
// floor, no idle window). On a running cluster of the bench profile (`node hack/cluster/main.ts
// up --name <name> --profile bench`), per size: a fresh namespace, the compiled operator
// (dist/, `npm run build` first) with the chart's flags, N pipelines applied 25 at a time; at
// operator done (bench/operator/observe.ts) it prints RSS before GC, peak RSS (VmHWM), and RSS
// and V8 heap used after a forced GC (memory-probe.ts), then stops the operator.
//
//   node bench/operator/memory-run.ts --cluster o3mem --sizes 1,100 --node-args "--max-semi-space-size=1"
import { loadavg } from 'node:os';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig, startCluster, type Cluster } from '../../test/support/cluster.ts';
import { startOperatorProcess } from '../../test/support/operator-process.ts';
import {
  ROOT,
  UNREACHABLE_CONNECTION_STRING,
  apply,
  createNamespace,
  deleteNamespace,
  installCrd,
  pipeline,
  secret,
  sleep,
} from '../../test/integration/operator/harness.ts';
import { memoryAfterGc, resetMemoryProbe } from './measure.ts';
import { applier } from './apply.ts';
import { NamespaceObserver } from './observe.ts';

const { values } = parseArgs({
  options: {
    cluster: { type: 'string', default: 'bench-operator' },
    sizes: { type: 'string', default: '1,100' },
    'node-args': { type: 'string', default: '' },
    // The operator's entry (relative to the repository), e.g. a copy of an older main.js for a before/after comparison.
    script: { type: 'string', default: 'dist/operator/main.js' },
    'max-seconds': { type: 'string', default: '300' },
    // Also writes a V8 heap snapshot at operator done into this directory (node --heapsnapshot-signal, after the forced GC).
    'snapshot-dir': { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const snapshotDir = values['snapshot-dir'];
const extraNodeArgs = [
  ...values['node-args'].split(' ').filter(Boolean),
  ...(snapshotDir ? ['--heapsnapshot-signal=SIGURG', `--diagnostic-dir=${snapshotDir}`] : []),
];
const maxMs = Number(values['max-seconds']) * 1000;
const TINY = { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } };
const BENCH_SPEC = { api: { replicas: { min: 1, max: 3 }, resources: TINY }, worker: { replicas: { min: 1, max: 3 }, resources: TINY } };
const MiB = 2 ** 20;
const say = (line: string) => console.log(`[memory ${new Date().toISOString().slice(11, 19)}] ${line}`);

/** VmRSS and VmHWM (peak) of a process, in bytes. */
function procMemory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Signals the operator to write a heap snapshot and waits until the file stops growing (at most 60 s). */
async function heapSnapshot(pid: number, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGURG');
  let lastSize = -1;
  for (let i = 0; i < 120; i++) {
    await sleep(500);
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!file) continue;
    const size = statSync(join(dir, file)).size;
    if (size > 0 && size === lastSize) return say(`heap snapshot: ${join(dir, file)} (${(size / MiB).toFixed(0)} MiB)`);
    lastSize = size;
  }
  say('heap snapshot: not written within 60 s');
}

async function runSize(cluster: Cluster, kc: KubeConfig, n: number): Promise<string> {
  const ns = `mem-${n}-${Date.now().toString(36)}`;
  await createNamespace(kc, ns);
  await apply(kc, secret(ns, 'servicebus', { connectionString: UNREACHABLE_CONNECTION_STRING }));
  resetMemoryProbe();
  const op = await startOperatorProcess({
    kubeconfigPath: cluster.operatorKubeconfigPath,
    namespaces: [ns],
    script: values.script,
    nodeArgs: ['--enable-source-maps', ...extraNodeArgs, '--expose-gc', `--import=${pathToFileURL(join(ROOT, 'bench/operator/memory-probe.ts')).href}`],
    flags: [
      `--kubeconfig=${cluster.operatorKubeconfigPath}`,
      '--metrics-addr=:9090',
      `--namespaces=${ns}`,
      '--leader-elect=true',
      '--leader-election-id=ocr-platform-operator',
      `--leader-election-namespace=${ns}`,
      '--concurrency=4',
      '--log-level=info',
    ],
    logFile: join(cluster.logsDir, `operator-${ns}.log`),
    stopGraceMs: 15_000,
  });
  try {
    const atStart = procMemory(op.pid);
    const t0 = performance.now();
    const observer = new NamespaceObserver({ kc, namespace: ns, pipelines: n, deployments: 2 * n, now: () => performance.now() - t0 });
    await observer.start();
    const writer = applier(kc, 'bench-pipelines', 25);
    const names = Array.from({ length: n }, (_, i) => `p${String(i).padStart(4, '0')}`);
    for (let i = 0; i < n; i += 25) await Promise.all(names.slice(i, i + 25).map((name) => writer.apply(pipeline(ns, name, BENCH_SPEC))));
    writer.close();
    while (observer.operatorDoneAtAll === undefined && performance.now() - t0 < maxMs) await sleep(250);
    observer.stop();
    const done = observer.operatorDoneAtAll;
    await sleep(3_000); // the last status writes land
    const before = procMemory(op.pid);
    const m = await memoryAfterGc(op.pid, () => op.logLines());
    const cpu = op.usage().cpuSeconds;
    if (snapshotDir) await heapSnapshot(op.pid, snapshotDir);
    // heapTotal: what V8 has committed for its heap (from the probe's line; memoryAfterGc returns only RSS and heap used).
    const probeLine = op.logLines().findLast((l) => l.startsWith('{"benchMemory"'));
    const heapTotal = probeLine ? (JSON.parse(probeLine) as { benchMemory: { heapTotalBytes: number } }).benchMemory.heapTotalBytes : undefined;
    const mib = (b: number | undefined) => (b === undefined ? 'n/a' : (b / MiB).toFixed(0));
    return `| ${n} | ${done === undefined ? 'timeout' : (done / 1000).toFixed(1)} | ${mib(atStart.rss)} | ${mib(before.rss)} | ${mib(before.peak)} | ${mib(m?.rssBytes)} | ${mib(m?.heapUsedBytes)} | ${mib(heapTotal)} | ${cpu.toFixed(1)} | ${loadavg()[0]!.toFixed(1)} |`;
  } finally {
    await op.stop();
    await deleteNamespace(kc, ns).catch(() => undefined);
  }
}

const cluster = await startCluster({ name: values.cluster, profile: 'bench', ifRunning: 'reuse', log: (l) => say(l) });
const kc = loadKubeConfig(cluster.kubeconfigPath);
await installCrd(kc, cluster.kubeconfigPath);
say(`node args: ${['--enable-source-maps', ...extraNodeArgs].join(' ')}`);
const rows: string[] = [];
for (const n of sizes) {
  rows.push(await runSize(cluster, kc, n));
  say(rows.at(-1)!);
}
console.log(`\nnode args: ${['--enable-source-maps', ...extraNodeArgs].join(' ')}`);
console.log(
  '| pipelines | operator done (s) | RSS at start (MiB) | RSS at done, before GC (MiB) | peak RSS (MiB) | RSS after GC (MiB) | heap after GC (MiB) | V8 heap committed (MiB) | CPU (s) | load (1 min) |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
