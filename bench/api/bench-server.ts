// The API under benchmark as a child process (bench/api/server.ts), shared by run.ts, profile.ts
// and accept-burst.ts: pinning (the API on core 0, the caller and its load generator on core 1,
// where taskset exists), the spawn, the wait for its "ready <port>" line, a draining stop, and the
// CPU a process has used.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const SERVER = resolve(import.meta.dirname, 'server.ts');

/**
 * Pins the calling process to core 1 (the load generator's) when taskset exists; true when it did.
 * Servers started afterwards go to core 0.
 */
export function pinLoadGenerator(): boolean {
  try {
    execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface BenchServer {
  port: number;
  child: ChildProcess;
  /** SIGTERM (the server drains, so a --cpu-prof profile gets written), SIGKILL after 5 s. */
  stop(): Promise<void>;
}

export interface BenchServerOptions {
  /** BENCH_MODE: bare (the anchor), memory (in-process stores) or azurite. */
  mode: string;
  /** Pin the server to core 0 (taskset). */
  pinned: boolean;
  /** Extra environment (storage connection strings, BENCH_ACCEPT_SOCKETS). */
  env?: Record<string, string>;
  /** Node flags before the script, e.g. --cpu-prof. */
  nodeArgs?: string[];
  key?: string;
}

/** Starts bench/api/server.ts and resolves once it prints its port (30 s at most). */
export async function startBenchServer(options: BenchServerOptions): Promise<BenchServer> {
  const node = [process.execPath, ...(options.nodeArgs ?? []), SERVER];
  const child = spawn(options.pinned ? 'taskset' : (node[0] as string), options.pinned ? ['-c', '0', ...node] : node.slice(1), {
    env: { ...process.env, ...options.env, BENCH_MODE: options.mode, BENCH_KEY: options.key ?? 'bench-key', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`${options.mode} server did not start in 30 s`)), 30_000);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ready (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${options.mode} server exited with ${code}`));
    });
  });
  return {
    port,
    child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** CPU seconds (user + system) a process has used, from /proc; undefined where /proc is missing. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100/s)
  } catch {
    return undefined;
  }
}
