// npm run bench:operator: how fast the operator turns OcrPipelines into children on a
// real control plane (DESIGN §8: "seconds, not minutes; flat when idle").
//
// For N = 1, 100 and 1,000 pipelines (each in a fresh namespace, a fresh operator process):
// time from the first apply until every child exists and every pipeline reports Ready=True
// (kwok makes the pods Ready), the operator's RSS at that point, and after each completed
// size above 1 the CPU the operator used while idle for 60 s (utime + stime, /proc/<pid>/stat).
// Each size is bounded (--max-seconds, default 300): on timeout the progress so far is
// reported. Anchor: the N=1 time, and per size the ratio to N x (N=1 time).
//
//   npm run bench:operator [-- --sizes=1,100,1000 --max-seconds=300 --idle-seconds=60 --concurrency=4]
//   OCR_BENCH_KUBECONFIG=path: use that cluster (it needs pod room: 2 pods per pipeline)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig, startCluster } from '../../test/support/cluster.ts';
import { startOperatorProcess, type OperatorProcess } from '../../test/support/operator-process.ts';
import {
  GROUP,
  PLURAL,
  ROOT,
  UNREACHABLE_CONNECTION_STRING,
  VERSION,
  apply,
  createNamespace,
  deleteNamespace,
  expectedChildren,
  installCrd,
  listChildren,
  pipeline,
  secret,
  sleep,
} from '../../test/integration/operator/harness.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,100,1000' },
    'max-seconds': { type: 'string', default: '300' },
    'idle-seconds': { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '4' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const maxMs = Number(values['max-seconds']) * 1000;
const idleSeconds = Number(values['idle-seconds']);
const concurrency = Number(values.concurrency);
const PER_PIPELINE = expectedChildren('x').length;
const say = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

interface Row {
  n: number;
  seconds: number;
  childrenDone: number;
  readyDone: number;
  complete: boolean;
  rssMiB: number;
}

/** Pipelines with Ready=True at their current generation, from one list call. */
async function readyCount(kc: KubeConfig, namespace: string): Promise<number> {
  const list = (await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL })) as {
    items: Array<{ metadata: { generation: number }; status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> } }>;
  };
  return list.items.filter(
    (p) => p.status?.observedGeneration === p.metadata.generation && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  ).length;
}

async function runSize(kc: KubeConfig, kubeconfigPath: string, n: number): Promise<{ row: Row; operator: OperatorProcess; namespace: string }> {
  const namespace = `bench-op-${n}-${Date.now().toString(36)}`;
  await createNamespace(kc, namespace);
  await apply(kc, secret(namespace, 'servicebus', { connectionString: UNREACHABLE_CONNECTION_STRING }));
  const operator = await startOperatorProcess({ kubeconfigPath, namespaces: [namespace], concurrency, logLevel: 'warn' });
  const names = Array.from({ length: n }, (_, i) => `p${String(i).padStart(4, '0')}`);
  const started = Date.now();
  // Apply in batches of 25 so the API server is not the bottleneck of the measurement.
  for (let i = 0; i < names.length; i += 25) await Promise.all(names.slice(i, i + 25).map((name) => apply(kc, pipeline(namespace, name))));
  say(`N=${n}: applied ${n} pipelines in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  let children = 0;
  let ready = 0;
  let lastPrint = 0;
  while (Date.now() - started < maxMs) {
    children = (await listChildren(kc, namespace)).length;
    ready = await readyCount(kc, namespace);
    if (children === n * PER_PIPELINE && ready === n) break;
    if (Date.now() - lastPrint > 10_000) {
      say(`N=${n}: ${children}/${n * PER_PIPELINE} children, ${ready}/${n} Ready after ${((Date.now() - started) / 1000).toFixed(0)} s`);
      lastPrint = Date.now();
    }
    await sleep(n > 10 ? 1_000 : 200);
  }
  const seconds = (Date.now() - started) / 1000;
  const complete = children === n * PER_PIPELINE && ready === n;
  const row: Row = { n, seconds, childrenDone: children, readyDone: ready, complete, rssMiB: operator.usage().rssBytes / 2 ** 20 };
  say(`N=${n}: ${complete ? 'done' : 'TIMED OUT'} in ${seconds.toFixed(1)} s (${children} children, ${ready} Ready), RSS ${row.rssMiB.toFixed(0)} MiB`);
  return { row, operator, namespace };
}

async function main(): Promise<void> {
  const given = process.env.OCR_BENCH_KUBECONFIG;
  const maxN = Math.max(...sizes);
  // kwok nodes hold 110 pods each; every pipeline runs 2 pods (API and worker at min 1).
  const nodes = Math.max(2, Math.ceil((2 * maxN) / 100) + 1);
  const cluster = given ? undefined : await startCluster({ name: 'bench-operator', nodes, log: (l) => say(l) });
  const kubeconfigPath = given ?? cluster!.kubeconfigPath;
  const kc = loadKubeConfig(kubeconfigPath);
  const rows: Row[] = [];
  const idle: Array<{ cpuSeconds: number; n: number }> = [];
  try {
    await installCrd(kc, kubeconfigPath);
    for (const n of sizes) {
      const { row, operator, namespace } = await runSize(kc, kubeconfigPath, n);
      rows.push(row);
      try {
        // Idle is only idle once everything is done: measured after each complete size above 1.
        if (row.complete && n > 1) {
          // Idle: let the last status writes land, then measure 60 s of doing nothing.
          await sleep(5_000);
          const before = operator.usage().cpuSeconds;
          say(`N=${n}: measuring idle CPU for ${idleSeconds} s`);
          await sleep(idleSeconds * 1000);
          const used = operator.usage().cpuSeconds - before;
          idle.push({ cpuSeconds: used, n });
          say(`N=${n}: idle CPU ${used.toFixed(2)} s in ${idleSeconds} s`);
        }
      } finally {
        await operator.stop();
        await deleteNamespace(kc, namespace);
      }
      if (!row.complete) break; // a larger size would only time out too
    }
  } finally {
    await cluster?.stop();
  }

  const anchor = rows.find((r) => r.n === 1 && r.complete)?.seconds;
  const lines = [
    '| pipelines | children | Ready | time to all children + Ready (s) | per pipeline (ms) | vs N x (N=1 time) | operator RSS (MiB) |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.n} | ${r.childrenDone}/${r.n * PER_PIPELINE} | ${r.readyDone}/${r.n} | ${r.seconds.toFixed(1)}${r.complete ? '' : ' (bound hit, not done)'} | ${r.complete ? ((r.seconds * 1000) / r.n).toFixed(0) : 'n/a'} | ${anchor && r.complete ? (r.seconds / (r.n * anchor)).toFixed(3) : 'n/a'} | ${r.rssMiB.toFixed(0)} |`,
    ),
  ];
  const idleLine =
    idle.length > 0
      ? idle
          .map(
            (i) =>
              `Idle CPU with ${i.n} Ready pipelines: ${i.cpuSeconds.toFixed(2)} CPU-s in ${idleSeconds} s (${((i.cpuSeconds / idleSeconds) * 100).toFixed(2)} % of one core).`,
          )
          .join('\n')
      : 'Idle CPU: not measured (no size above 1 completed).';
  console.log(`\n${lines.join('\n')}\n\n${idleLine}`);
  const md = [
    '# Operator benchmark (`npm run bench:operator`)',
    '',
    `Run ${new Date().toISOString()} on ${process.env.OCR_BENCH_KUBECONFIG ? 'a given cluster' : `the local control plane (${nodes} kwok nodes)`}; operator --concurrency=${concurrency}, bound ${maxMs / 1000} s per size.`,
    'Time: from the first apply until every child exists and every pipeline reports Ready=True at its generation (kwok makes pods Ready). Anchor: N x the N=1 time (1.0 = linear).',
    '',
    ...lines,
    '',
    idleLine,
    '',
  ].join('\n');
  writeFileSync(join(ROOT, 'bench/operator/RESULTS.md'), md);
  say('wrote bench/operator/RESULTS.md');
}

await main();
