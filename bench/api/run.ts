// npm run bench:api — API job intake and cache hits, on loopback, bounded in time.
// The API runs as its own process pinned to core 0 (taskset); this process, the
// load generator (autocannon), Azurite and the Service Bus stand-in are pinned to
// core 1. Each figure is printed next to the anchor from the same run: a bare
// Fastify route on the same core (the framework's ceiling) and the goals of DESIGN §8.
// Figures go to stdout and bench/api/RESULTS.md (with the machine's load average).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { startAzurite } from '../../test/support/azurite.ts';
import { startServiceBusStandin } from '../../src/servicebus-standin/index.ts';

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
const KEY = 'bench-key';
const SERVER = resolve(import.meta.dirname, 'server.ts');

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const pinned = hasTaskset();
if (pinned) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });

async function startServer(mode: string, env: Record<string, string>): Promise<{ port: number; child: ChildProcess; stop(): Promise<void> }> {
  const command = pinned ? 'taskset' : process.execPath;
  const args = pinned ? ['-c', '0', process.execPath, SERVER] : [SERVER];
  const child = spawn(command, args, {
    env: { ...process.env, ...env, BENCH_MODE: mode, BENCH_KEY: KEY, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`${mode} server did not start in 30 s`)), 30_000);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ready (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
  return {
    port,
    child,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** CPU seconds (user + system) a process has used, from /proc; undefined where /proc is missing. */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100/s)
  } catch {
    return undefined;
  }
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
}

async function load(
  scenario: string,
  server: { port: number; child: ChildProcess },
  connections: number,
  request: { path: string; body: Buffer | string; contentType: string },
): Promise<Row> {
  const port = server.port;
  const cpuBefore = cpuSeconds(server.child.pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${request.path}`,
    method: 'POST',
    headers: { 'x-api-key': KEY, 'content-type': request.contentType },
    body: request.body,
    connections,
    duration: SECONDS,
    timeout: 10,
  });
  const row: Row = {
    scenario,
    connections,
    rps: Math.round(result.requests.average),
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

async function main(): Promise<void> {
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
  const createJob = { path: '/v1/jobs', body: JSON.stringify({ fileName: 'r.png', sizeBytes: 1000, languages: ['eng'] }), contentType: 'application/json' };
  const cacheHit = { path: '/v1/ocr', body: image, contentType: 'image/png' };
  const rows: Row[] = [];
  const load1 = [0, 0, 0];
  const sample = (): void => {
    const [a, b, c] = loadavg();
    load1[0] = Math.max(load1[0] ?? 0, a ?? 0);
    load1[1] = b ?? 0;
    load1[2] = c ?? 0;
  };
  try {
    for (const [mode, label] of [
      ['bare', 'anchor: bare Fastify route'],
      ['memory', 'POST /v1/jobs, API overhead without storage'],
      ['azurite', 'POST /v1/jobs, records in Azurite'],
    ] as const) {
      const server = await startServer(mode, storageEnv);
      try {
        await load(`${label} (warm-up)`, server, 50, createJob);
        sample();
        rows.push(await load(label, server, 100, createJob));
        // Cache hits before the 5,000-connection run: that one leaves a backlog the server is still draining when it ends.
        if (mode !== 'bare') rows.push(await load(`POST /v1/ocr cache hit, ${mode === 'memory' ? 'without storage' : 'Azurite'}`, server, 10, cacheHit));
        sample();
        rows.push(await load(label, server, 5000, createJob));
        sample();
      } finally {
        await server.stop();
      }
    }
  } finally {
    await standin.close();
    await azurite.stop();
  }
  const anchor = rows.find((r) => r.scenario.startsWith('anchor') && r.connections === 100);
  const lines = [
    '# API benchmark results',
    '',
    `Run: ${new Date().toISOString()}, ${SECONDS} s per scenario, Node ${process.version}, ${pinned ? 'API pinned to core 0, load generator + Azurite + stand-in on core 1' : 'no taskset: not pinned'}.`,
    `Machine: 2 cores shared with other work; load average (1/5/15 min) during the run: ${load1.map((n) => n.toFixed(1)).join(' / ')}.`,
    '',
    '| scenario | connections | req/s | p50 ms | p99 ms | 2xx | errors (not timeouts) | timeouts (10 s) | non-2xx | req/s vs anchor | API CPU µs/req | req/s per dedicated core (1e6/CPU µs) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.connections} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.ok} | ${r.errors} | ${r.timeouts} | ${r.non2xx} | ${anchor ? (r.rps / anchor.rps).toFixed(2) : '-'} | ${r.cpuMicros ?? '-'} | ${r.cpuMicros ? Math.round(1e6 / r.cpuMicros) : '-'} |`,
    ),
    '',
    'Goals (DESIGN §8): >= 10,000 req/s and p99 < 20 ms for POST /v1/jobs on one core, 0 errors at 5,000 connections, cache hit p99 < 5 ms.',
  ];
  writeFileSync(resolve(import.meta.dirname, 'last-run.md'), lines.join('\n') + '\n');
  console.log(`\n${lines.join('\n')}`);
}

await main();
