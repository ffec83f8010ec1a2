// The API and the worker as real child processes (node src/api/main.ts, node
// src/worker/main.ts), configured only through the environment the operator sets.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort, waitFor } from '../../support/ports.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

export interface Child {
  child: ChildProcess;
  port: number;
  url: string;
  /** The API's admin port (/metrics, /openapi.json, /health detail); undefined for the worker. */
  adminUrl?: string;
  exited: Promise<number | null>;
  logs(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const live = new Set<ChildProcess>();

/** SIGKILLs every child a test left running (call from `after`). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}

async function start(script: string, env: Record<string, string>, ready: string, timeoutMs: number): Promise<Child> {
  const port = Number(env.PORT ?? env.METRICS_PORT);
  const child = spawn(process.execPath, [resolve(ROOT, script)], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  live.add(child);
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      live.delete(child);
      r(code);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const handle: Child = {
    child,
    port,
    url,
    exited,
    logs: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  try {
    await waitFor(
      `${script} to answer ${ready}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}: ${output.slice(-2000)}`);
        const response = await fetch(url + ready, { signal: AbortSignal.timeout(2_000) });
        await response.body?.cancel();
        return response.status === 200;
      },
      timeoutMs,
      100,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return handle;
}

export async function startWorker(env: Record<string, string>): Promise<Child> {
  return await start('src/worker/main.ts', { METRICS_PORT: String(await freePort()), WORKER_CONCURRENCY: '1', ...env }, '/ready', 90_000);
}

export async function startApiProcess(env: Record<string, string>): Promise<Child> {
  // A free admin port too: several API processes may run at once, and 9090 may be taken.
  const adminPort = env.API_ADMIN_PORT ?? String(await freePort());
  const child = await start('src/api/main.ts', { PORT: String(await freePort()), API_ADMIN_PORT: adminPort, ...env }, '/ready', 30_000);
  return { ...child, adminUrl: `http://127.0.0.1:${adminPort}` };
}
