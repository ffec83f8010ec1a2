// Test-only (src/**/testing/** is excluded from the image build, tsconfig.build.json).
// Fixture builders for operator tests: a pipeline from a sample, changed by small setters
// (the cert-manager gen.* shape).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseSpec, type OcrPipeline } from '../../crds/ocrpipeline.ts';
import type { DesiredInput } from '../desired/input.ts';

type RawSpec = Record<string, unknown>;
export type SpecMod = (spec: RawSpec) => void;

export function sampleSpec(name: 'minimal' | 'full'): RawSpec {
  const doc = parse(readFileSync(new URL(`../../../config/samples/ocrpipeline-${name}.yaml`, import.meta.url), 'utf8')) as { spec: RawSpec };
  return doc.spec;
}

export function pipeline(base: 'minimal' | 'full', ...mods: SpecMod[]): OcrPipeline {
  const raw = structuredClone(sampleSpec(base));
  for (const m of mods) m(raw);
  return {
    apiVersion: 'ocrplatform.io/v1alpha1',
    kind: 'OcrPipeline',
    metadata: {
      name: base === 'full' ? 'invoices' : 'receipts',
      namespace: base === 'full' ? 'finance' : 'default',
      uid: '3f1c1e9a-0000-4000-8000-000000000001',
      generation: 1,
    },
    spec: parseSpec(raw),
  };
}

export function input(p: OcrPipeline, secretHashes: Record<string, string> = {}): DesiredInput {
  return { pipeline: p, secretHashes };
}

// --- setters -----------------------------------------------------------------------------
const setIn = (obj: RawSpec, path: string, value: unknown) => {
  const keys = path.split('.');
  let node = obj;
  for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as RawSpec;
  const last = keys.at(-1) as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
};
export const set =
  (path: string, value: unknown): SpecMod =>
  (s) =>
    setIn(s, path, value);
export const workerReplicas = (min: number, max: number): SpecMod => set('worker.replicas', { min, max });
export const apiReplicas = (min: number, max: number): SpecMod => set('api.replicas', { min, max });
export const scalingProvider = (provider: 'keda' | 'prometheus-adapter'): SpecMod => set('worker.scaling.provider', provider);
