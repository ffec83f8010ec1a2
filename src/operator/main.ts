// Operator entry point. Two memory settings, made before anything else loads (issue 14):
// - Source maps for our own code only: the image runs node with --enable-source-maps
//   (NODE_OPTIONS in the Dockerfile), which also parses and keeps the maps every dependency
//   ships (@kubernetes/client-node's generated models, the Azure SDKs): 13.6 MiB more V8 heap
//   after loading the operator's dependencies (52.0 vs 38.4 MiB, measured with node 24.21 and a
//   forced GC). Modules load with the setting in force when they are compiled, hence this file
//   imports nothing of ours statically.
// - V8's --optimize-for-size (smaller heap growth steps, earlier bytecode flushing): at 100
//   pipelines the V8 heap V8 kept committed fell from 217 to 57 MiB (heap used after GC 59 -> 51
//   MiB) for about 10-25 % more CPU while creating them (bench/operator/memory-run.ts, 2026-12-02,
//   busy machine). Set here rather than on the command line so the image, the chart, `npm start`
//   and the benchmarks all run the operator the same way (NODE_OPTIONS does not accept it).
import { setSourceMapsSupport } from 'node:module';
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--optimize-for-size');
setSourceMapsSupport(true, { nodeModules: false, generatedCode: false });
await import('./run.ts');
