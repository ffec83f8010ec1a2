// One pod on the local node: prepare (ports, volumes, environment, commands), run its
// containers, and terminate it the way the kubelet does when it is deleted.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { CommandNotMappedError, mapCommand, type CommandOptions } from './commands.ts';
import { ContainerProcess } from './container.ts';
import { ContainerConfigError, resolveEnv, type ConfigLookup } from './env.ts';
import { podStatus, type ContainerView, type PodStatus } from './status.ts';
import { containerMounts, localEnv, mapPorts, volumeFiles, type PortMapping } from './translate.ts';

export interface PodContext {
  lookup: ConfigLookup;
  commands: CommandOptions;
  allocatePort: () => Promise<number>;
  /** a directory for this pod's volumes; removed when the pod is gone */
  podDir: string;
  logsDir: string;
  /** records the port mapping on the pod (the annotation the service proxy reads) */
  publishPorts: (ports: PortMapping[]) => Promise<void>;
  onChange: () => void;
  log: (line: string) => void;
}

export const PREPARE_RETRY_MS = 3_000;

export function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** Grace period of a deletion: what the API server recorded, else the pod spec's, else 30 s. */
export function graceSeconds(pod: V1Pod): number {
  return pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
}

export class PodRunner {
  pod: V1Pod;
  readonly uid: string;
  readonly startTime = new Date().toISOString();
  private readonly ctx: PodContext;
  private containers: ContainerProcess[] = [];
  private configError: { reason: string; message: string } | undefined;
  private retry: NodeJS.Timeout | undefined;
  private ports: PortMapping[] | undefined;
  private terminating: Promise<void> | undefined;

  constructor(pod: V1Pod, ctx: PodContext) {
    this.pod = pod;
    this.uid = pod.metadata?.uid ?? '';
    this.ctx = ctx;
  }

  get name(): string {
    return podKey(this.pod);
  }

  get portMappings(): PortMapping[] {
    return this.ports ?? [];
  }

  get pids(): number[] {
    return this.containers.map((c) => c.pid).filter((p): p is number => p !== undefined);
  }

  async start(): Promise<void> {
    try {
      this.ports ??= await mapPorts(this.pod, this.ctx.allocatePort);
      await this.ctx.publishPorts(this.ports);
      const containers = this.prepare(this.ports);
      if (this.terminating) return;
      this.configError = undefined;
      this.containers = containers;
      for (const c of containers) c.start();
      this.ctx.log(
        `pod ${this.name}: started ${containers.map((c) => `${c.name} (pid ${c.pid ?? '?'})`).join(', ')}; ports ${this.ports.map((p) => `${p.container}:${p.containerPort}->127.0.0.1:${p.hostPort}`).join(', ') || 'none'}`,
      );
    } catch (error) {
      if (!(error instanceof ContainerConfigError || error instanceof CommandNotMappedError)) throw error;
      // like the kubelet: report the reason on the container and try again (a Secret may appear later)
      const reason = error instanceof ContainerConfigError ? error.reason : 'CreateContainerError';
      if (this.configError?.message !== error.message) this.ctx.log(`pod ${this.name}: ${reason}: ${error.message}`);
      this.configError = { reason, message: error.message };
      this.ctx.onChange();
      this.retry = setTimeout(() => void this.start().catch((e: unknown) => this.ctx.log(`pod ${this.name}: ${String(e)}`)), PREPARE_RETRY_MS);
    }
  }

  /** Everything that can fail before a process starts; nothing is started until all of it worked. */
  private prepare(ports: PortMapping[]): ContainerProcess[] {
    const { pod, ctx } = this;
    const namespace = pod.metadata?.namespace ?? 'default';
    const volumes = pod.spec?.volumes ?? [];
    for (const volume of volumes) {
      const dir = join(ctx.podDir, 'volumes', volume.name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const file of volumeFiles(volume, namespace, ctx.lookup)) {
        const path = join(dir, file.path);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, file.content, { mode: file.mode });
      }
    }
    return (pod.spec?.containers ?? []).map((spec) => {
      const mounts = containerMounts(pod, spec, ctx.podDir);
      const env = localEnv(resolveEnv(pod, spec, ctx.lookup), spec.name, ports, mounts);
      const command = mapCommand(spec.command, spec.args, ctx.commands);
      const logFile = join(ctx.logsDir, `${namespace}_${pod.metadata?.name ?? ''}_${spec.name}.log`);
      return new ContainerProcess({ spec, command, env, ports, logFile, onChange: ctx.onChange, log: (line) => ctx.log(`pod ${this.name}: ${line}`) });
    });
  }

  status(now = new Date().toISOString()): PodStatus {
    const views: ContainerView[] =
      this.containers.length > 0
        ? this.containers.map((c) => c.view())
        : (this.pod.spec?.containers ?? []).map((c) => ({
            name: c.name,
            image: c.image ?? '',
            restartCount: 0,
            started: false,
            ready: false,
            waiting: this.configError ?? { reason: 'ContainerCreating' },
          }));
    return podStatus(this.pod, views, this.startTime, now);
  }

  /** Stops every container (SIGTERM, grace, SIGKILL) and removes the pod's directory. Idempotent. */
  terminate(graceMs: number): Promise<void> {
    this.terminating ??= (async () => {
      clearTimeout(this.retry);
      await Promise.all(this.containers.map((c) => c.stop(graceMs)));
      rmSync(this.ctx.podDir, { recursive: true, force: true });
    })();
    return this.terminating;
  }
}
