import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../shared/logger.ts';
import { BacklogGate, decide, STALE_MS, type BacklogReader } from './admission.ts';
import { ApiError } from './errors.ts';
import { ApiMetrics } from './metrics.ts';

const NOW = 1_000_000;

void describe('deciding admission by backlog', () => {
  const cases: [string, Parameters<typeof decide>, ReturnType<typeof decide>['decision']][] = [
    ['a backlog under the limit admits', [{ backlog: 5, at: NOW }, 0, 10, NOW], 'admitted'],
    ['a backlog at the limit refuses: one more job would exceed it', [{ backlog: 10, at: NOW }, 0, 10, NOW], 'refused'],
    ["this replica's own sends since the reading count", [{ backlog: 5, at: NOW }, 5, 10, NOW], 'refused'],
    ['no reading yet admits (fail open)', [undefined, 100, 10, NOW], 'unknown'],
    ['a reading older than the stale limit admits (fail open)', [{ backlog: 1_000, at: NOW - STALE_MS - 1 }, 0, 10, NOW], 'unknown'],
    ['a reading just within the stale limit still refuses', [{ backlog: 1_000, at: NOW - STALE_MS }, 0, 10, NOW], 'refused'],
  ];
  for (const [name, args, expected] of cases) {
    void it(name, () => assert.equal(decide(...args).decision, expected));
  }
});

/** A gate whose reader answers the given backlogs in turn (an Error is a failed reading). */
function gate(answers: (number | Error)[], maxBacklog = 10) {
  let now = NOW;
  const metrics = new ApiMetrics();
  const read: BacklogReader = async () => {
    const next = answers.shift();
    if (next === undefined || next instanceof Error) throw next ?? new Error('no answer');
    return next;
  };
  const g = new BacklogGate({ maxBacklog, read, log: silentLogger(), metrics, clock: () => now });
  return { gate: g, metrics, advance: (ms: number) => (now += ms) };
}

async function decisions(metrics: ApiMetrics): Promise<Record<string, number>> {
  const values = (await metrics.admission.get()).values;
  return Object.fromEntries(values.map((v) => [String(v.labels.decision), v.value]));
}

void describe('the backlog gate', () => {
  void it('refuses with 503 QUEUE_BACKLOG_FULL and Retry-After once the reading is at the limit', async () => {
    const g = gate([10]);
    await g.gate.refresh();
    assert.throws(
      () => g.gate.admit(),
      (error: unknown) =>
        error instanceof ApiError &&
        error.code === 'QUEUE_BACKLOG_FULL' &&
        error.status === 503 &&
        error.headers['retry-after'] === '5' &&
        /about 10 jobs/.test(error.message),
    );
    assert.deepEqual(await decisions(g.metrics), { refused: 1 });
  });

  void it('counts the jobs it queued since the reading, and forgets them when the next reading includes them', async () => {
    const g = gate([8, 8]);
    await g.gate.refresh();
    g.gate.admit();
    g.gate.sent();
    g.gate.admit();
    g.gate.sent();
    assert.throws(() => g.gate.admit(), /about 10 jobs/);
    await g.gate.refresh(); // the queue drained by two meanwhile: 8 again, the sends are in it
    g.gate.admit();
  });

  void it('admits while no reading ever succeeded, and once the last one went stale', async () => {
    const g = gate([new Error('operator unreachable'), 50, new Error('operator unreachable')]);
    await g.gate.refresh();
    g.gate.admit();
    await g.gate.refresh();
    assert.throws(() => g.gate.admit(), /QUEUE_BACKLOG_FULL|about 50/);
    await g.gate.refresh(); // fails: the reading of 50 is still used until it is stale
    assert.throws(() => g.gate.admit());
    g.advance(STALE_MS + 1);
    g.gate.admit();
    assert.equal((await g.metrics.backlogReadErrors.get()).values[0]?.value, 2);
    assert.deepEqual(await decisions(g.metrics), { unknown: 2, refused: 2 });
  });
});
