import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isSameLiveProcess, parseStat, readStat, runFile, runFiles, stopChildren, stopLeftovers, type ChildRecord } from './children.ts';

// /proc/<pid>/stat of a process whose command name holds a space and a parenthesis
const STAT = '4242 (node (x) y) S 17 4242 4242 0 -1 4194560 2 0 0 0 5 1 0 0 20 0 11 0 987654 1000 100 18446744073709551615';

function sleeper(): ChildRecord {
  const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  child.unref();
  return { pid: child.pid!, startTime: readStat(child.pid!)!.startTime, group: true, what: 'sleep' };
}

void describe('children', () => {
  void it('parses state, parent, start time and CPU ticks from /proc/<pid>/stat, whatever the command name holds', () => {
    assert.deepEqual(parseStat(STAT), { state: 'S', ppid: 17, startTime: 987654, utime: 5, stime: 1 });
    assert.equal(parseStat('garbage'), undefined);
    assert.equal(readStat(process.pid)?.ppid, process.ppid);
  });

  void it('matches a record only to the same live process: not a zombie, not a recycled pid, never without a start time', () => {
    const stat = { state: 'S', ppid: 1, startTime: 500, utime: 0, stime: 0 };
    assert.equal(isSameLiveProcess({ pid: 9, startTime: 500 }, stat), true);
    assert.equal(isSameLiveProcess({ pid: 9, startTime: 499 }, stat), false);
    assert.equal(isSameLiveProcess({ pid: 9, startTime: 500 }, { ...stat, state: 'Z' }), false);
    assert.equal(isSameLiveProcess({ pid: 9, startTime: 0 }, { ...stat, startTime: 0 }), false);
    assert.equal(isSameLiveProcess({ pid: 9, startTime: 500 }, undefined), false);
  });

  void it('finds run files by name', () => {
    assert.deepEqual(runFiles(['children-12.json', 'logs', 'run-12', 'children-x.json', 'children-7.json.tmp']), [{ name: 'children-12.json', pid: 12 }]);
  });

  void it('stops a running child and skips a record whose pid now runs another process', async () => {
    const child = sleeper();
    const stranger = { ...sleeper(), what: 'stranger' };
    const recycled = { ...stranger, startTime: stranger.startTime - 1 };
    const stopped = await stopChildren([child, recycled], 2_000);
    assert.deepEqual(
      stopped.map((r) => r.pid),
      [child.pid],
    );
    assert.equal(isSameLiveProcess(child, readStat(child.pid)), false, 'the child is gone');
    assert.equal(isSameLiveProcess(stranger, readStat(stranger.pid)), true, 'the stranger runs on');
    await stopChildren([stranger], 2_000);
  });

  void it('stops what a dead run left (its file and work directory go) and leaves a live run alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocr-children-'));
    try {
      const left = sleeper();
      const other = sleeper();
      // an owner that died: a pid with a start time no live process has
      writeFileSync(runFile(dir, 999_999), JSON.stringify({ owner: { pid: 999_999, startTime: 1, utime: 0, stime: 0 }, children: [left] }));
      mkdirSync(join(dir, 'run-999999'));
      // a live owner: our parent
      const parent = { pid: process.ppid, startTime: readStat(process.ppid)!.startTime };
      writeFileSync(runFile(dir, process.ppid), JSON.stringify({ owner: parent, children: [other] }));
      const stopped = await stopLeftovers(dir);
      assert.deepEqual(
        stopped.map((r) => r.pid),
        [left.pid],
      );
      assert.equal(existsSync(runFile(dir, 999_999)), false);
      assert.equal(existsSync(join(dir, 'run-999999')), false);
      assert.equal(existsSync(runFile(dir, process.ppid)), true);
      assert.equal(isSameLiveProcess(other, readStat(other.pid)), true);
      await stopChildren([other], 2_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
