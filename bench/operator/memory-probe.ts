// Preloaded into the benchmarked operator only (node --expose-gc --import this file): on
// SIGUSR2 it forces a full garbage collection and prints one JSON line with the RSS and the
// V8 heap used after it, which bench/operator/run.ts reads from the operator's output. On
// SIGWINCH (bench:operator --cpu-profile) it starts a V8 CPU profile, and on the next SIGWINCH
// stops it, writes it to the temp directory and prints {"benchProfile":{"seq","path"}}: the
// benchmark profiles exactly the window it measures. The operator itself has no such hook:
// production never runs with --expose-gc or this file.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const gc = (globalThis as { gc?: () => void }).gc;
let seq = 0;
process.on('SIGUSR2', () => {
  seq += 1;
  gc?.();
  const m = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({ benchMemory: { seq, gc: gc !== undefined, rssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal } })}\n`,
  );
});

let session: Session | undefined;
let profiles = 0;
process.on('SIGWINCH', () => {
  void (async () => {
    if (!session) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      return;
    }
    const done = session;
    session = undefined;
    const { profile } = await done.post('Profiler.stop');
    done.disconnect();
    profiles += 1;
    const path = join(tmpdir(), `bench-operator-${process.pid}-${profiles}.cpuprofile`);
    writeFileSync(path, JSON.stringify(profile));
    process.stdout.write(`${JSON.stringify({ benchProfile: { seq: profiles, path } })}\n`);
  })();
});
