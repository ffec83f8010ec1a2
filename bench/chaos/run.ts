// npm run chaos: the chaos run of issue 12, item 8, on this machine's real parts (Azurite, the
// Service Bus stand-in, API and worker processes, a webhook receiver), without Kubernetes.
// Prints a progress line every few seconds, then a table and, last, exactly:
//   chaos: <jobs> jobs, <lost> lost, <stuck> stuck, <wrong> wrong results, webhooks <delivered>/<expected>, <dup> duplicate deliveries
// Exit code 0 when nothing was lost, stuck or wrong and every expected webhook was delivered; 1 otherwise.
import { parseArgs } from 'node:util';
import { setChildTracker } from '../../src/local/children.ts';
import { killAll } from '../../test/integration/api/processes.ts';
import { runChaos, type ChaosOptions } from './harness.ts';
import { CHAOS_SETTINGS, stuckAfterSeconds } from './settings.ts';
import { finalLine, formatTable } from './verdict.ts';

const FLAGS = {
  duration: { type: 'string', default: '600', help: 'Seconds the whole run should take, about: the injection window is this minus the wait for the end.' },
  jobs: { type: 'string', default: '200', help: 'Jobs submitted, poison images included.' },
  poison: { type: 'string', default: '5', help: 'Poison images among the jobs (they must end failed).' },
  unsubmitted: { type: 'string', default: '4', help: 'Upload URLs created and never used (they must end expired).' },
  'worker-kills': { type: 'string', default: '20', help: 'SIGKILLs of a worker while it runs OCR.' },
  'api-kills': { type: 'string', default: '5', help: 'SIGKILLs of an API replica with webhooks pending.' },
  'azurite-restarts': { type: 'string', default: '1', help: 'Azurite restarts (0 or 1).' },
  'standin-restarts': { type: 'string', default: '1', help: 'Service Bus stand-in restarts (0 or 1).' },
  'receiver-outage': { type: 'string', default: '30', help: 'Seconds the webhook receiver answers 500.' },
  apis: { type: 'string', default: '2', help: 'API processes.' },
  workers: { type: 'string', default: '2', help: 'Worker processes (concurrency 1 each).' },
  'max-cer': { type: 'string', default: '0.1', help: 'Character error rate above which a result is wrong.' },
  help: { type: 'boolean', default: false, help: 'Print this help.' },
} as const;

function help(): string {
  const rows = Object.entries(FLAGS).map(
    ([name, f]) => `  --${name}${f.type === 'string' ? ` <n>` : ''}`.padEnd(26) + f.help + (f.type === 'string' ? ` Default ${f.default}.` : ''),
  );
  return [
    'npm run chaos -- [flags]',
    '',
    'Submits jobs to 2 API and 2 worker processes on Azurite and the Service Bus stand-in while it SIGKILLs',
    'workers mid-OCR and API replicas with webhooks pending, restarts Azurite and the stand-in, and makes the',
    'webhook receiver answer 500 for a while; then it checks that every job ended right and every webhook arrived.',
    `Settings: ${JSON.stringify(CHAOS_SETTINGS)}; a job is stuck when nothing changed for ${stuckAfterSeconds(CHAOS_SETTINGS)} s after the window.`,
    '',
    ...rows,
  ].join('\n');
}

function number(name: keyof typeof FLAGS, value: string | boolean, min: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number of at least ${min}, got '${String(value)}'`);
  return n;
}

export function parseFlags(argv: string[]): ChaosOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.entries(FLAGS).map(([k, f]) => [k, { type: f.type, default: f.default }])),
    strict: true,
  });
  if (values.help) return 'help';
  const v = values as Record<keyof typeof FLAGS, string>;
  const duration = number('duration', v.duration, 60);
  const stall = stuckAfterSeconds(CHAOS_SETTINGS);
  // The wait after the window is at most the stall limit plus a margin; the window gets the rest, at least 30 s.
  const windowSeconds = Math.max(30, duration - stall - 60);
  return {
    jobs: number('jobs', v.jobs, 1),
    poison: number('poison', v.poison, 0),
    unsubmitted: number('unsubmitted', v.unsubmitted, 0),
    workerKills: number('worker-kills', v['worker-kills'], 0),
    apiKills: number('api-kills', v['api-kills'], 0),
    azuriteRestarts: Math.min(1, number('azurite-restarts', v['azurite-restarts'], 0)),
    standinRestarts: Math.min(1, number('standin-restarts', v['standin-restarts'], 0)),
    receiverOutageSeconds: number('receiver-outage', v['receiver-outage'], 0),
    apis: number('apis', v.apis, 2),
    workers: number('workers', v.workers, 1),
    maxCer: number('max-cer', v['max-cer'], 0),
    windowSeconds,
    maxWaitSeconds: Math.max(stall + 60, duration - windowSeconds),
    settings: CHAOS_SETTINGS,
    progressSeconds: 5,
    log: (line) => process.stdout.write(`${line}\n`),
  };
}

if (import.meta.main) {
  let options: ChaosOptions | 'help';
  try {
    options = parseFlags(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${help()}\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(`${help()}\n`);
    process.exit(0);
  }
  // Ctrl-C (or a timeout's SIGTERM) leaves no process behind: the API and worker processes, and Azurite (reported by its starter).
  const azurite: number[] = [];
  setChildTracker((child) => azurite.push(child.pid));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      for (const pid of azurite) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone: the Azurite a restart replaced.
        }
      }
      process.exit(130);
    });
  }
  const summary = await runChaos(options);
  process.stdout.write(`\n${formatTable(summary)}\n\n${finalLine(summary)}\n`);
  const ok = summary.lost === 0 && summary.stuck === 0 && summary.wrong === 0 && summary.webhooks.delivered === summary.webhooks.expected;
  process.exit(ok ? 0 : 1);
}
