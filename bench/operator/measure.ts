// What bench:operator measures outside the watches: the operator's writes (the apiserver's
// audit log, which names the user: the operator runs as CN=ocr-operator), every client's
// writes by verb and resource (apiserver_request_total from the apiserver's /metrics), the
// operator's CPU, RSS and V8 heap after a forced GC (memory-probe.ts), and its open
// connections to the apiserver (/proc/<pid>/net/tcp{,6} matched with /proc/<pid>/fd).
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';
import { request } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export const OPERATOR_USER = 'ocr-operator';
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export interface AuditWrite {
  /** epoch ms the apiserver received it */
  atMs: number;
  verb: string;
  /** resource, or resource/subresource */
  resource: string;
}

/** Reads the audit log from byte `from`; returns the operator's completed writes and the new offset. */
export function readAudit(file: string, from: number): { writes: AuditWrite[]; offset: number } {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return { writes: [], offset: from };
  }
  if (size < from) {
    throw new Error(`${file} holds ${size} bytes, fewer than the ${from} already read: the apiserver rotated it, and the writes in between are not counted`);
  }
  if (size === from) return { writes: [], offset: from };
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(size - from);
  try {
    readSync(fd, buf, 0, buf.length, from);
  } finally {
    closeSync(fd);
  }
  const text = buf.toString('utf8');
  const end = text.lastIndexOf('\n') + 1; // a line still being written waits for the next read
  return { writes: parseAudit(text.slice(0, end)), offset: from + Buffer.byteLength(text.slice(0, end)) };
}

/** Pure: the operator's completed writes in audit log lines (JSON, one event per line). */
export function parseAudit(text: string): AuditWrite[] {
  const out: AuditWrite[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes(`"${OPERATOR_USER}"`)) continue;
    const e = JSON.parse(line) as {
      stage?: string;
      verb?: string;
      user?: { username?: string };
      objectRef?: { resource?: string; subresource?: string };
      requestReceivedTimestamp?: string;
    };
    if (e.stage !== 'ResponseComplete' || e.user?.username !== OPERATOR_USER || !WRITE_VERBS.has(e.verb ?? '')) continue;
    const ref = e.objectRef ?? {};
    out.push({
      atMs: Date.parse(e.requestReceivedTimestamp ?? ''),
      verb: e.verb!,
      resource: ref.subresource ? `${ref.resource}/${ref.subresource}` : (ref.resource ?? '?'),
    });
  }
  return out;
}

/** Counts per "verb resource", largest first. */
export function tally(writes: readonly AuditWrite[]): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const w of writes) m.set(`${w.verb} ${w.resource}`, (m.get(`${w.verb} ${w.resource}`) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1]);
}

/** Writes that count against the pipelines: everything but the leader-election Lease renewals (shown apart). */
export const pipelineWrites = (writes: readonly AuditWrite[]) => writes.filter((w) => w.resource !== 'leases');

async function apiserverGet(kc: KubeConfig, path: string): Promise<string> {
  const url = new URL(path, kc.getCurrentCluster()!.server);
  const options: Parameters<KubeConfig['applyToHTTPSOptions']>[0] = { method: 'GET', timeout: 15_000 };
  await kc.applyToHTTPSOptions(options);
  return await new Promise<string>((resolve, reject) => {
    const req = request(url, options, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (b += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(b) : reject(new Error(`GET ${path}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

const METRIC_WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION']);

/** Pure: apiserver_request_total summed per "VERB resource[/subresource]" over write verbs (every client). */
export function parseRequestTotals(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!METRIC_WRITE_VERBS.has(labels.verb ?? '')) continue;
    const key = `${labels.verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

export async function requestTotals(kc: KubeConfig): Promise<Map<string, number>> {
  return parseRequestTotals(await apiserverGet(kc, '/metrics'));
}

/** The apiserver's /metrics text (for cpu.ts parseLatencySums and parseRequestTotals from one scrape). */
export function apiserverMetrics(kc: KubeConfig): Promise<string> {
  return apiserverGet(kc, '/metrics');
}

/** Pure: ocr_operator_reconcile_total summed over results, from the operator's /metrics text. */
export function parseReconciles(text: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith('ocr_operator_reconcile_total'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** The operator's reconciles so far (its own /metrics on the loopback metrics port); undefined when it does not answer. */
export async function operatorReconciles(metricsPort: number): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  return res?.ok ? parseReconciles(await res.text()) : undefined;
}

export function diffTotals(before: Map<string, number>, after: Map<string, number>): Array<[string, number]> {
  return [...after.entries()]
    .map(([k, v]): [string, number] => [k, v - (before.get(k) ?? 0)])
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1]);
}

/** ESTABLISHED TCP sockets of `pid` whose remote port is `port` (IPv4 and IPv6). */
export function connectionsTo(pid: number, port: number): number {
  const inodes = new Set<string>();
  for (const file of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const remotePort = parseInt(f[2]!.split(':')[1]!, 16);
      if (remotePort === port && f[3] === '01') inodes.add(f[9]!);
    }
  }
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m && inodes.has(m[1]!)) n += 1;
    } catch {
      // the fd closed while we looked
    }
  }
  return n;
}

export interface Memory {
  rssBytes: number;
  heapUsedBytes: number;
}

let probes = 0;

/** Sends SIGUSR2 to the operator (memory-probe.ts answers on its stdout with a sequence number) and waits for the answer. */
export async function memoryAfterGc(pid: number, logLines: () => string[]): Promise<Memory | undefined> {
  probes += 1;
  const marker = `{"benchMemory":{"seq":${probes},`;
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const line = logLines()
      .slice(-500)
      .find((l) => l.startsWith(marker));
    if (line) {
      const m = (JSON.parse(line) as { benchMemory: Memory }).benchMemory;
      return { rssBytes: m.rssBytes, heapUsedBytes: m.heapUsedBytes };
    }
  }
  return undefined;
}

/** A new operator process starts its probe's count at 1 again. */
export function resetMemoryProbe(): void {
  probes = 0;
}
