// node bench/api/profile.ts [mode] [connections] [seconds]: the API under upload-URL issuance
// load with `node --cpu-prof`, and where its CPU went. mode: azurite (default; the real stores
// on Azurite and the Service Bus stand-in), memory (in-process stores) or bare (the anchor).
// Pinned like `npm run bench:api` when taskset exists (API on core 0, the rest on core 1).
// Prints the requests answered, API CPU µs/request, and the profile's busy samples by self time
// (top functions, and by package or source folder) and by inclusive time of the API's own
// hot-path frames. The profile stays in $TMPDIR/ocr-api-profile-<pid>/ for a closer look
// (Chrome DevTools or speedscope open .cpuprofile files).
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite } from '../../test/support/azurite.ts';
import { startServiceBusStandin } from '../../src/servicebus-standin/index.ts';
import { cpuSeconds, pinLoadGenerator, startBenchServer } from './bench-server.ts';
import { summariseProfile, type CpuProfile } from './profile-summary.ts';

type Autocannon = (options: Record<string, unknown>) => Promise<{ '2xx': number; non2xx: number; timeouts: number; latency: { p99: number } }>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const mode = process.argv[2] ?? 'azurite';
const connections = Number(process.argv[3] ?? 100);
const seconds = Number(process.argv[4] ?? 8);
const KEY = 'bench-key';

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ocr-api-profile-'));
  const azurite = mode === 'azurite' ? await startAzurite() : undefined;
  const standin = mode === 'azurite' ? await startServiceBusStandin({ queues: ['ocr-jobs'] }) : undefined;
  try {
    // PROFILE=0: no profile, only the request count and CPU per request (profiling itself costs a few per cent).
    const profiling = process.env.PROFILE !== '0';
    const spawnedMs = performance.now();
    const server = await startBenchServer({
      mode,
      pinned: pinLoadGenerator(),
      key: KEY,
      nodeArgs: profiling ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [],
      env: {
        ...(azurite ? { BLOB_CONNECTION_STRING: azurite.connectionString } : {}),
        ...(standin ? { SERVICEBUS_CONNECTION_STRING: standin.connectionString, OCR_QUEUE_NAME: 'ocr-jobs' } : {}),
      },
    });
    const { port, child } = server;
    const request = {
      url: `http://127.0.0.1:${port}/v1/jobs`,
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ fileName: 'r.png', sizeBytes: 1000, languages: ['eng'] }),
      timeout: 10,
    };
    await autocannon({ ...request, connections: 50, duration: 2 });
    // The summary leaves out the start-up and warm-up: samples before this point.
    const loadStartMs = performance.now() - spawnedMs;
    const before = cpuSeconds(child.pid);
    const result = await autocannon({ ...request, connections, duration: seconds });
    const after = cpuSeconds(child.pid);
    const answered = result['2xx'] + result.non2xx;
    await server.stop();
    const cpu = before !== undefined && after !== undefined ? Math.round(((after - before) * 1e6) / Math.max(1, answered)) : '-';
    console.log(
      `${mode}, ${connections} connections, ${seconds} s: ${answered} answered (${result.non2xx} non-2xx, ${result.timeouts} timeouts), ` +
        `${Math.round(answered / seconds)} req/s, p99 ${result.latency.p99} ms, API CPU ${cpu} µs/req, load average ${loadavg()[0]?.toFixed(2)}`,
    );
    if (!profiling) return;
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no profile in ${dir}`);
    console.log(`profile: ${join(dir, file)}`);
    console.log(summariseProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, loadStartMs));
  } finally {
    await standin?.close();
    await azurite?.stop();
  }
}

await main();
