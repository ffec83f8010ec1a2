// Preloaded into the benchmarked operator only (node --expose-gc --import this file): on
// SIGUSR2 it forces a full garbage collection and prints one JSON line with the RSS and the
// V8 heap used after it, which bench/operator/run.ts reads from the operator's output. The
// operator itself has no such hook: production never runs with --expose-gc.
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
