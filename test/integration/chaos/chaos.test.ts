// The chaos run of `npm run chaos` (bench/chaos/), small enough for `npm test` (about 60-90 s):
// 30 jobs through 2 API and 2 worker processes on Azurite and the Service Bus stand-in, while 3
// workers are SIGKILLed mid-OCR, one API replica is SIGKILLed with webhooks pending and the webhook
// receiver answers 500 for 5 s. Nothing may be lost, stuck or wrong, and every terminal job's
// webhook must arrive.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos, type ChaosOptions } from '../../../bench/chaos/harness.ts';
import { FAULT } from '../../../bench/chaos/faults.ts';
import { CHAOS_SETTINGS } from '../../../bench/chaos/settings.ts';
import { finalLine, formatTable, type ChaosSummary } from '../../../bench/chaos/verdict.ts';

const lines: string[] = [];
const OPTIONS: ChaosOptions = {
  jobs: 30,
  poison: 2,
  unsubmitted: 0,
  windowSeconds: 30,
  maxWaitSeconds: 90,
  workerKills: 3,
  apiKills: 1,
  azuriteRestarts: 0,
  standinRestarts: 0,
  receiverOutageSeconds: 5,
  apis: 2,
  workers: 2,
  maxCer: 0.1,
  // Deadlines above the wait behind this run's backlog on a busy machine (a 20 s queued deadline re-sent jobs that were only
  // waiting their turn); stuck = nothing changed for 60 + 2 s after the window.
  settings: { ...CHAOS_SETTINGS, queuedDeadlineSeconds: 60, processingDeadlineSeconds: 60, recoveryIntervalSeconds: 2, lockDurationSeconds: 5 },
  progressSeconds: 10,
  log: (line) => lines.push(line),
};

// One run for every case below; a run that throws fails each case with its error, and is not started again.
let running: Promise<ChaosSummary> | undefined;
async function run(): Promise<ChaosSummary> {
  running ??= runChaos(OPTIONS);
  return await running;
}

function explain(s: ChaosSummary): string {
  return `${formatTable(s)}\n${finalLine(s)}\nprogress:\n${lines.slice(-15).join('\n')}`;
}

void describe('a small chaos run (30 jobs, 3 worker kills, 1 API kill, a receiver outage)', { timeout: 240_000 }, () => {
  void it('injects every planned fault', async () => {
    const s = await run();
    assert.equal(s.faults.get(FAULT.workerKill), 3, explain(s));
    assert.equal(s.faults.get(FAULT.apiKill), 1, explain(s));
    assert.equal(s.faults.get(FAULT.receiverOutage), 5, explain(s));
  });

  void it('submits every job and loses none', async () => {
    const s = await run();
    assert.equal(s.jobs, 30, explain(s));
    assert.equal(s.lost, 0, explain(s));
  });

  void it('leaves no job stuck and no result wrong', async () => {
    const s = await run();
    assert.deepEqual({ stuck: s.stuck, wrong: s.wrong }, { stuck: 0, wrong: 0 }, explain(s));
  });

  void it('ends every good image succeeded: 3 kills are far below the 10 deliveries a message gets', async () => {
    const s = await run();
    assert.equal(s.goodFailed, 0, explain(s));
  });

  void it('delivers the webhook of every terminal job', async (t) => {
    const s = await run();
    t.diagnostic(finalLine(s));
    assert.ok(s.webhooks.expected > 0, explain(s));
    assert.equal(s.webhooks.delivered, s.webhooks.expected, explain(s));
    assert.equal(s.webhooks.invalidSignatures, 0, explain(s));
  });
});
