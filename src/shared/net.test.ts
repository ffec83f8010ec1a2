import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, waitFor } from './net.ts';

void test('waitFor returns once the check passes, counting a throwing check as not yet', async () => {
  let calls = 0;
  const lines: string[] = [];
  await waitFor(
    'the third call',
    () => {
      calls++;
      if (calls === 1) throw new Error('not up');
      return calls === 3;
    },
    1_000,
    { intervalMs: 1, progress: (line) => lines.push(line) },
  );
  assert.equal(calls, 3);
  assert.equal(lines[0], 'waiting up to 1 s for the third call');
  assert.match(lines[1] ?? '', /^the third call: after \d+\.\d s$/);
});

void test('waitFor times out with what, the last error and the detail', async () => {
  await assert.rejects(
    waitFor(
      'never',
      () => {
        throw new Error('refused');
      },
      30,
      { intervalMs: 5, detail: () => 'state: down' },
    ),
    { message: 'timed out after 0 s waiting for never (last error: refused)\nstate: down' },
  );
  await assert.rejects(
    waitFor('never', () => false, 20, 5),
    { message: 'timed out after 0 s waiting for never' },
  );
});

void test('freePort returns a port that can be bound', async () => {
  const port = await freePort();
  assert.ok(port > 0 && port < 65_536);
});
