// Every long-lived process `npm start` spawns (control plane, Azurite, the operator, pod
// processes) is reported here, so that none outlives an `npm start` killed with SIGKILL:
//   - a watchdog (src/local/reaper.ts) holds a pipe from `npm start`; its EOF means npm start
//     died, and the watchdog stops every reported process (Node has no PR_SET_PDEATHSIG);
//   - each report is also written to <cacheDir>/local/children-<pid>.json, so the next
//     `npm start` stops whatever is left when even the watchdog was killed.
// A record holds the pid and the process start time (clock ticks after boot, /proc/<pid>/stat
// field 22): a recycled pid runs another process with another start time and is never touched.
// Without an installed tracker (the cluster tool, tests), reporting is a no-op: `cluster:up`
// leaves its processes running on purpose.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ChildRecord {
  pid: number;
  /** Clock ticks after boot (field 22 of /proc/<pid>/stat); 0 when it could not be read. */
  startTime: number;
  /** True when the child leads its own process group (spawned detached): the whole group is signalled. */
  group: boolean;
  /** What it is, for log lines: "etcd", "azurite", "container receipts-api-x/api". */
  what: string;
}

export type ChildTracker = (record: ChildRecord) => void;

let tracker: ChildTracker | undefined;

/** Installs the process-wide tracker (npm start only); undefined removes it. */
export function setChildTracker(t: ChildTracker | undefined): void {
  tracker = t;
}

/** Called by every spawner of a long-lived child right after spawn; a no-op without a tracker. */
export function trackChild(pid: number | undefined, what: string, options: { group: boolean }): void {
  if (pid === undefined || !tracker) return;
  tracker({ pid, startTime: readStat(pid)?.startTime ?? 0, group: options.group, what });
}

export interface ProcStat {
  /** One letter: R, S, D, Z (zombie), T, ... */
  state: string;
  ppid: number;
  /** Clock ticks after boot. */
  startTime: number;
  /** CPU clock ticks in user and kernel mode. */
  utime: number;
  stime: number;
}

/** Pure: parses /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses. */
export function parseStat(text: string): ProcStat | undefined {
  const end = text.lastIndexOf(')');
  if (end < 0) return undefined;
  // fields from 3 (state) on; starttime is field 22, i.e. index 19 here
  const fields = text
    .slice(end + 2)
    .trim()
    .split(' ');
  const startTime = Number(fields[19]);
  const ppid = Number(fields[1]);
  if (!fields[0] || !Number.isFinite(startTime) || !Number.isFinite(ppid)) return undefined;
  return { state: fields[0], ppid, startTime, utime: Number(fields[11]), stime: Number(fields[12]) };
}

export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
}

/**
 * Pure: is the process of `record` still the one we started and not yet dead? A zombie is
 * dead; a different start time is a recycled pid. A record without a start time (0) never
 * matches: without it a pid cannot be told from a recycled one, and a stranger is never signalled.
 */
export function isSameLiveProcess(record: Pick<ChildRecord, 'pid' | 'startTime'>, stat: ProcStat | undefined): boolean {
  if (!stat || stat.state === 'Z') return false;
  return record.startTime !== 0 && stat.startTime === record.startTime;
}

function signal(record: ChildRecord, name: NodeJS.Signals): void {
  // the group first (a pod's shell and its node process), then the leader alone in case it left the group
  for (const target of record.group ? [-record.pid, record.pid] : [record.pid]) {
    try {
      process.kill(target, name);
    } catch {
      // already gone
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * SIGTERM to every record that still runs, SIGKILL after `graceMs` (default 5,000 ms) to
 * what has not exited; resolves with the records that were running, once they are gone
 * (or after a further 2 s). `stat` is injectable for tests.
 */
export async function stopChildren(
  records: readonly ChildRecord[],
  graceMs = 5_000,
  stat: (pid: number) => ProcStat | undefined = readStat,
): Promise<ChildRecord[]> {
  const live = (r: ChildRecord) => isSameLiveProcess(r, stat(r.pid));
  const running = records.filter(live);
  for (const r of running) signal(r, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (running.some(live) && Date.now() < deadline) await sleep(100);
  const stubborn = running.filter(live);
  for (const r of stubborn) signal(r, 'SIGKILL');
  const killDeadline = Date.now() + 2_000;
  while (stubborn.some(live) && Date.now() < killDeadline) await sleep(50);
  return running;
}

/** The record file of one `npm start` run: its own pid and start time, and its children. */
export interface RunRecord {
  owner: { pid: number; startTime: number };
  children: ChildRecord[];
}

export const runFile = (localDir: string, pid: number): string => join(localDir, `children-${pid}.json`);

/** Pure: the run files of `names` (a directory listing) and the pid each belongs to. */
export function runFiles(names: readonly string[]): { name: string; pid: number }[] {
  return names.flatMap((name) => {
    const m = /^children-(\d+)\.json$/.exec(name);
    return m ? [{ name, pid: Number(m[1]) }] : [];
  });
}

/**
 * The next `npm start` cleans up after one that died without stopping (SIGKILL, OOM, power):
 * for every run file whose owner is gone, stops its children that still run and removes the
 * file and the run's work directory (<localDir>/run-<pid>). Runs that are alive are left alone.
 * Returns what was stopped, for a log line.
 */
export async function stopLeftovers(localDir: string): Promise<ChildRecord[]> {
  let names: string[];
  try {
    names = readdirSync(localDir);
  } catch {
    return [];
  }
  const stopped: ChildRecord[] = [];
  for (const { name, pid } of runFiles(names)) {
    const file = join(localDir, name);
    let run: RunRecord;
    try {
      run = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
    } catch {
      rmSync(file, { force: true });
      continue;
    }
    if (pid !== process.pid && isSameLiveProcess(run.owner, readStat(run.owner.pid))) continue;
    stopped.push(...(await stopChildren(run.children ?? [])));
    rmSync(join(localDir, `run-${pid}`), { recursive: true, force: true });
    rmSync(file, { force: true });
  }
  return stopped;
}

/** A tracker that keeps this run's file up to date (written whole on every report; a few hundred bytes per child). */
export function fileTracker(localDir: string): { track: ChildTracker; records: () => ChildRecord[]; remove: () => void } {
  const file = runFile(localDir, process.pid);
  const run: RunRecord = { owner: { pid: process.pid, startTime: readStat(process.pid)?.startTime ?? 0 }, children: [] };
  return {
    track: (record) => {
      // drop records of processes that have exited, so a crash-looping pod does not grow the file
      run.children = run.children.filter((r) => isSameLiveProcess(r, readStat(r.pid)));
      run.children.push(record);
      writeFileSync(file, `${JSON.stringify(run)}\n`);
    },
    records: () => [...run.children],
    remove: () => rmSync(file, { force: true }),
  };
}
