// spec.retries -> the worker's WORKER_RETRY_* variables: each reaches the pod only when it differs from
// RETRY_DEFAULTS, and the worker's own config reader reads back what the spec says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment } from '@kubernetes/client-node';
import { input, pipeline, set, type SpecMod } from '../testing/fixtures.ts';
import { loadConfig } from '../../worker/config.ts';
import type { RetryPolicy } from '../../worker/retries.ts';
import { ENV } from '../../contract/container.ts';
import { CONFIG_HASH_ANNOTATION } from '../../contract/labels.ts';
import { workerDeployment } from './worker-deployment.ts';

const RETRY_ENV = [ENV.workerRetryMaxAttempts, ENV.workerRetryBaseDelaySeconds, ENV.workerRetryMaxDelaySeconds, ENV.workerRetryMaxTimeouts] as const;

const env = (d: V1Deployment): Record<string, string> =>
  Object.fromEntries((d.spec?.template.spec?.containers[0]?.env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
const hash = (d: V1Deployment) => d.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
const render = (...mods: SpecMod[]) => workerDeployment(input(pipeline('minimal', ...mods)));
/** What the worker reads from the rendered env (the connection settings come from Secrets in a cluster). */
const workerReads = (e: Record<string, string>): RetryPolicy =>
  loadConfig({
    ...e,
    SERVICEBUS_CONNECTION_STRING: 'Endpoint=sb://x;SharedAccessKeyName=k;SharedAccessKey=v',
    BLOB_CONNECTION_STRING: 'UseDevelopmentStorage=true',
  }).retries;

const cases: { field: string; value: number; variable: (typeof RETRY_ENV)[number]; reads: Partial<RetryPolicy> }[] = [
  { field: 'maxAttempts', value: 8, variable: ENV.workerRetryMaxAttempts, reads: { maxAttempts: 8 } },
  { field: 'baseDelaySeconds', value: 2, variable: ENV.workerRetryBaseDelaySeconds, reads: { baseDelayMs: 2_000 } },
  { field: 'maxDelaySeconds', value: 900, variable: ENV.workerRetryMaxDelaySeconds, reads: { maxDelayMs: 900_000 } },
  { field: 'maxTimeouts', value: 1, variable: ENV.workerRetryMaxTimeouts, reads: { maxTimeouts: 1 } },
];

for (const c of cases) {
  void test(`retries: ${c.field} ${c.value} sets ${c.variable}=${c.value}, no other retry variable, and the worker reads it back`, () => {
    const e = env(render(set(`retries.${c.field}`, c.value)));
    assert.equal(e[c.variable], String(c.value));
    for (const other of RETRY_ENV.filter((v) => v !== c.variable)) assert.equal(e[other], undefined, other);
    assert.deepEqual(workerReads(e), { ...workerReads({}), ...c.reads });
  });
}

void test('retries: a pipeline without spec.retries sets no retry variable and keeps its config hash', () => {
  const e = env(render());
  for (const name of RETRY_ENV) assert.equal(e[name], undefined, name);
  assert.equal(hash(render(set('retries.maxAttempts', 5))), hash(render()), 'spelling out the default changes nothing');
  assert.notEqual(hash(render(set('retries.maxAttempts', 6))), hash(render()), 'a real change rolls the workers');
});

void test('retries: the CRD refuses values outside their bounds', () => {
  assert.throws(() => render(set('retries.maxAttempts', 0)), /maxAttempts/);
  assert.throws(() => render(set('retries.baseDelaySeconds', 0)), /baseDelaySeconds/);
});
