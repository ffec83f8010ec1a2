// spec.jobs -> the API's JOB_* / RESULT_CACHE_TTL_HOURS / RECOVERY_INTERVAL_SECONDS variables: each reaches the pod
// only when it differs from JOB_DEFAULTS, and the API's own config reader reads back what the spec says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment } from '@kubernetes/client-node';
import { input, pipeline, set, type SpecMod } from '../testing/fixtures.ts';
import { configFromEnv, type RecoverySettings } from '../../api/config.ts';
import { ENV, JOB_DEFAULTS, STAGE_TIMEOUT_DEFAULTS } from '../../contract/container.ts';
import { CONFIG_HASH_ANNOTATION } from '../../contract/labels.ts';
import { apiDeployment } from './api-deployment.ts';
import { workerDeployment } from './worker-deployment.ts';
import { loadConfig } from '../../worker/config.ts';

const JOB_ENV = [
  ENV.jobUploadDeadlineSeconds,
  ENV.jobQueuedDeadlineSeconds,
  ENV.jobProcessingDeadlineSeconds,
  ENV.jobMaxRequeues,
  ENV.jobRetentionHours,
  ENV.resultCacheTtlHours,
  ENV.recoveryIntervalSeconds,
] as const;

const env = (d: V1Deployment): Record<string, string> =>
  Object.fromEntries((d.spec?.template.spec?.containers[0]?.env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
const hash = (d: V1Deployment) => d.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
const render = (...mods: SpecMod[]) => apiDeployment(input(pipeline('minimal', ...mods)));

const cases: { name: string; field: string; value: number; variable: (typeof JOB_ENV)[number]; setting: keyof RecoverySettings }[] = [
  { name: 'uploadDeadlineSeconds', field: 'uploadDeadlineSeconds', value: 7200, variable: ENV.jobUploadDeadlineSeconds, setting: 'uploadDeadlineSeconds' },
  { name: 'queuedDeadlineSeconds', field: 'queuedDeadlineSeconds', value: 600, variable: ENV.jobQueuedDeadlineSeconds, setting: 'queuedDeadlineSeconds' },
  {
    name: 'processingDeadlineSeconds',
    field: 'processingDeadlineSeconds',
    value: 1200,
    variable: ENV.jobProcessingDeadlineSeconds,
    setting: 'processingDeadlineSeconds',
  },
  { name: 'maxRequeues', field: 'maxRequeues', value: 0, variable: ENV.jobMaxRequeues, setting: 'maxRequeues' },
  { name: 'retentionHours', field: 'retentionHours', value: 720, variable: ENV.jobRetentionHours, setting: 'retentionHours' },
  { name: 'resultCacheTtlHours', field: 'resultCacheTtlHours', value: 1, variable: ENV.resultCacheTtlHours, setting: 'resultCacheTtlHours' },
  { name: 'recoveryIntervalSeconds', field: 'recoveryIntervalSeconds', value: 10, variable: ENV.recoveryIntervalSeconds, setting: 'intervalSeconds' },
];

for (const c of cases) {
  void test(`jobs: ${c.name} ${c.value} sets ${c.variable}=${c.value}, no other job variable, and the API reads it back`, () => {
    const e = env(render(set(`jobs.${c.field}`, c.value)));
    assert.equal(e[c.variable], String(c.value));
    for (const other of JOB_ENV.filter((v) => v !== c.variable)) assert.equal(e[other], undefined, other);
    assert.equal(configFromEnv(e).recovery[c.setting], c.value);
  });
}

void test('jobs: a pipeline without spec.jobs, or with the defaults written out, sets no job variable and keeps its config hash', () => {
  const { recoveryLeaseSeconds: _lease, recoveryBatchSize: _batch, ...inSpec } = JOB_DEFAULTS;
  const writtenSpec = set('jobs', inSpec);
  for (const d of [render(), render(writtenSpec)]) for (const variable of JOB_ENV) assert.equal(env(d)[variable], undefined, variable);
  assert.equal(hash(render(writtenSpec)), hash(render()));
});

void test('jobs: a changed deadline changes the config hash, so the API pods roll', () => {
  assert.notEqual(hash(render(set('jobs.queuedDeadlineSeconds', 600))), hash(render()));
});

void test('jobs: with no variable set the API uses the same defaults as the CRD', () => {
  const config = configFromEnv(env(render()));
  assert.deepEqual(
    [config.recovery.uploadDeadlineSeconds, config.recovery.queuedDeadlineSeconds, config.recovery.processingDeadlineSeconds, config.recovery.retentionHours],
    [JOB_DEFAULTS.uploadDeadlineSeconds, JOB_DEFAULTS.queuedDeadlineSeconds, JOB_DEFAULTS.processingDeadlineSeconds, JOB_DEFAULTS.retentionHours],
  );
});

const STAGE_ENV = [ENV.workerDownloadTimeoutSeconds, ENV.workerPreprocessTimeoutSeconds, ENV.workerStoreTimeoutSeconds] as const;
const worker = (...mods: SpecMod[]) => workerDeployment(input(pipeline('minimal', ...mods)));

const stageCases: { field: keyof typeof STAGE_TIMEOUT_DEFAULTS; value: number; variable: (typeof STAGE_ENV)[number] }[] = [
  { field: 'downloadSeconds', value: 15, variable: ENV.workerDownloadTimeoutSeconds },
  { field: 'preprocessSeconds', value: 90, variable: ENV.workerPreprocessTimeoutSeconds },
  { field: 'storeSeconds', value: 5, variable: ENV.workerStoreTimeoutSeconds },
];
for (const c of stageCases) {
  void test(`jobs.stageTimeouts: ${c.field} ${c.value} sets the worker's ${c.variable}=${c.value}, no other, and the worker reads it back`, () => {
    const e = env(worker(set(`jobs.stageTimeouts.${c.field}`, c.value)));
    assert.equal(e[c.variable], String(c.value));
    for (const other of STAGE_ENV.filter((v) => v !== c.variable)) assert.equal(e[other], undefined, other);
    assert.equal(loadConfig(e).timeouts[c.field], c.value);
    assert.equal(env(render(set(`jobs.stageTimeouts.${c.field}`, c.value)))[c.variable], undefined, 'the API pods do not get it');
  });
}

void test('jobs.stageTimeouts: left alone, the worker gets no timeout variable and reads the shared defaults', () => {
  const e = env(worker());
  for (const variable of STAGE_ENV) assert.equal(e[variable], undefined, variable);
  assert.deepEqual(loadConfig(e).timeouts, STAGE_TIMEOUT_DEFAULTS);
  assert.equal(hash(worker(set('jobs.stageTimeouts', { ...STAGE_TIMEOUT_DEFAULTS }))), hash(worker()));
});
