// spec.jobs in the schema: its defaults, its bounds, and the rule that ties the processing deadline to the worker's
// job budget (CEL in the CRD, the same check in zod).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCrd } from './crd.ts';
import { JOBS_DEFAULTS, parseSpec, processingDeadlineRule } from './ocrpipeline.ts';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** The minimal sample's spec (config/samples/). */
function sampleSpec(): Record<string, Record<string, unknown>> {
  const doc = parse(readFileSync(new URL('../../config/samples/ocrpipeline-minimal.yaml', import.meta.url), 'utf8')) as {
    spec: Record<string, Record<string, unknown>>;
  };
  return doc.spec;
}

const spec = (change: (s: Record<string, Record<string, unknown>>) => void) => {
  const s = sampleSpec();
  change(s);
  return s;
};

void test('jobs: a spec without jobs gets every default, stage timeouts included', () => {
  const { jobs } = parseSpec(sampleSpec());
  const { recoveryLeaseSeconds: _lease, recoveryBatchSize: _batch, ...inSpec } = JOBS_DEFAULTS;
  assert.deepEqual(jobs, { ...inSpec, stageTimeouts: { downloadSeconds: 60, preprocessSeconds: 30, storeSeconds: 60 } });
});

const refused: { name: string; change: (s: Record<string, Record<string, unknown>>) => void; message: RegExp }[] = [
  {
    name: 'a processing deadline not above worker.maxJobSeconds',
    change: (s) => {
      s.jobs = { processingDeadlineSeconds: 300 };
      s.worker = { ...s.worker, maxJobSeconds: 300 };
    },
    message: /jobs.processingDeadlineSeconds must be above worker.maxJobSeconds/,
  },
  {
    name: 'an upload deadline below the 900 s upload URL lifetime',
    change: (s) => (s.jobs = { uploadDeadlineSeconds: 600 }),
    message: /uploadDeadlineSeconds/,
  },
  {
    name: 'a recovery interval of a minute (the lease is 60 s)',
    change: (s) => (s.jobs = { recoveryIntervalSeconds: 60 }),
    message: /recoveryIntervalSeconds/,
  },
  { name: 'a zero stage timeout', change: (s) => (s.jobs = { stageTimeouts: { storeSeconds: 0 } }), message: /storeSeconds/ },
  { name: 'an unknown jobs field', change: (s) => (s.jobs = { retention: 5 }), message: /retention/ },
];
for (const c of refused) {
  void test(`jobs: refuses ${c.name}`, () => {
    assert.throws(() => parseSpec(spec(c.change)), c.message);
  });
}

void test('jobs: a processing deadline above worker.maxJobSeconds is accepted', () => {
  const parsed = parseSpec(
    spec((s) => {
      s.jobs = { processingDeadlineSeconds: 301 };
      s.worker = { ...s.worker, maxJobSeconds: 300 };
    }),
  );
  assert.equal(parsed.jobs.processingDeadlineSeconds, 301);
});

void test('jobs: the CRD carries the processing deadline rule as CEL on the spec', () => {
  const crd = buildCrd() as { spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: Record<string, unknown> } } } }[] } };
  const rules = (crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec['x-kubernetes-validations'] ?? []) as { rule: string }[];
  assert.ok(rules.some((r) => r.rule === processingDeadlineRule.rule));
});
