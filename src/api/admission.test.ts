import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { silentLogger } from '../shared/logger.ts';
import { BacklogGate, decide, httpBacklogReader, STALE_MS, type BacklogReader } from './admission.ts';
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

/** A loopback server answering the given [status, body] in turn; counts connections. */
async function backlogServer(answers: [number, string][]) {
  let connections = 0;
  const server = createServer((_request, response) => {
    const [status, body] = answers.shift() ?? [500, ''];
    response.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/backlog?namespace=a&pipeline=b`;
  return { url, connections: () => connections, close: () => new Promise<void>((r) => server.close(() => r())) };
}

void describe('reading the backlog from the operator', () => {
  void it('tries a standby’s 404 again on a new connection, and takes the leader’s count', async () => {
    const s = await backlogServer([
      [404, '{"error":"no reading"}'],
      [404, '{"error":"no reading"}'],
      [200, '{"backlog":17}'],
    ]);
    try {
      assert.equal(await httpBacklogReader(s.url)(AbortSignal.timeout(2_000)), 17);
      assert.equal(s.connections(), 3);
    } finally {
      await s.close();
    }
  });

  const failures: [string, [number, string][], RegExp][] = [
    [
      'gives up after three 404s',
      [
        [404, ''],
        [404, ''],
        [404, ''],
        [200, '{"backlog":1}'],
      ],
      /answered 404/,
    ],
    [
      'does not retry a 500',
      [
        [500, ''],
        [200, '{"backlog":1}'],
      ],
      /answered 500/,
    ],
    ['refuses an answer without a count', [[200, '{"depth":3}']], /without a backlog count/],
    ['refuses a negative count', [[200, '{"backlog":-1}']], /without a backlog count/],
    ['refuses an answer that is not JSON', [[200, 'ok']], /other than JSON/],
  ];
  for (const [name, answers, message] of failures) {
    void it(name, async () => {
      const s = await backlogServer(answers);
      try {
        await assert.rejects(httpBacklogReader(s.url)(AbortSignal.timeout(2_000)), message);
      } finally {
        await s.close();
      }
    });
  }
});
