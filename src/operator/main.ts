// Operator entry point. Two memory settings, made before anything else loads (issue 14):
// - Source maps for our own code only: the image runs node with --enable-source-maps
//   (NODE_OPTIONS in the Dockerfile), which also parses and keeps the maps every dependency
//   ships (@kubernetes/client-node's generated models, the Azure SDKs): 13.6 MiB more V8 heap
//   after loading the operator's dependencies (52.0 vs 38.4 MiB, measured with node 24.21 and a
//   forced GC). Modules load with the setting in force when they are compiled, hence this file
//   imports nothing of ours statically.
// - V8's --optimize-for-size (smaller heap growth steps, earlier bytecode flushing). At 100
//   pipelines (bench/operator/memory-run.ts, 2026-12-02, node 24.21, MALLOC_ARENA_MAX=2, load
//   about 5): RSS after GC 300 -> 158 MiB, V8 heap committed 223 -> 62 MiB, heap used 59 -> 51
//   MiB; the price is CPU while pipelines are created: 5.5 -> 7.5 CPU seconds for 100 (about
//   +35 %, +39 % in a second pair). Set here so the image, the chart, `npm start` and the
//   benchmarks run the operator alike (NODE_OPTIONS does not accept this flag); `node
//   --no-optimize-for-size dist/operator/main.js` keeps V8's default (more memory, less CPU).
import { setSourceMapsSupport } from 'node:module';
import { setFlagsFromString } from 'node:v8';

if (!process.execArgv.includes('--no-optimize-for-size')) setFlagsFromString('--optimize-for-size');
setSourceMapsSupport(true, { nodeModules: false, generatedCode: false });
await import('./run.ts');
