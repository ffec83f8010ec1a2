// Child processes of the local control plane: spawned detached (their own
// process group) with stdout+stderr in one log file per component, so they keep
// running after `cluster:up` exits and a later `cluster:down` can stop them by pid.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { readStat, trackChild } from '../children.ts';

export interface StartedProcess {
  component: string;
  pid: number;
  binary: string;
  logFile: string;
  /** Resolves with the exit code (or signal) if the process ends; used to fail fast during start-up. */
  exited: Promise<string>;
}

export function startProcess(
  component: string,
  binary: string,
  args: readonly string[],
  logFile: string,
  env: NodeJS.ProcessEnv = process.env,
): StartedProcess {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(binary, args, { detached: true, stdio: ['ignore', fd, fd], env });
    if (child.pid === undefined) throw new Error(`${component}: could not start ${binary}`);
    // npm start ties the process to its own life (src/local/children.ts); cluster:up does not
    trackChild(child.pid, component, { group: true });
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`));
      child.once('error', (error) => resolve(error.message));
    });
    child.unref();
    return { component, pid: child.pid, binary, logFile, exited };
  } finally {
    closeSync(fd);
  }
}

/** True when `pid` is alive and runs `binary` (guards against a recycled pid killing a stranger). */
export function isOurProcess(pid: number, binary: string): boolean {
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0];
    if (argv0 !== binary) return false;
    const state = readStat(pid)?.state;
    return state !== undefined && state !== 'Z'; // a zombie is already dead
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Never touches a pid that runs another binary. */
export async function stopProcess(pid: number, binary: string, graceMs = 10_000): Promise<'stopped' | 'killed' | 'not running'> {
  if (!isOurProcess(pid, binary)) return 'not running';
  signal(pid, 'SIGTERM');
  if (await waitGone(pid, binary, graceMs)) return 'stopped';
  signal(pid, 'SIGKILL');
  await waitGone(pid, binary, 5_000);
  return 'killed';
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

async function waitGone(pid: number, binary: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isOurProcess(pid, binary)) return true;
    await sleep(100);
  }
  return !isOurProcess(pid, binary);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The last lines of a log file, for error messages after a failed start. */
export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface TlsClient {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Components with self-signed serving certs (controller-manager, scheduler, adapter) are probed without verification. */
  insecure?: boolean;
}

/** GET a URL (http or https) and return status + body; rejects on network errors and after `timeoutMs`. */
export async function get(url: string, tls: TlsClient = {}, timeoutMs = 3_000): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return await new Promise((resolve, reject) => {
    const options = { method: 'GET', timeout: timeoutMs, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecure };
    const req = (u.protocol === 'https:' ? request : httpRequest)(u, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Polls `check` until it returns true, failing early when the watched process
 * exits, and with the log tail in the message when the timeout passes.
 */
export async function waitHealthy(what: string, check: () => Promise<boolean>, options: { timeoutMs: number; process?: StartedProcess }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let exit: string | undefined;
  void options.process?.exited.then((how) => {
    exit = how;
  });
  let lastError = '';
  while (Date.now() < deadline) {
    if (exit !== undefined && options.process) {
      throw new Error(
        `${what}: ${options.process.component} exited during start-up (${exit}); last log lines of ${options.process.logFile}:\n${tail(options.process.logFile)}`,
      );
    }
    try {
      if (await check()) return;
      lastError = '';
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(250);
  }
  const log = options.process ? `; last log lines of ${options.process.logFile}:\n${tail(options.process.logFile)}` : '';
  throw new Error(`timed out after ${options.timeoutMs / 1000} s waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}${log}`);
}
