import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { readStat } from './children.ts';
import { parseRecord } from './reaper.ts';

const CHILDREN = fileURLToPath(new URL('./children.ts', import.meta.url));
const REAPER = fileURLToPath(new URL('./reaper.ts', import.meta.url));

/** A stand-in for npm start: starts the watchdog and one tracked child (a shell with a sleep of its own), prints both pids, waits. */
const PARENT = `
import { spawn } from 'node:child_process';
import { setChildTracker, trackChild } from ${JSON.stringify(CHILDREN)};
import { startReaper } from ${JSON.stringify(REAPER)};
const reaper = startReaper();
setChildTracker(reaper.track);
const child = spawn('sh', ['-c', 'sleep 60 & wait'], { detached: true, stdio: 'ignore' });
trackChild(child.pid, 'sh', { group: true });
process.stdout.write(JSON.stringify({ child: child.pid, reaper: reaper.pid }) + '\\n');
setInterval(() => {}, 1000);
`;

const alive = (pid: number): boolean => {
  const s = readStat(pid);
  return s !== undefined && s.state !== 'Z';
};
/** Every live process in the process group `pgid` (the shell and its sleep). */
const groupAlive = (pid: number): boolean => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

void describe('reaper', () => {
  void it('parses protocol lines and refuses what is not a record', () => {
    assert.deepEqual(parseRecord('{"pid":42,"startTime":7,"group":true,"what":"etcd"}'), { pid: 42, startTime: 7, group: true, what: 'etcd' });
    assert.equal(parseRecord('{"pid":1,"startTime":7}'), undefined);
    assert.equal(parseRecord('{"pid":"42"}'), undefined);
    assert.equal(parseRecord('not json'), undefined);
  });

  void it('stops the children of a parent killed with SIGKILL, within seconds', { timeout: 20_000 }, async () => {
    const parent = spawn(process.execPath, ['--input-type=module', '-e', PARENT], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      parent.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8')));
      parent.once('exit', (code) => reject(new Error(`the parent exited early (${code})`)));
    });
    const { child, reaper } = JSON.parse(line) as { child: number; reaper: number };
    await new Promise((r) => setTimeout(r, 300)); // the record reaches the watchdog
    assert.ok(alive(child) && alive(reaper));
    parent.kill('SIGKILL');
    const t0 = Date.now();
    while ((groupAlive(child) || alive(reaper)) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 100));
    assert.equal(groupAlive(child), false, 'the child and its own child are gone');
    assert.equal(alive(reaper), false, 'the watchdog exited');
  });
});
