// Where a cluster lives on disk and the state file that lets another process
// (`cluster:down`, a second `cluster:up`) find and stop it.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Env } from '../../shared/config.ts';
import type { Ports } from './args.ts';

export interface ProcessRecord {
  component: string;
  pid: number;
  binary: string;
  logFile: string;
}

export interface MetricsState {
  prometheusUrl: string;
  adapterConfigPath: string;
  targetsFile: string;
  scrapeInterval: string;
  adapterRelistInterval: string;
}

export interface ClusterState {
  version: 1;
  name: string;
  stateDir: string;
  kubeconfigPath: string;
  apiServerUrl: string;
  logsDir: string;
  ports: Partial<Ports>;
  /** in start order; stopped in reverse */
  processes: ProcessRecord[];
  metrics?: MetricsState;
  /** args.ts Profile; absent in state files written before profiles existed (= 'default') */
  profile?: 'default' | 'bench';
  /** set once every component is healthy */
  readyAt?: string;
}

/** The variable that moves the cache directory; hack/tools.sh and scripts/e2e-kind.sh read it too. */
export const CACHE_DIR_ENV = 'OCR_CACHE_DIR';

/**
 * $OCR_CACHE_DIR (empty counts as unset), default ~/.cache/ocr-platform: binaries, cluster
 * state, local logs. Pure: each main (cluster tool, npm start, tests) passes process.env.
 */
export function cacheDir(env: Env): string {
  return env[CACHE_DIR_ENV] || join(homedir(), '.cache', 'ocr-platform');
}

/** Same directory hack/tools.sh builds into. */
export function defaultBinDir(cache: string): string {
  return join(cache, 'bin');
}

export function validateName(name: string): string {
  if (!/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/.test(name)) {
    throw new Error(`invalid cluster name "${name}": use 1-40 lowercase letters, digits and dashes (e.g. dev, it-cluster)`);
  }
  return name;
}

export function defaultStateDir(cache: string, name: string): string {
  return join(cache, 'clusters', validateName(name));
}

const stateFile = (stateDir: string): string => join(stateDir, 'state.json');

export function readState(stateDir: string): ClusterState | undefined {
  const file = stateFile(stateDir);
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
    return state.version === 1 ? state : undefined;
  } catch {
    return undefined;
  }
}

/** Written after every process start, so a crash of the tool itself still leaves enough to clean up. */
export function writeState(state: ClusterState): void {
  mkdirSync(state.stateDir, { recursive: true });
  const tmp = `${stateFile(state.stateDir)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, stateFile(state.stateDir));
}

export function removeState(stateDir: string): void {
  rmSync(stateFile(stateDir), { force: true });
}

/**
 * One `up`/`down` at a time per cluster: an exclusive lock file holding our pid.
 * A lock left by a dead process is taken over.
 */
export function acquireLock(stateDir: string): () => void {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(file, 'utf8'));
      if (holder && holder !== process.pid && pidAlive(holder)) {
        throw new Error(`cluster in ${stateDir} is being started or stopped by pid ${holder}; wait for it, or remove ${file} if that process is not ours`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock ${file}`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
