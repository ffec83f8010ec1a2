// The operator as a real child process (`node src/operator/main.ts`), the one spawner for
// `npm start`, the integration and e2e tests and the benchmarks: a given kubeconfig, watched
// namespaces, a free loopback metrics port, optional leader election on a named Lease, or
// the chart's own flags. stop() sends SIGTERM (SIGKILL after stopGraceMs, default 10 s);
// kill() sends any signal, e.g. SIGKILL to simulate a crash.
//
//   const op = await startOperatorProcess({ kubeconfigPath, namespaces: [ns] });
//   try { ... } finally { await op.stop(); }
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '../shared/net.ts';
import { readStat, trackChild } from './children.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LeaderElectionOptions {
  /** Namespace and name of the Lease. */
  namespace: string;
  name: string;
  /** Seconds; the operator's defaults (15/10/2) are slow for tests. */
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
}

export interface OperatorProcessOptions {
  kubeconfigPath: string;
  /** Watched namespaces; empty = all (avoid in tests: other files' namespaces would be reconciled). */
  namespaces: string[];
  /** Absent: --leader-elect=false (the process reconciles at once). */
  leaderElection?: LeaderElectionOptions;
  /** Seconds between full resyncs (default 300 in the operator). */
  resyncSeconds?: number;
  /** Pipelines reconciled in parallel. */
  concurrency?: number;
  /** --queue-poll value; the default here keeps the queue poller quiet. */
  queuePoll?: string;
  /** --prometheus-url (absent: the operator's default). */
  prometheusUrl?: string;
  /**
   * --allow-development-emulator: honour UseDevelopmentEmulator=true connection strings (the
   * Service Bus stand-in's). Also appended to `flags`. Default false, as in the operator.
   */
  allowDevelopmentEmulator?: boolean;
  logLevel?: string;
  /**
   * Flags to run with instead of the ones built from the options above (e.g. the chart's own);
   * --metrics-addr is replaced by the free loopback port.
   */
  flags?: readonly string[];
  /**
   * The entry point, relative to the repository root (default src/operator/main.ts, the sources
   * with type stripping); bench:operator runs dist/operator/main.js, as the chart and image do.
   */
  script?: string;
  /** Node flags before the script (e.g. --enable-source-maps as the image's NODE_OPTIONS, or a benchmark's --expose-gc). Default none. */
  nodeArgs?: readonly string[];
  /** Extra environment (KUBECONFIG is always the kubeconfigPath). */
  env?: Readonly<Record<string, string>>;
  /** Wait for /readyz before returning (default true). A standby is ready too. */
  waitReady?: boolean;
  /** Milliseconds; default 60,000. */
  readyTimeoutMs?: number;
  /** Also append every log line to this file (npm start keeps the operator's log there). */
  logFile?: string;
  /** Log lines kept in memory for tail() and logLines() (default 2,000). */
  keepLines?: number;
  /** Milliseconds from SIGTERM to SIGKILL in stop() (default 10,000). */
  stopGraceMs?: number;
}

export interface OperatorProcess {
  readonly pid: number;
  readonly metricsPort: number;
  readonly exited: boolean;
  /** The last `lines` log lines (stdout and stderr), for failure messages. */
  tail(lines?: number): string;
  /** Every log line kept so far (the last keepLines, default 2,000). */
  logLines(): string[];
  /** The value of the ocr_operator_leader gauge (1 leading, 0 not), undefined when unreachable. */
  leaderGauge(): Promise<number | undefined>;
  /** Resident set size in bytes and CPU seconds used (user + system), from /proc. */
  usage(): { rssBytes: number; cpuSeconds: number };
  /** Sends a signal; resolves when the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** SIGTERM, then SIGKILL after stopGraceMs (default 10 s); idempotent. */
  stop(): Promise<void>;
}

/** Quiet queue polling: pipelines in tests point at unreachable queues; poll them rarely. */
export const QUIET_QUEUE_POLL = 'idleMs=60000,busyMs=30000,backoffBaseMs=5000,backoffMaxMs=60000,statusRefreshMs=300000';

export function operatorArgs(o: OperatorProcessOptions, metricsPort: number): string[] {
  const script = join(ROOT, o.script ?? 'src/operator/main.ts');
  const emulator = o.allowDevelopmentEmulator ? ['--allow-development-emulator'] : [];
  if (o.flags) return [script, ...o.flags.map((a) => (a.startsWith('--metrics-addr=') ? `--metrics-addr=127.0.0.1:${metricsPort}` : a)), ...emulator];
  const args = [
    script,
    `--kubeconfig=${o.kubeconfigPath}`,
    `--namespaces=${o.namespaces.join(',')}`,
    `--metrics-addr=127.0.0.1:${metricsPort}`,
    `--resync-seconds=${o.resyncSeconds ?? 300}`,
    `--queue-poll=${o.queuePoll ?? QUIET_QUEUE_POLL}`,
    `--log-level=${o.logLevel ?? 'info'}`,
    ...emulator,
  ];
  if (o.concurrency !== undefined) args.push(`--concurrency=${o.concurrency}`);
  if (o.prometheusUrl !== undefined) args.push(`--prometheus-url=${o.prometheusUrl}`);
  const le = o.leaderElection;
  if (!le) return [...args, '--leader-elect=false'];
  return [
    ...args,
    '--leader-elect=true',
    `--leader-election-namespace=${le.namespace}`,
    `--leader-election-id=${le.name}`,
    `--lease-duration=${le.leaseDurationSeconds ?? 15}`,
    `--renew-deadline=${le.renewDeadlineSeconds ?? 10}`,
    `--retry-period=${le.retryPeriodSeconds ?? 2}`,
  ];
}

/** Reads utime + stime (clock ticks, 100 per second on Linux) and RSS from /proc/<pid>. */
export function procUsage(pid: number): { rssBytes: number; cpuSeconds: number } {
  const stat = readStat(pid);
  if (!stat) throw new Error(`process ${pid} is not running`);
  const ticks = stat.utime + stat.stime;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return { rssBytes: rssKb * 1024, cpuSeconds: ticks / 100 };
}

export async function startOperatorProcess(o: OperatorProcessOptions): Promise<OperatorProcess> {
  const metricsPort = await freePort();
  // KUBECONFIG also set: anything that loads the default config sees the same cluster.
  const child: ChildProcess = spawn(process.execPath, [...(o.nodeArgs ?? []), ...operatorArgs(o, metricsPort)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...o.env, KUBECONFIG: o.kubeconfigPath },
  });
  trackChild(child.pid, 'operator', { group: false });
  const keepLines = o.keepLines ?? 2_000;
  const log: string[] = [];
  // Whole lines only: a chunk may end inside a line, and tests search these lines.
  const keep = (line: string) => {
    if (!line) return;
    log.push(line);
    if (log.length > keepLines) log.splice(0, log.length - keepLines);
  };
  for (const stream of [child.stdout, child.stderr]) if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', keep);
  if (o.logFile) {
    const file = createWriteStream(o.logFile, { flags: 'a' });
    child.stdout?.pipe(file);
    child.stderr?.pipe(file);
  }
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );

  const proc: OperatorProcess = {
    pid: child.pid ?? -1,
    metricsPort,
    get exited() {
      return exited;
    },
    tail: (n = 30) => log.slice(-n).join('\n'),
    logLines: () => [...log],
    async leaderGauge() {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(3_000) }).catch(() => undefined);
      if (!res?.ok) return undefined;
      const m = /^ocr_operator_leader (\d+)/m.exec(await res.text());
      return m ? Number(m[1]) : undefined;
    },
    usage: () => procUsage(child.pid ?? -1),
    async kill(signal) {
      if (exited) return;
      child.kill(signal);
      await exit;
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), o.stopGraceMs ?? 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
  if (o.waitReady === false) return proc;
  try {
    await waitFor(
      `the operator to answer /readyz${o.logFile ? ` (log: ${o.logFile})` : ''}`,
      async () => {
        if (exited) throw new Error(`the operator exited:\n${proc.tail()}`);
        const res = await fetch(`http://127.0.0.1:${metricsPort}/readyz`, { signal: AbortSignal.timeout(3_000) }).catch(() => undefined);
        return res?.ok ?? false;
      },
      o.readyTimeoutMs ?? 60_000,
      250,
    );
  } catch (error) {
    await proc.stop();
    throw new Error(`${(error as Error).message}\noperator log:\n${proc.tail()}`);
  }
  return proc;
}
