// `npm start` killed with SIGKILL (not Ctrl-C) leaves no process behind, and the next `npm
// start` starts cleanly (issue 12, item 9). Runs the real `node src/local/start.ts` in a cache
// directory of its own (the built binaries linked in), so the developer's `local` cluster is
// never touched:
//   1. start, wait for "platform ready", SIGKILL: every process it had started is gone within 10 s (the watchdog);
//   2. start, SIGKILL it and its watchdog mid start-up: its processes stay;
//   3. start: it stops what run 2 left, becomes ready, and a SIGTERM stops it with nothing left.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isSameLiveProcess, readStat, runFile, type RunRecord } from '../../../src/local/children.ts';
import { CACHE_DIR } from '../../support/cluster.ts';

const skip = process.env.OCR_TEST_SKIP_CLUSTER ? 'OCR_TEST_SKIP_CLUSTER is set' : false;
const START = fileURLToPath(new URL('../../../src/local/start.ts', import.meta.url));
const BASE_PORT = 29080;

interface Proc {
  pid: number;
  startTime: number;
  cmd: string;
}

/** Every live process below `root` (children, grandchildren, ...), with start times. */
function descendants(root: number): Proc[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat || stat.state === 'Z') continue;
    parents.set(stat.ppid, [...(parents.get(stat.ppid) ?? []), Number(entry)]);
  }
  const out: Proc[] = [];
  const walk = (pid: number) => {
    for (const child of parents.get(pid) ?? []) {
      const stat = readStat(child);
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${child}/cmdline`, 'latin1').replaceAll('\0', ' ').slice(0, 100);
      } catch {
        continue;
      }
      if (stat) out.push({ pid: child, startTime: stat.startTime, cmd });
      walk(child);
    }
  };
  walk(root);
  return out;
}

const stillRunning = (procs: readonly Proc[]): Proc[] => procs.filter((p) => isSameLiveProcess(p, readStat(p.pid)));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(200);
  }
}

void describe('npm start killed with SIGKILL', { skip, timeout: 600_000 }, () => {
  let cache: string;
  let current: { child: ChildProcess; output: () => string } | undefined;
  const shared = process.env.OCR_TEST_KUBECONFIG;

  const start = () => {
    const child = spawn(process.execPath, [START, '--base-port', String(BASE_PORT), ...(shared ? ['--kubeconfig', shared] : [])], {
      env: { ...process.env, OCR_CACHE_DIR: cache },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    current = { child, output: () => output };
    return current;
  };
  const tail = () => (current?.output() ?? '').trimEnd().split('\n').slice(-25).join('\n');
  const ready = async (run: { output: () => string; child: ChildProcess }) => {
    await until('"platform ready"', () => run.output().includes('platform ready in') || run.child.exitCode !== null, 300_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${tail()}`);
    });
    assert.equal(run.child.exitCode, null, `npm start exited:\n${tail()}`);
  };
  const exited = (child: ChildProcess) =>
    new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));

  before(() => {
    cache = mkdtempSync(join(tmpdir(), 'ocr-killed-'));
    // the built binaries, without the developer's clusters and logs
    if (existsSync(join(CACHE_DIR, 'bin'))) symlinkSync(join(CACHE_DIR, 'bin'), join(cache, 'bin'));
    mkdirSync(join(cache, 'local'), { recursive: true });
  });

  after(async () => {
    if (current && current.child.exitCode === null && current.child.signalCode === null) {
      current.child.kill('SIGTERM');
      await exited(current.child);
    }
    rmSync(cache, { recursive: true, force: true });
  });

  void it('leaves no process behind: the watchdog stops every child within 10 s', { timeout: 360_000 }, async () => {
    const run = start();
    await ready(run);
    const before = descendants(run.child.pid!);
    assert.ok(before.length >= 4, `npm start runs its children: ${before.map((p) => p.cmd).join('\n')}`);
    run.child.kill('SIGKILL');
    await exited(run.child);
    const t0 = Date.now();
    await until('every process npm start had started to exit', () => stillRunning(before).length === 0, 10_000).catch(() => undefined);
    const left = stillRunning(before);
    process.stderr.write(`  killed with ${before.length} processes below npm start, ${left.length} present ${Date.now() - t0} ms after the kill\n`);
    assert.deepEqual(
      left.map((p) => `${p.pid}: ${p.cmd}`),
      [],
      'no process outlives npm start',
    );
  });

  void it('the next npm start stops what a run killed together with its watchdog left, and starts cleanly', { timeout: 400_000 }, async () => {
    const killed = start();
    const file = runFile(join(cache, 'local'), killed.child.pid!);
    const recorded = (): RunRecord['children'] => {
      try {
        return (JSON.parse(readFileSync(file, 'utf8')) as RunRecord).children;
      } catch {
        return [];
      }
    };
    await until('npm start to record 3 children', () => recorded().length >= 3 || killed.child.exitCode !== null, 120_000);
    const before = descendants(killed.child.pid!);
    // the watchdog too: as if the whole session was killed (kill -9 of both, OOM)
    for (const p of before) if (p.cmd.includes('reaper.ts')) process.kill(p.pid, 'SIGKILL');
    killed.child.kill('SIGKILL');
    await exited(killed.child);
    await sleep(1_000);
    const leftByKill = stillRunning(before);
    assert.ok(leftByKill.length > 0, 'without the watchdog the children outlive npm start');

    const next = start();
    await ready(next);
    assert.match(next.output(), /stopped \d+ processes left by an earlier npm start that was killed/);
    assert.deepEqual(
      stillRunning(leftByKill).map((p) => `${p.pid}: ${p.cmd}`),
      [],
      'the next start stopped the leftovers',
    );
    assert.equal(existsSync(file), false, "the killed run's file is gone");

    const running = descendants(next.child.pid!);
    next.child.kill('SIGTERM');
    await exited(next.child);
    assert.equal(next.child.exitCode, 0, tail());
    await until('the watchdog to exit', () => stillRunning(running).length === 0, 10_000).catch(() => undefined);
    assert.deepEqual(
      stillRunning(running).map((p) => `${p.pid}: ${p.cmd}`),
      [],
      'a stopped npm start leaves nothing',
    );
    assert.equal(existsSync(runFile(join(cache, 'local'), next.child.pid!)), false, 'a stopped run removes its file');
  });
});
