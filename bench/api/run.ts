// npm run bench:api — API job intake and cache hits, on loopback, bounded in time.
// The API runs as its own process pinned to core 0 (taskset); this process, the
// load generator (autocannon), Azurite and the Service Bus stand-in are pinned to
// core 1. Each figure is printed next to the anchor from the same run: a bare
// Fastify route on the same core (the framework's ceiling). Scenarios: upload-URL
// issuance (stateless: no storage write) at 100 and 5,000 connections with in-process
// stores and with Azurite, cache hits, submit with its record write (prepared jobs), and
// the sync endpoint's added latency (bench/api/sync.ts, real API and worker processes).
// The three servers (anchor, in-process stores, Azurite) run side by side, warmed up; the
// 100-connection figures are BENCH_ROUNDS short rounds in which the three take turns, so
// the machine's drift hits all of them alike: each round's issuance is divided by the same
// round's anchor, and the table gives medians (and the spread of the rounds' ratios).
// Prints the load average at the start (warns above 1); figures go to stdout and
// bench/api/last-run.md, which ends with the `api: issue ...` summary line.
// Knobs: BENCH_ROUNDS (5), BENCH_ROUND_SECONDS (4), BENCH_SECONDS (10: the 5,000-connection
// runs, as long as the client timeout), BENCH_SUBMITS (1000), BENCH_SYNC_SAMPLES (30).
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { startAzurite } from '../../test/support/azurite.ts';
import { startServiceBusStandin } from '../../src/servicebus-standin/index.ts';
import { cpuSeconds, pinLoadGenerator, startBenchServer, type BenchServer } from './bench-server.ts';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  duration: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Rounds of the 100-connection scenarios; each round runs the anchor and both issuance servers in turn. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 4);
/** Jobs prepared (issued and uploaded) for the submit scenario; each is submitted once. */
const SUBMITS = Number(process.env.BENCH_SUBMITS ?? 1000);
/** Sync requests measured by bench/api/sync.ts (each one a real OCR job on the worker). */
const SYNC_SAMPLES = Number(process.env.BENCH_SYNC_SAMPLES ?? 30);
const KEY = 'bench-key';

const pinned = pinLoadGenerator();

function startServer(mode: string, env: Record<string, string>): Promise<BenchServer> {
  return startBenchServer({ mode, pinned, env, key: KEY });
}

interface Row {
  scenario: string;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** API process CPU per answered request, in microseconds: independent of what else the machine runs. */
  cpuMicros: number | undefined;
  /** Rows that are medians of rounds: the median of each round's req/s over the same round's anchor, and the lowest and highest. */
  rounds?: { count: number; ratio: number; low: number; high: number; perRound: number[]; cpuRatio: number | undefined };
}

interface Request {
  path: string;
  body: Buffer | string;
  contentType: string;
  /** Per-request path and body (the submit scenario: one prepared job per request); `amount` requests in all instead of SECONDS. */
  each?: { next(): { path: string; body: string }; amount: number };
}

async function load(scenario: string, server: { port: number; child: ChildProcess }, connections: number, request: Request, seconds = SECONDS): Promise<Row> {
  const port = server.port;
  const cpuBefore = cpuSeconds(server.child.pid);
  const each = request.each;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${request.path}`,
    method: 'POST',
    headers: { 'x-api-key': KEY, 'content-type': request.contentType },
    body: request.body,
    connections,
    ...(each ? { amount: each.amount, requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, ...each.next() }) }] } : { duration: seconds }),
    timeout: 10,
  });
  const row: Row = {
    scenario,
    connections,
    rps: Math.round(each ? (result['2xx'] + result.non2xx) / Math.max(result.duration, 0.001) : result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    errors: result.errors - result.timeouts,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    cpuMicros: undefined,
  };
  const cpuAfter = cpuSeconds(server.child.pid);
  const answered = result['2xx'] + result.non2xx;
  if (cpuBefore !== undefined && cpuAfter !== undefined && answered > 0) row.cpuMicros = Math.round(((cpuAfter - cpuBefore) * 1e6) / answered);
  console.log(
    `${scenario.padEnd(58)} c=${String(connections).padStart(5)}  ${String(row.rps).padStart(6)} req/s  p50 ${row.p50} ms  p99 ${row.p99} ms  2xx ${row.ok}  errors ${row.errors}  timeouts ${row.timeouts}  non-2xx ${row.non2xx}  API CPU ${row.cpuMicros ?? '-'} us/req`,
  );
  return row;
}

const ISSUE = { path: '/v1/jobs', body: JSON.stringify({ fileName: 'r.png', sizeBytes: 1000, languages: ['eng'] }), contentType: 'application/json' };

/**
 * `count` jobs issued by the API and uploaded to Azurite through their URLs (this process, core 1),
 * for the submit scenario: each request submits the next one with its token.
 */
async function prepareSubmits(port: number, image: Buffer, count: number): Promise<Request> {
  const jobs: { id: string; token: string }[] = [];
  const prepareOne = async (): Promise<void> => {
    const created = await fetch(`http://127.0.0.1:${port}/v1/jobs`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ sizeBytes: image.length, languages: ['eng'] }),
    });
    const { job, upload } = (await created.json()) as { job: { id: string }; upload: { url: string; headers: Record<string, string>; token: string } };
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: image });
    if (put.status !== 201) throw new Error(`PUT to the upload URL answered ${put.status}`);
    jobs.push({ id: job.id, token: upload.token });
  };
  for (let i = 0; i < count; i += 20) await Promise.all(Array.from({ length: Math.min(20, count - i) }, prepareOne));
  let next = 0;
  return {
    path: '/v1/jobs/x/submit',
    body: '{}',
    contentType: 'application/json',
    each: {
      amount: jobs.length,
      next: () => {
        const job = jobs[next++ % jobs.length] as { id: string; token: string };
        return { path: `/v1/jobs/${job.id}/submit`, body: JSON.stringify({ token: job.token }) };
      },
    },
  };
}

/** A2's sync-overhead measurement (bench/api/sync.ts) when it is there; undefined when it is not. */
async function syncOverhead(): Promise<{ p50Ms: number; p99Ms: number; samples: number } | undefined> {
  const file = resolve(import.meta.dirname, 'sync.ts');
  if (!existsSync(file)) return undefined;
  const sync = (await import(file)) as { measureSyncOverhead?: (options: { samples: number }) => Promise<{ p50Ms: number; p99Ms: number; samples: number }> };
  return await sync.measureSyncOverhead?.({ samples: SYNC_SAMPLES });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * One row of medians from a scenario's rounds; `ratios` (req/s over the same round's anchor) when the anchor ran beside it,
 * `cpuRatios` (the same round's anchor CPU µs per request over this one's).
 */
function medianRow(scenario: string, rounds: Row[], ratios: number[] | undefined, cpuRatios: number[] = []): Row {
  const first = rounds[0] as Row;
  const sum = (pick: (r: Row) => number): number => rounds.reduce((a, r) => a + pick(r), 0);
  const cpu = rounds.map((r) => r.cpuMicros).filter((c): c is number => c !== undefined);
  return {
    scenario,
    connections: first.connections,
    rps: Math.round(median(rounds.map((r) => r.rps))),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    ok: sum((r) => r.ok),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    non2xx: sum((r) => r.non2xx),
    cpuMicros: cpu.length ? Math.round(median(cpu)) : undefined,
    ...(ratios
      ? {
          rounds: {
            count: rounds.length,
            ratio: median(ratios),
            low: Math.min(...ratios),
            high: Math.max(...ratios),
            perRound: ratios,
            cpuRatio: cpuRatios.length ? median(cpuRatios) : undefined,
          },
        }
      : {}),
  };
}

const MODES = [
  ['bare', 'anchor: bare Fastify route'],
  ['memory', 'POST /v1/jobs upload URL, in-process stores'],
  ['azurite', 'POST /v1/jobs upload URL, Azurite (stateless: no write)'],
] as const;

/**
 * The three servers side by side (bare anchor, in-process stores, Azurite): warm-up, ROUNDS rounds at 100 connections
 * in which they take turns (the order rotates every round), cache hits, submits, then one 5,000-connection run each,
 * each server stopped after its own (that run leaves a backlog the server is still draining when it ends).
 */
async function runScenarios(image: Buffer, storageEnv: Record<string, string>, rows: Row[], sample: () => void): Promise<void> {
  const cacheHit = { path: '/v1/ocr', body: image, contentType: 'image/png' };
  const servers = new Map<string, BenchServer>();
  try {
    for (const [mode] of MODES) servers.set(mode, await startServer(mode, storageEnv));
    const server = (mode: string): BenchServer => servers.get(mode) as BenchServer;
    for (const [mode, label] of MODES) await load(`${label} (warm-up)`, server(mode), 50, ISSUE, 3);
    sample();
    const byMode = new Map<string, Row[]>(MODES.map(([mode]) => [mode, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < MODES.length; i++) {
        const [mode, label] = MODES[(round + i) % MODES.length] as (typeof MODES)[number];
        byMode.get(mode)?.push(await load(`${label} (round ${round + 1}/${ROUNDS})`, server(mode), 100, ISSUE, ROUND_SECONDS));
      }
    }
    sample();
    const anchorRounds = byMode.get('bare') ?? [];
    for (const [mode, label] of MODES) {
      const rounds = byMode.get(mode) ?? [];
      rows.push(
        medianRow(
          label,
          rounds,
          rounds.map((r, i) => r.rps / Math.max(anchorRounds[i]?.rps ?? 0, 1)),
          rounds.flatMap((r, i) => (r.cpuMicros && anchorRounds[i]?.cpuMicros ? [(anchorRounds[i]?.cpuMicros ?? 0) / r.cpuMicros] : [])),
        ),
      );
    }
    rows.push(await load('POST /v1/ocr cache hit, in-process stores', server('memory'), 10, cacheHit, 2 * ROUND_SECONDS));
    rows.push(await load('POST /v1/ocr cache hit, Azurite', server('azurite'), 10, cacheHit, 2 * ROUND_SECONDS));
    const submits = await prepareSubmits(server('azurite').port, image, SUBMITS);
    rows.push(await load('POST /v1/jobs/{id}/submit, record + input + message (Azurite)', server('azurite'), 50, submits));
    sample();
    for (const [mode, label] of MODES) {
      rows.push(await load(label, server(mode), 5000, ISSUE));
      sample();
      await server(mode).stop();
      servers.delete(mode);
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()));
  }
}

async function main(): Promise<void> {
  const [start1, start5, start15] = loadavg().map((n) => n.toFixed(2));
  console.log(`load average at start (1/5/15 min): ${start1} / ${start5} / ${start15} on ${cpus().length} cores`);
  if (Number(start1) > 1)
    console.warn(`WARNING: load average ${start1} > 1: other work shares these cores; absolute figures will be low (compare with the anchor).`);
  const image = await sharp({ create: { width: 64, height: 32, channels: 3, background: '#fff' } })
    .png()
    .toBuffer();
  const azurite = await startAzurite();
  const standin = await startServiceBusStandin({ queues: ['ocr-jobs'] });
  const storageEnv = {
    BLOB_CONNECTION_STRING: azurite.connectionString,
    SERVICEBUS_CONNECTION_STRING: standin.connectionString,
    OCR_QUEUE_NAME: 'ocr-jobs',
    BENCH_IMAGE_B64: image.toString('base64'),
  };
  const rows: Row[] = [];
  const load1 = [0, 0, 0];
  const sample = (): void => {
    const [a, b, c] = loadavg();
    load1[0] = Math.max(load1[0] ?? 0, a ?? 0);
    load1[1] = b ?? 0;
    load1[2] = c ?? 0;
  };
  try {
    await runScenarios(image, storageEnv, rows, sample);
  } finally {
    await standin.close();
    await azurite.stop();
  }
  const sync = await syncOverhead();
  if (!sync) console.log('sync overhead: not measured');
  report(rows, sync, load1, `${start1} / ${start5} / ${start15}`);
}

/** The headline ratio: the median over rounds of issuance / the same round's anchor (robust to drift between rounds). */
function headlineRatio(issue: Row | undefined, anchor: Row | undefined): string {
  if (issue?.rounds) return issue.rounds.ratio.toFixed(2);
  return anchor && issue ? (issue.rps / anchor.rps).toFixed(2) : 'n/a';
}

/** Beside the anchor: the rounds' median ratio (and spread) for round rows; else req/s over `anchor` (5,000-connection rows: the anchor at 5,000). */
function versusAnchor(r: Row, anchor: Row | undefined): string {
  if (r.rounds) return `${r.rounds.ratio.toFixed(2)} (rounds ${r.rounds.low.toFixed(2)}-${r.rounds.high.toFixed(2)})`;
  return anchor ? (r.rps / anchor.rps).toFixed(2) : '-';
}

function report(rows: Row[], sync: { p50Ms: number; p99Ms: number; samples: number } | undefined, load1: number[], atStart: string): void {
  const anchor = rows.find((r) => r.scenario.startsWith('anchor') && r.connections === 100);
  const anchor5000 = rows.find((r) => r.scenario.startsWith('anchor') && r.connections === 5000);
  const issue = rows.find((r) => r.scenario.includes('Azurite (stateless') && r.connections === 100);
  const issue5000 = rows.find((r) => r.scenario.includes('Azurite (stateless') && r.connections === 5000);
  const ratio = headlineRatio(issue, anchor);
  const versus = (r: Row): string => versusAnchor(r, r.connections === 5000 ? anchor5000 : anchor);
  const lines = [
    '# API benchmark results',
    '',
    `Run: ${new Date().toISOString()}, ${ROUNDS} rounds of ${ROUND_SECONDS} s at 100 connections (anchor and both issuance servers in turn, medians), cache hits ${2 * ROUND_SECONDS} s, ${SECONDS} s at 5,000 connections (submit: ${SUBMITS} prepared jobs), Node ${process.version}, ${pinned ? 'API pinned to core 0, load generator + Azurite + stand-in on core 1' : 'no taskset: not pinned'}.`,
    `Machine: ${cpus().length} cores shared with other work; load average at start ${atStart}; during the run (1/5/15 min): ${load1.map((n) => n.toFixed(1)).join(' / ')}.`,
    '',
    '| scenario | connections | req/s | p50 ms | p99 ms | 2xx | errors (not timeouts) | timeouts (10 s) | non-2xx | req/s vs anchor | API CPU µs/req | req/s per dedicated core (1e6/CPU µs) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.connections} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.ok} | ${r.errors} | ${r.timeouts} | ${r.non2xx} | ${versus(r)} | ${r.cpuMicros ?? '-'} | ${r.cpuMicros ? Math.round(1e6 / r.cpuMicros) : '-'} |`,
    ),
    '',
    "Rows at 100 connections: medians of the rounds (2xx, errors and timeouts summed); req/s vs anchor: the median of each round's ratio to the same round's anchor, lowest-highest in brackets. Per round: " +
      rows
        .filter((r) => r.rounds && !r.scenario.startsWith('anchor'))
        .map(
          (r) =>
            `${r.scenario}: ${r.rounds?.perRound.map((x) => x.toFixed(2)).join(', ')} (by API CPU per request, median of rounds: ${r.rounds?.cpuRatio?.toFixed(2) ?? '-'}x the anchor's rate)`,
        )
        .join('; ') +
      '.',
    '',
    sync
      ? `Sync overhead (bench/api/sync.ts: worker's result write -> client response, real API and worker processes): p50 ${sync.p50Ms} ms, p99 ${sync.p99Ms} ms, ${sync.samples} samples.`
      : 'Sync overhead: not measured (bench/api/sync.ts absent).',
    '',
    'Targets (issue 16): upload-URL issuance >= 0.5x the bare route, p99 < 20 ms at 100 connections, at 5,000 connections no more client timeouts than the bare route.',
    '',
    `api: issue ${issue?.rps ?? 'n/a'} req/s (${ratio}x bare), p99 ${issue?.p99 ?? 'n/a'} ms, timeouts ${issue5000?.timeouts ?? 'n/a'} (bare ${anchor5000?.timeouts ?? 'n/a'}) at 5000, sync overhead p99 ${sync ? sync.p99Ms : 'n/a'} ms`,
  ];
  writeFileSync(resolve(import.meta.dirname, 'last-run.md'), lines.join('\n') + '\n');
  console.log(`\n${lines.join('\n')}`);
}

await main();
