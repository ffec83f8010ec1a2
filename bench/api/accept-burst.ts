// node bench/api/accept-burst.ts [busy=1000] [burst=300] [seconds=12]
// How fast a saturated API accepts new connections: the app server (bench/api/server.ts, in-process
// stores, pinned to core 0) is kept busy by `busy` keep-alive connections issuing upload URLs; after 5 s
// a burst of `burst` new connections arrives, and the script prints how many of them got an answer within
// `seconds` and when their first answers came. The measure is in passes over the busy connections, so it
// shows on a loaded machine too: one listening socket accepts one connection per pass, the default
// (src/api/listen.ts) one per socket. BENCH_ACCEPT_SOCKETS=1 compares with a single socket.
import { createRequire } from 'node:module';
import { pinLoadGenerator, startBenchServer } from './bench-server.ts';

interface Instance extends Promise<{ requests: { average: number } }> {
  on(event: 'response', listener: (client: unknown) => void): void;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: Record<string, unknown>) => Instance;

const [busy = 1000, burst = 300, seconds = 12] = process.argv.slice(2).map(Number);
const server = await startBenchServer({ mode: 'memory', pinned: pinLoadGenerator() });
try {
  const port = server.port;
  const options = {
    url: `http://127.0.0.1:${port}/v1/jobs`,
    method: 'POST',
    headers: { 'x-api-key': 'bench-key', 'content-type': 'application/json' },
    body: JSON.stringify({ fileName: 'r.png', sizeBytes: 1000, languages: ['eng'] }),
    timeout: 60,
  };
  await autocannon({ ...options, connections: 50, duration: 2 });
  const background = autocannon({ ...options, connections: busy, duration: seconds + 8 });
  await new Promise((r) => setTimeout(r, 5_000));
  const start = Date.now();
  const firstAnswer = new Map<unknown, number>();
  const arrivals = autocannon({ ...options, connections: burst, duration: seconds });
  arrivals.on('response', (client) => {
    if (!firstAnswer.has(client)) firstAnswer.set(client, Date.now() - start);
  });
  await arrivals;
  const busyResult = await background;
  const times = [...firstAnswer.values()].sort((a, b) => a - b);
  const at = (q: number): string => (times.length ? String(times[Math.min(times.length - 1, Math.floor(q * times.length))]) : '-');
  console.log(
    `accepting sockets ${process.env.BENCH_ACCEPT_SOCKETS ?? 'default'}; ${busy} busy connections (${Math.round(busyResult.requests.average)} req/s); ` +
      `burst of ${burst}: ${times.length} answered within ${seconds} s, first answer p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, last ${times.at(-1) ?? '-'} ms`,
  );
} finally {
  await server.stop();
}
