// Where the CPU went during a window of bench:operator: utime + stime of each process of the
// control plane (from its state file's pids), of the operator and of the benchmark itself, read
// from /proc/<pid>/stat before and after; the whole machine's busy time from /proc/stat; and
// what the window offered (cores x wall). A sum of the named processes close to what the window
// offered means they saturated the machine; the whole machine's figure beside it shows how much
// others (on a shared machine) took. Also the apiserver's and etcd's mean request latencies from
// the apiserver's /metrics, before and after (the histograms' _sum / _count).
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { procUsage } from '../../test/support/operator-process.ts';

/** A process to account for: a label for the table and its pid (undefined: not running in this window). */
export interface Tracked {
  label: string;
  pid: number | undefined;
}

export interface CpuSample {
  /** performance.now() in ms */
  atMs: number;
  /** CPU seconds (utime + stime) per label; undefined when the process was not running */
  seconds: Map<string, number | undefined>;
  machine: MachineTicks;
}

/** The first line of /proc/stat: ticks summed over every core. */
export interface MachineTicks {
  busy: number;
  total: number;
}

/** Clock ticks per second of /proc (USER_HZ): 100 on Linux, as procUsage assumes. */
const TICKS_PER_SECOND = 100;

/** Pure: busy (everything but idle and iowait) and total ticks of /proc/stat's "cpu" line. */
export function parseProcStat(text: string): MachineTicks {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no "cpu " line');
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest and guest_nice are already in user and nice)
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return procUsage(pid).cpuSeconds;
  } catch {
    return undefined; // exited
  }
}

export function sampleCpu(tracked: readonly Tracked[]): CpuSample {
  return {
    atMs: performance.now(),
    seconds: new Map(tracked.map((t) => [t.label, cpuSecondsOf(t.pid)])),
    machine: parseProcStat(readFileSync('/proc/stat', 'utf8')),
  };
}

export interface CpuWindow {
  wallSeconds: number;
  cores: number;
  /** CPU seconds per label, in the order sampled; undefined when the process was not running at both ends */
  rows: Array<[string, number | undefined]>;
  /** sum of the rows that have a figure */
  namedSeconds: number;
  /** busy CPU seconds of the whole machine (every process, ours and others') */
  machineSeconds: number;
  /** cores x wall */
  offeredSeconds: number;
}

/** Pure: the CPU each tracked process used between two samples, beside the machine's and what the window offered. */
export function cpuWindow(before: CpuSample, after: CpuSample, cores: number = cpus().length): CpuWindow {
  const rows: Array<[string, number | undefined]> = [...after.seconds.entries()].map(([label, end]) => {
    const start = before.seconds.get(label);
    return [label, start === undefined || end === undefined ? undefined : end - start];
  });
  const wallSeconds = (after.atMs - before.atMs) / 1000;
  const ticks = after.machine.total - before.machine.total;
  // /proc/stat's ticks are summed over the cores: scale to CPU seconds with the tick rate.
  const machineSeconds = ticks > 0 ? (after.machine.busy - before.machine.busy) / TICKS_PER_SECOND : 0;
  return {
    wallSeconds,
    cores,
    rows,
    namedSeconds: rows.reduce((s, [, v]) => s + (v ?? 0), 0),
    machineSeconds,
    offeredSeconds: cores * wallSeconds,
  };
}

/** Mean latency and count of one histogram series between two scrapes. */
export interface LatencyRow {
  key: string;
  count: number;
  meanMs: number;
}

type Sums = Map<string, { sum: number; count: number }>;

/**
 * Pure: apiserver_request_duration_seconds per verb (without WATCH and CONNECT, which last as
 * long as the client keeps them), etcd_request_duration_seconds per operation, and
 * apiserver_flowcontrol_request_wait_duration_seconds (time queued by API Priority and
 * Fairness) per priority level, summed over the other labels: "<metric> <label>" -> sum, count.
 */
export function parseLatencySums(text: string): Sums {
  const series: Array<[string, string, (labels: Record<string, string>) => string | undefined]> = [
    ['apiserver_request_duration_seconds', 'apiserver', (l) => (l.verb === 'WATCH' || l.verb === 'CONNECT' ? undefined : l.verb)],
    ['etcd_request_duration_seconds', 'etcd', (l) => l.operation],
    ['apiserver_flowcontrol_request_wait_duration_seconds', 'APF wait', (l) => l.priority_level],
  ];
  const out: Sums = new Map();
  for (const line of text.split('\n')) {
    for (const [metric, label, keyOf] of series) {
      const part = line.startsWith(`${metric}_sum{`) ? 'sum' : line.startsWith(`${metric}_count{`) ? 'count' : undefined;
      if (!part) continue;
      const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      const k = keyOf(labels);
      if (k === undefined) continue;
      const key = `${label} ${k}`;
      const entry = out.get(key) ?? { sum: 0, count: 0 };
      entry[part] += Number(line.slice(line.lastIndexOf(' ') + 1));
      out.set(key, entry);
    }
  }
  return out;
}

/** Pure: the series that moved between two scrapes, with their mean latency in ms, most requests first. */
export function latencyWindow(before: Sums, after: Sums): LatencyRow[] {
  return [...after.entries()]
    .map(([key, a]) => {
      const b = before.get(key) ?? { sum: 0, count: 0 };
      const count = a.count - b.count;
      return { key, count, meanMs: count > 0 ? ((a.sum - b.sum) / count) * 1000 : 0 };
    })
    .filter((r) => r.count > 0)
    .sort((x, y) => y.count - x.count);
}

/** The table of one or more CPU windows side by side, in markdown. */
export function cpuTable(title: string, windows: ReadonlyArray<[string, CpuWindow | undefined]>): string {
  const present = windows.filter((w): w is [string, CpuWindow] => w[1] !== undefined);
  if (present.length === 0) return `${title}: no window measured`;
  const labels = [...new Set(present.flatMap(([, w]) => w.rows.map(([l]) => l)))];
  const cell = (s: number | undefined, w: CpuWindow) => (s === undefined ? 'n/a' : `${s.toFixed(1)} (${((s / w.offeredSeconds) * 100).toFixed(0)} %)`);
  const lines = [
    `${title} (CPU seconds, and the share of what the window offered: ${present[0]![1].cores} cores x wall)`,
    `| process | ${present.map(([name]) => name).join(' | ')} |`,
    `|---|${present.map(() => '---:').join('|')}|`,
    ...labels.map((l) => `| ${l} | ${present.map(([, w]) => cell(w.rows.find(([x]) => x === l)?.[1], w)).join(' | ')} |`),
    `| sum of the above | ${present.map(([, w]) => cell(w.namedSeconds, w)).join(' | ')} |`,
    `| whole machine (/proc/stat) | ${present.map(([, w]) => cell(w.machineSeconds, w)).join(' | ')} |`,
    `| offered (wall s x cores) | ${present.map(([, w]) => `${w.offeredSeconds.toFixed(1)} (${w.wallSeconds.toFixed(1)} s x ${w.cores})`).join(' | ')} |`,
  ];
  return lines.join('\n');
}

/** The latency rows of one or more windows, one line each: "<key> <mean> ms x <count>". */
export function latencyLines(title: string, windows: ReadonlyArray<[string, LatencyRow[] | undefined]>): string {
  return windows
    .filter((w): w is [string, LatencyRow[]] => w[1] !== undefined)
    .map(([name, rows]) => `${title}, ${name}: ${rows.map((r) => `${r.key} ${r.meanMs.toFixed(1)} ms x ${r.count}`).join(', ') || 'none'}`)
    .join('\n');
}
