// An idle operator writes nothing (DESIGN §9): with a 2 s resync, several full reconciles
// of every pipeline leave every child and every pipeline at the same resourceVersion; so
// does a restart of the operator (a fresh process re-reconciles everything on start). Not
// even a no-op request: write requests are counted twice, by the API server
// (apiserver_request_total: APPLY on child kinds, PATCH of ocrpipelines/status, POST of events)
// and by the operator (ocr_operator_api_requests_total); a new pipeline costs a bounded number.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { AutoscalingV2Api, type KubeConfig } from '@kubernetes/client-node';
import { defaultBinDir } from '../../support/cluster.ts';
import { startOperatorProcess, type OperatorProcess } from '../../support/operator-process.ts';
import {
  UNREACHABLE_CONNECTION_STRING,
  apply,
  clusterWithNamespace,
  closeNamespace,
  eventually,
  expectedChildren,
  isReadyAtCurrentGeneration,
  listChildren,
  pipeline,
  readPipeline,
  resourceVersions,
  secret,
  skipWithoutCluster,
  sleep,
  uniqueNamespace,
  type TestCluster,
} from './harness.ts';

const NS = uniqueNamespace('idle');
const PIPELINES = ['idle-a', 'idle-b'];
const RESYNC_SECONDS = 2;
/** Longer than kube-controller-manager's HPA sync (5 s in TEST_TIMING) and a resync. */
const SETTLE_GAP_MS = 6_000;

/** Sum of ocr_operator_reconcile_total{result="success"} from the operator's /metrics. */
async function reconciles(op: OperatorProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${op.metricsPort}/metrics`, { signal: AbortSignal.timeout(3_000) })).text();
  return Number(/^ocr_operator_reconcile_total\{result="success"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

/** The operator's write requests (every verb but GET) by "VERB resource", from its own counter. */
async function operatorWrites(op: OperatorProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${op.metricsPort}/metrics`, { signal: AbortSignal.timeout(3_000) })).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^ocr_operator_api_requests_total\{([^}]*)\} (\d+)/gm)) {
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (labels.verb === 'GET' || Number(m[2]) === 0) continue;
    const key = `${labels.verb ?? ''} ${labels.resource ?? ''}`;
    out[key] = (out[key] ?? 0) + Number(m[2]);
  }
  return out;
}

/** Resources whose writes only the operator makes in this cluster (the tests apply pipelines and Secrets, never these verbs on them). */
const OPERATOR_WRITES = [
  ['APPLY', 'deployments', ''],
  ['APPLY', 'services', ''],
  ['APPLY', 'horizontalpodautoscalers', ''],
  ['APPLY', 'poddisruptionbudgets', ''],
  ['APPLY', 'networkpolicies', ''],
  ['PATCH', 'ocrpipelines', 'status'],
] as const;

/** The API server's count of the operator's kinds of write (OPERATOR_WRITES), cluster-wide, from its /metrics. */
async function apiserverWrites(kubeconfigPath: string): Promise<Record<string, number>> {
  const { stdout } = await promisify(execFile)(join(defaultBinDir(), 'kubectl'), ['--kubeconfig', kubeconfigPath, 'get', '--raw', '/metrics'], {
    timeout: 30_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const out: Record<string, number> = {};
  for (const m of stdout.matchAll(/^apiserver_request_total\{([^}]*)\} (\d+)/gm)) {
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const match = OPERATOR_WRITES.find(([verb, resource, sub]) => labels.verb === verb && labels.resource === resource && (labels.subresource ?? '') === sub);
    if (!match) continue;
    const key = `${match[0]} ${match[1]}${match[2] ? `/${match[2]}` : ''}`;
    out[key] = (out[key] ?? 0) + Number(m[2]);
  }
  return out;
}

/** Established TCP connections of process `pid` to `port` (from /proc: its socket inodes matched against the tcp tables). */
function connectionsTo(pid: number, port: number): number {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? ''];
      } catch {
        return []; // closed meanwhile
      }
    }),
  );
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['tcp', 'tcp6']
    .flatMap((t) => readFileSync(`/proc/${pid}/net/${t}`, 'utf8').split('\n').slice(1))
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[2]?.endsWith(`:${hexPort}`) && f[3] === '01' && inodes.has(f[9] ?? '')).length;
}

/** Counters that moved between two readings, as "key: +n". */
const grown = (a: Record<string, number>, b: Record<string, number>) =>
  Object.keys(b)
    .filter((k) => (b[k] ?? 0) !== (a[k] ?? 0))
    .map((k) => `${k}: +${(b[k] ?? 0) - (a[k] ?? 0)}`);
const total = (a: Record<string, number>, b: Record<string, number>) => Object.keys(b).reduce((n, k) => n + (b[k] ?? 0) - (a[k] ?? 0), 0);

/** Which objects changed between two snapshots. */
const changed = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys({ ...a, ...b })
    .filter((k) => a[k] !== b[k])
    .map((k) => `${k}: ${a[k] ?? '-'} -> ${b[k] ?? '-'}`);

/**
 * Waits until the world is at rest: every HPA evaluated once by kube-controller-manager
 * (its status feeds MetricsAvailable), then two snapshots `gapMs` apart equal.
 */
async function settled(kc: KubeConfig, gapMs: number, timeoutMs: number): Promise<Record<string, string>> {
  const hpas = kc.makeApiClient(AutoscalingV2Api);
  await eventually(
    'every HPA to be evaluated',
    async () => (await hpas.listNamespacedHorizontalPodAutoscaler({ namespace: NS })).items.every((h) => (h.status?.conditions?.length ?? 0) > 0),
    timeoutMs,
  );
  let last = await resourceVersions(kc, NS, PIPELINES);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await sleep(gapMs);
    const now = await resourceVersions(kc, NS, PIPELINES);
    if (changed(last, now).length === 0) return now;
    last = now;
  }
  throw new Error(`the namespace did not settle within ${timeoutMs} ms`);
}

void describe('an idle operator writes nothing', { skip: skipWithoutCluster, timeout: 150_000 }, () => {
  let cluster: TestCluster;
  let operator: OperatorProcess | undefined;
  const log = () => `operator log:\n${operator?.tail(20) ?? '(not started)'}`;
  const statuses = async () =>
    (await Promise.all(PIPELINES.map(async (n) => `${n}: ${JSON.stringify((await readPipeline(cluster.kc, NS, n))?.status)}`))).join('\n');
  const start = async () => startOperatorProcess({ kubeconfigPath: cluster.kubeconfigPath, namespaces: [NS], resyncSeconds: RESYNC_SECONDS });

  before(async () => {
    cluster = await clusterWithNamespace('it-operator-idle', NS);
    await apply(cluster.kc, secret(NS, 'servicebus', { connectionString: UNREACHABLE_CONNECTION_STRING }));
    operator = await start();
    for (const name of PIPELINES) await apply(cluster.kc, pipeline(NS, name));
    for (const name of PIPELINES) {
      await eventually(
        `${name} Ready with every child`,
        async () =>
          isReadyAtCurrentGeneration(await readPipeline(cluster.kc, NS, name)) &&
          (await listChildren(cluster.kc, NS, name)).length === expectedChildren(name).length,
        60_000,
        log,
      );
    }
  });

  after(async () => {
    await operator?.stop();
    await closeNamespace(cluster, NS);
  });

  void it('several resyncs leave every child and pipeline at the same resourceVersion', { timeout: 60_000 }, async () => {
    const op = operator!;
    const before = await settled(cluster.kc, SETTLE_GAP_MS, 45_000);
    const reconcilesBefore = await reconciles(op);
    const [serverBefore, operatorBefore] = [await apiserverWrites(cluster.kubeconfigPath), await operatorWrites(op)];
    await sleep(3 * RESYNC_SECONDS * 1000 + 500);
    const after = await resourceVersions(cluster.kc, NS, PIPELINES);
    const ran = (await reconciles(op)) - reconcilesBefore;
    assert.ok(ran >= 2 * PIPELINES.length, `the operator re-reconciled every pipeline at least twice (${ran} reconciles)`);
    assert.deepEqual(changed(before, after), [], `no object was written\n${await statuses()}`);
    assert.deepEqual(grown(serverBefore, await apiserverWrites(cluster.kubeconfigPath)), [], 'the API server saw no write request of the operator');
    assert.deepEqual(grown(operatorBefore, await operatorWrites(op)), [], 'the operator sent no write request');
    // One pool (src/operator/kube-client.ts): undici negotiates HTTP/2 with the API server, so the
    // watches (8 kinds, a stream each) and every call share one connection; the library alone opened one per call.
    const connections = connectionsTo(op.pid, Number(new URL(cluster.kc.getCurrentCluster()?.server ?? '').port));
    console.error(`  operator connections to the API server after ${ran} reconciles: ${connections}`);
    assert.ok(connections <= 3, `at most 3 connections to the API server, got ${connections}`);
    assert.equal(Object.keys(before).length, PIPELINES.length * (expectedChildren('x').length + 1));
  });

  void it('a restarted operator changes nothing either', { timeout: 60_000 }, async () => {
    const before = await settled(cluster.kc, SETTLE_GAP_MS, 30_000);
    await operator?.stop();
    const serverBefore = await apiserverWrites(cluster.kubeconfigPath);
    operator = await start();
    const op = operator;
    await eventually('the new process to reconcile every pipeline', async () => (await reconciles(op)) >= PIPELINES.length, 30_000, log);
    // Beyond the first queue poll and a few resyncs: a status flip would show by now.
    await sleep(3 * RESYNC_SECONDS * 1000 + 500);
    const after = await resourceVersions(cluster.kc, NS, PIPELINES);
    assert.deepEqual(changed(before, after), [], `no object was written after the restart\n${await statuses()}\n${log()}`);
    assert.deepEqual(grown(serverBefore, await apiserverWrites(cluster.kubeconfigPath)), [], 'the API server saw no write request of the new process');
    assert.deepEqual(await operatorWrites(op), {}, 'the new process sent no write request at all');
  });

  void it('a new pipeline costs at most 13 write requests until it is Ready (11 without a generated API key)', { timeout: 90_000 }, async () => {
    const op = operator!;
    const name = 'idle-new';
    const [serverBefore, operatorBefore] = [await apiserverWrites(cluster.kubeconfigPath), await operatorWrites(op)];
    await apply(cluster.kc, pipeline(NS, name));
    await eventually(
      `${name} Ready with every child`,
      async () =>
        isReadyAtCurrentGeneration(await readPipeline(cluster.kc, NS, name)) &&
        (await listChildren(cluster.kc, NS, name)).length === expectedChildren(name).length,
      60_000,
      log,
    );
    await sleep(SETTLE_GAP_MS); // late writes (a status update after the pods) count too
    const [serverAfter, operatorAfter] = [await apiserverWrites(cluster.kubeconfigPath), await operatorWrites(op)];
    const detail = `API server: ${grown(serverBefore, serverAfter).join(', ')}; operator: ${grown(operatorBefore, operatorAfter).join(', ')}`;
    console.error(`  writes for one new pipeline: ${detail}`);
    const by = (prefix: string) => Object.entries(operatorAfter).reduce((n, [k, v]) => (k.startsWith(prefix) ? n + v - (operatorBefore[k] ?? 0) : n), 0);
    // One apply per child (7), the generated API key Secret and its GeneratedAPIKey Event, one
    // Created Event for all children, and status: the first report, then rollout and HPA/queue
    // news (STATUS_INTERVAL_MS merges what arrives together). 11 without a generated key.
    assert.ok(by('PATCH ') - by('PATCH ocrpipelines') <= expectedChildren(name).length, `one apply per child at most (${detail})`);
    assert.ok(by('POST events') <= 2 && by('POST secrets') <= 1, `two Events and one Secret at most (${detail})`);
    assert.ok(by('PATCH ocrpipelines/status') <= 3, `three status writes at most (${detail})`);
    assert.ok(total(operatorBefore, operatorAfter) <= 13, `at most 13 write requests by the operator (${detail})`);
    // The API server's view of the same (Events excluded: kube-controller-manager writes those too).
    assert.ok(total(serverBefore, serverAfter) <= total(operatorBefore, operatorAfter), detail);
  });
});
