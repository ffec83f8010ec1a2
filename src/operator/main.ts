// Operator entry point. Source maps for our own code only, set before anything else loads:
// the image runs node with --enable-source-maps (NODE_OPTIONS in the Dockerfile), which also
// parses and keeps the maps every dependency ships (@kubernetes/client-node's generated models,
// the Azure SDKs): 13.6 MiB more V8 heap after loading the operator's dependencies (52.0 vs
// 38.4 MiB, measured with node 24.21 and a forced GC). Modules load with the setting in force
// when they are compiled, hence this file imports nothing of ours statically.
import { setSourceMapsSupport } from 'node:module';

setSourceMapsSupport(true, { nodeModules: false, generatedCode: false });
await import('./run.ts');
