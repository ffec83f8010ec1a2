import { test } from 'node:test';
import assert from 'node:assert/strict';
import { degraded, evaluateConditions, progressing, ready, type ConditionFacts, type DeploymentFacts } from './checks.ts';
import { REASON } from './reasons.ts';

const rolledOut = (n: number): DeploymentFacts => ({ generation: 2, observedGeneration: 2, desired: n, updated: n, ready: n, available: n });
const healthy = (): ConditionFacts => ({ namespace: 'finance', missingSecrets: [], api: rolledOut(2), worker: rolledOut(1) });
const facts = (mod: (f: ConditionFacts) => void): ConditionFacts => {
  const f = healthy();
  mod(f);
  return f;
};
const missing = (secretExists: boolean) => (f: ConditionFacts) => {
  f.missingSecrets = [{ name: 'ocr-servicebus', key: 'connectionString', field: 'spec.queue.serviceBus.connectionStringSecretRef', secretExists }];
};

const cases: { name: string; facts: ConditionFacts; ready: [string, string]; progressing: [string, string]; degraded: [string, string] }[] = [
  { name: 'a rolled-out pipeline is ready, not progressing, not degraded', facts: healthy(), ready: ['True', REASON.available], progressing: ['False', REASON.rolloutComplete], degraded: ['False', REASON.asExpected] },
  { name: 'a missing Secret degrades the pipeline and blocks progress', facts: facts(missing(false)), ready: ['False', REASON.degraded], progressing: ['False', REASON.blocked], degraded: ['True', REASON.secretNotFound] },
  { name: 'a Secret without the referenced key degrades the pipeline', facts: facts(missing(true)), ready: ['False', REASON.degraded], progressing: ['False', REASON.blocked], degraded: ['True', REASON.secretKeyNotFound] },
  { name: 'an invalid spec degrades the pipeline before anything else', facts: facts((f) => { f.invalidSpec = 'spec.image: required'; missing(false)(f); }), ready: ['False', REASON.degraded], progressing: ['False', REASON.blocked], degraded: ['True', REASON.invalidSpec] },
  { name: 'a failed apply degrades the pipeline but a rollout may still be reported', facts: facts((f) => { f.applyError = 'HTTP 422: invalid'; }), ready: ['False', REASON.degraded], progressing: ['False', REASON.rolloutComplete], degraded: ['True', REASON.applyFailed] },
  { name: 'Deployments not created yet mean creating and not ready', facts: facts((f) => { delete f.api; delete f.worker; }), ready: ['False', REASON.notCreated], progressing: ['True', REASON.creating], degraded: ['False', REASON.asExpected] },
  { name: 'a new spec not yet observed by the Deployment controller is progressing', facts: facts((f) => { f.api = { ...rolledOut(2), observedGeneration: 1 }; }), ready: ['True', REASON.available], progressing: ['True', REASON.rollingOut], degraded: ['False', REASON.asExpected] },
  { name: 'an API with no available pod is not ready', facts: facts((f) => { f.api = { ...rolledOut(2), ready: 0, available: 0 }; }), ready: ['False', REASON.apiUnavailable], progressing: ['True', REASON.rollingOut], degraded: ['False', REASON.asExpected] },
  { name: 'wanted workers with none available are not ready', facts: facts((f) => { f.worker = { ...rolledOut(3), ready: 0, available: 0 }; }), ready: ['False', REASON.workersUnavailable], progressing: ['True', REASON.rollingOut], degraded: ['False', REASON.asExpected] },
  { name: 'workers scaled to zero are ready', facts: facts((f) => { f.worker = rolledOut(0); }), ready: ['True', REASON.available], progressing: ['False', REASON.rolloutComplete], degraded: ['False', REASON.asExpected] },
  { name: 'pods the API server refuses to create degrade the pipeline', facts: facts((f) => { f.worker = { ...rolledOut(1), ready: 0, available: 0, updated: 0, replicaFailure: 'serviceaccount "ocr" not found' }; }), ready: ['False', REASON.degraded], progressing: ['True', REASON.rollingOut], degraded: ['True', REASON.podCreationFailed] },
  { name: 'a half-updated worker rollout is progressing', facts: facts((f) => { f.worker = { ...rolledOut(4), updated: 2 }; }), ready: ['True', REASON.available], progressing: ['True', REASON.rollingOut], degraded: ['False', REASON.asExpected] },
];

for (const c of cases) {
  void test(c.name, () => {
    assert.deepEqual([ready(c.facts).status, ready(c.facts).reason], c.ready, 'Ready');
    assert.deepEqual([progressing(c.facts).status, progressing(c.facts).reason], c.progressing, 'Progressing');
    assert.deepEqual([degraded(c.facts).status, degraded(c.facts).reason], c.degraded, 'Degraded');
  });
}

void test('the SecretNotFound message names the namespace, Secret, key and referring field', () => {
  const d = degraded(facts(missing(false)));
  assert.match(d.message, /Secret finance\/ocr-servicebus/);
  assert.match(d.message, /key "connectionString"/);
  assert.match(d.message, /spec\.queue\.serviceBus\.connectionStringSecretRef/);
});

void test('conditions come out as Ready, Progressing, Degraded in that order', () => {
  assert.deepEqual(evaluateConditions(healthy()).map((c) => c.type), ['Ready', 'Progressing', 'Degraded']);
});
