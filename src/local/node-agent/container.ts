// One container of a pod, run as a host process: start, probe, restart with back-off
// (restartPolicy Always), and stop with SIGTERM -> grace period -> SIGKILL. The process
// gets its own process group, so a terminal's Ctrl-C reaches the agent alone and the
// agent decides the order and the grace of every stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { trackChild } from '../children.ts';
import type { HostCommand } from './commands.ts';
import { activeProbes, applyProbeResult, initialProbeState, probeTiming, type ProbeKind, type ProbeState } from './probes.ts';
import type { ContainerView } from './status.ts';
import { hostPortFor, POD_IP, type PortMapping } from './translate.ts';

/** Restart back-off: 1 s doubling to 60 s, reset after 60 s of running (the kubelet uses 10 s .. 5 min; shorter suits a laptop). */
export const BACKOFF = { initialMs: 1_000, maxMs: 60_000, resetAfterMs: 60_000 };

export function backoffDelay(consecutiveCrashes: number): number {
  return Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2 ** Math.max(0, consecutiveCrashes - 1));
}

export interface ContainerOptions {
  spec: V1Container;
  command: HostCommand;
  env: Map<string, string>;
  ports: readonly PortMapping[];
  logFile: string;
  /** called whenever what view() returns may have changed */
  onChange: () => void;
  log: (line: string) => void;
}

/** Result of one probe: ok, or why not. */
export async function runProbe(probe: V1Probe, ports: readonly PortMapping[], container: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  if (probe.httpGet) {
    const port = hostPortFor(ports, probe.httpGet.port, container);
    if (port === undefined) return { ok: false, detail: `probe port ${String(probe.httpGet.port)} is not a port of container ${container}` };
    const path = probe.httpGet.path ?? '/';
    return await new Promise((resolve) => {
      const req = request({ host: POD_IP, port, path, method: 'GET', timeout: timeoutMs, headers: { 'user-agent': 'ocr-local-agent/probe' } }, (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 400, detail: `HTTP probe failed with statuscode: ${status}` });
      });
      req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on('error', (e) => resolve({ ok: false, detail: `Get "http://${POD_IP}:${port}${path}": ${e.message}` }));
      req.end();
    });
  }
  if (probe.tcpSocket) {
    const port = hostPortFor(ports, probe.tcpSocket.port, container);
    if (port === undefined) return { ok: false, detail: `probe port ${String(probe.tcpSocket.port)} is not a port of container ${container}` };
    return await new Promise((resolve) => {
      const socket = connect({ host: POD_IP, port, timeout: timeoutMs });
      socket.once('connect', () => {
        socket.destroy();
        resolve({ ok: true, detail: '' });
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve({ ok: false, detail: `dial tcp ${POD_IP}:${port}: timeout` });
      });
      socket.once('error', (e) => resolve({ ok: false, detail: `dial tcp ${POD_IP}:${port}: ${e.message}` }));
    });
  }
  // exec and grpc probes would need the container's own tools; none of our pods use them.
  return { ok: true, detail: 'probe type not supported by the local node agent: treated as success' };
}

export class ContainerProcess {
  readonly name: string;
  private readonly o: ContainerOptions;
  private child: ChildProcess | undefined;
  private log: WriteStream;
  private probeState: ProbeState;
  private timers = new Set<NodeJS.Timeout>();
  private stopping = false;
  private crashes = 0;
  private restartCount = 0;
  private runningSince: string | undefined;
  private waiting: ContainerView['waiting'] = { reason: 'ContainerCreating' };
  private lastTerminated: ContainerView['lastTerminated'];
  private exited: Promise<void> = Promise.resolve();

  constructor(options: ContainerOptions) {
    this.o = options;
    this.name = options.spec.name;
    this.log = createWriteStream(options.logFile, { flags: 'a' });
    this.probeState = initialProbeState(options.spec);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  view(): ContainerView {
    return {
      name: this.name,
      image: this.o.spec.image ?? '',
      ...(this.runningSince ? { runningSince: this.runningSince } : {}),
      ...(this.runningSince ? {} : { waiting: this.waiting ?? { reason: 'ContainerCreating' } }),
      ...(this.lastTerminated ? { lastTerminated: this.lastTerminated } : {}),
      restartCount: this.restartCount,
      started: this.runningSince !== undefined && this.probeState.started,
      ready: this.runningSince !== undefined && this.probeState.ready,
    };
  }

  start(): void {
    if (this.stopping) return;
    const { command, env } = this.o;
    this.log.write(`\n==> ${new Date().toISOString()} starting: ${command.file} ${command.args.join(' ')}\n`);
    const child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: Object.fromEntries(env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    trackChild(child.pid, `container ${this.name} (${command.file})`, { group: true });
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    const startedAt = Date.now();
    this.runningSince = new Date(startedAt).toISOString();
    this.waiting = undefined;
    this.probeState = initialProbeState(this.o.spec);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.onExit(code, signal, startedAt);
        resolve();
      });
      child.once('error', (error) => {
        this.log.write(`==> could not start: ${error.message}\n`);
      });
    });
    this.scheduleProbes();
    this.o.onChange();
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, startedAt: number): void {
    this.clearTimers();
    const finishedAt = new Date().toISOString();
    const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 0);
    this.log.write(`==> ${finishedAt} exited: ${signal ? `signal ${signal}` : `code ${code}`}\n`);
    this.lastTerminated = {
      exitCode,
      ...(signal ? { signal } : {}),
      reason: exitCode === 0 ? 'Completed' : 'Error',
      startedAt: this.runningSince ?? finishedAt,
      finishedAt,
    };
    this.runningSince = undefined;
    this.child = undefined;
    if (this.stopping) {
      this.waiting = { reason: 'ContainerStopped' };
      this.o.onChange();
      return;
    }
    // restartPolicy Always: every exit restarts, after a back-off that grows while it keeps crashing
    this.crashes = Date.now() - startedAt > BACKOFF.resetAfterMs ? 1 : this.crashes + 1;
    this.restartCount += 1;
    const delay = backoffDelay(this.crashes);
    this.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${this.name}` };
    this.o.log(`container ${this.name} exited (${signal ?? `code ${code}`}); restarting in ${delay} ms (restart #${this.restartCount}), log ${this.o.logFile}`);
    this.after(delay, () => this.start());
    this.o.onChange();
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private scheduleProbes(): void {
    for (const kind of ['startup', 'readiness', 'liveness'] as const) {
      const probe = this.o.spec[`${kind}Probe`];
      if (probe) this.after(probeTiming(probe).initialDelayMs, () => void this.probe(kind, probe));
    }
  }

  private async probe(kind: ProbeKind, probe: V1Probe, reschedule = true): Promise<void> {
    if (!this.child || this.stopping) return;
    const timing = probeTiming(probe);
    const child = this.child;
    if (activeProbes(this.probeState, this.o.spec).includes(kind)) {
      const result = await runProbe(probe, this.o.ports, this.name, timing.timeoutMs);
      if (this.child !== child || this.stopping) return; // restarted or stopping meanwhile
      const before = this.probeState;
      const { state, action } = applyProbeResult(before, kind, result.ok, timing, this.o.spec.readinessProbe !== undefined);
      this.probeState = state;
      // startup failures are expected while a process boots, readiness flaps are reported in status: only liveness is worth a line
      if (!result.ok && action === 'none' && kind === 'liveness') this.o.log(`container ${this.name}: liveness probe failed: ${result.detail}`);
      if (action === 'restart') {
        this.o.log(`container ${this.name} failed its ${kind} probe ${timing.failureThreshold} times (${result.detail}); restarting it`);
        this.kill('SIGTERM');
        this.after(30_000, () => {
          if (this.child === child) this.kill('SIGKILL');
        });
        return;
      }
      if (before.started !== state.started || before.ready !== state.ready) this.o.onChange();
      // the kubelet probes readiness right after a successful startup probe, not a period later
      if (!before.started && state.started && this.o.spec.readinessProbe) {
        const readiness = this.o.spec.readinessProbe;
        this.after(0, () => void this.probe('readiness', readiness, false));
      }
    }
    if (reschedule) this.after(timing.periodMs, () => void this.probe(kind, probe));
  }

  private kill(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal); // the whole process group
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        /* gone */
      }
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. Idempotent. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.clearTimers();
    if (this.runningSince !== undefined) {
      this.probeState = { ...this.probeState, ready: false };
      this.o.onChange();
    }
    if (this.child) {
      this.kill('SIGTERM');
      const killer = setTimeout(() => {
        this.log.write(`==> grace period of ${graceMs} ms over: SIGKILL\n`);
        this.kill('SIGKILL');
      }, graceMs);
      await this.exited;
      clearTimeout(killer);
    }
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}
