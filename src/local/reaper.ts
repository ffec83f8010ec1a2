// The watchdog of `npm start`: `node src/local/reaper.ts`, spawned detached (so a terminal's
// Ctrl-C does not reach it) with a pipe on its stdin. npm start writes one JSON ChildRecord
// per line for every long-lived child it spawns. EOF on stdin means npm start has exited:
// normally it has stopped everything by then and nothing is left to do; after a SIGKILL the
// watchdog stops what still runs (SIGTERM, SIGKILL after 3 s) and exits. Node has no
// prctl(PR_SET_PDEATHSIG), and the kernel closing the pipe is instant and needs no polling.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stopChildren, type ChildRecord, type ChildTracker } from './children.ts';

/** Pure: one protocol line, or undefined when it is not a record. */
export function parseRecord(line: string): ChildRecord | undefined {
  try {
    const r = JSON.parse(line) as Partial<ChildRecord>;
    if (typeof r.pid !== 'number' || r.pid <= 1 || typeof r.startTime !== 'number') return undefined;
    return { pid: r.pid, startTime: r.startTime, group: r.group === true, what: String(r.what ?? '') };
  } catch {
    return undefined;
  }
}

export interface Reaper {
  pid: number;
  track: ChildTracker;
}

/**
 * Starts the watchdog for this process. It is unref'd: it never keeps npm start alive, and
 * npm start exiting in any way (return, crash, SIGKILL) closes the pipe.
 */
export function startReaper(): Reaper {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], { detached: true, stdio: ['pipe', 'ignore', 'inherit'] });
  child.unref();
  const stdin = child.stdin;
  // the socket of the pipe must not hold the event loop open either
  (stdin as unknown as { unref?: () => void }).unref?.();
  stdin.on('error', () => undefined); // the watchdog gone: nothing to tell it any more
  return {
    pid: child.pid ?? -1,
    track: (record) => {
      stdin.write(`${JSON.stringify(record)}\n`);
    },
  };
}

async function main(): Promise<void> {
  const parent = process.ppid;
  const records: ChildRecord[] = [];
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const r = parseRecord(line);
    if (r) records.push(r);
  });
  await new Promise<void>((resolve) => lines.once('close', resolve));
  // 3 s of grace (not the 5 s default): npm start is gone, so a graceful drain serves nobody
  const stopped = await stopChildren(records, 3_000);
  if (stopped.length > 0) {
    process.stderr.write(
      `npm start (pid ${parent}) exited without stopping its processes: the watchdog stopped ${stopped.map((r) => `${r.what} (pid ${r.pid})`).join(', ')}\n`,
    );
  }
}

if (import.meta.main) {
  // a terminal's Ctrl-C or a hang-up must not end the watchdog before npm start itself
  for (const s of ['SIGINT', 'SIGHUP'] as const) process.on(s, () => undefined);
  await main();
}
