import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConditionFacts } from '../conditions/checks.ts';
import type { ScalingObservation } from '../scaling/service.ts';
import { buildStatus, mergeConditions, statusEqual } from './status.ts';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:05:00.000Z';
const healthy: ConditionFacts = {
  namespace: 'ns',
  missingSecrets: [],
  api: { generation: 1, observedGeneration: 1, desired: 2, updated: 2, ready: 2, available: 2 },
  worker: { generation: 1, observedGeneration: 1, desired: 1, updated: 1, ready: 1, available: 1 },
};
const broken: ConditionFacts = { ...healthy, missingSecrets: [{ name: 's', key: 'k', field: 'spec.webhookSecretRef', secretExists: false }] };

void test('an unchanged world produces an identical status, so nothing is written', () => {
  const first = buildStatus(undefined, healthy, 3, T0);
  const second = buildStatus(first, healthy, 3, T1);
  assert.ok(statusEqual(first, second));
});

void test('lastTransitionTime moves only for the conditions whose status changed', () => {
  const first = buildStatus(undefined, healthy, 1, T0);
  const second = buildStatus(first, broken, 1, T1);
  const time = (type: string) => second.conditions?.find((c) => c.type === type)?.lastTransitionTime;
  assert.equal(time('Ready'), T1); // True -> False
  assert.equal(time('Degraded'), T1); // False -> True
  assert.equal(time('Progressing'), T0); // False (RolloutComplete) -> False (Blocked): same status
  assert.ok(!statusEqual(first, second));
});

void test('a new generation is recorded as observedGeneration on the status and each condition', () => {
  const s = buildStatus(undefined, healthy, 7, T0);
  assert.equal(s.observedGeneration, 7);
  assert.ok(s.conditions?.every((c) => c.observedGeneration === 7));
});

void test('replica counts of both Deployments are reported', () => {
  const s = buildStatus(undefined, healthy, 1, T0);
  assert.deepEqual(s.api, { desiredReplicas: 2, readyReplicas: 2 });
  assert.deepEqual(s.worker, { desiredReplicas: 1, readyReplicas: 1 });
});

void test('the scaling block written by the queue poller is kept', () => {
  const scaling = { activeMessages: 12, desiredWorkers: 3 };
  const s = buildStatus({ scaling }, healthy, 1, T0);
  assert.deepEqual(s.scaling, scaling);
});

void test('mergeConditions keeps the previous transition time when the status is unchanged but the reason changed', () => {
  const merged = mergeConditions([{ type: 'Ready', status: 'False', reason: 'A', message: 'a', lastTransitionTime: T0 }], [{ type: 'Ready', status: 'False', reason: 'NotCreated', message: 'b' }], 1, T1);
  assert.equal(merged[0]?.lastTransitionTime, T0);
  assert.equal(merged[0]?.reason, 'NotCreated');
});

void test('while the first queue read is pending (a restart) the last reported QueueReachable and scaling numbers are kept', () => {
  const observation = (reason: string, status: 'True' | 'False' | 'Unknown', activeMessages?: number): ScalingObservation => ({
    plan: { minReplicas: 1, scaleUpDisabled: false, metricUnavailable: false },
    status: activeMessages === undefined ? { desiredWorkers: 1 } : { activeMessages, desiredWorkers: 1 },
    conditions: [{ type: 'QueueReachable', status, reason, message: reason }],
  });
  const before = buildStatus(undefined, healthy, 1, T0, observation('NamespaceUnreachable', 'False'));
  const withCounts = buildStatus(undefined, healthy, 1, T0, observation('CountsRead', 'True', 4));
  for (const previous of [before, withCounts]) {
    const afterRestart = buildStatus(previous, healthy, 1, T1, observation('NotYetRead', 'Unknown'));
    assert.ok(statusEqual(previous, afterRestart), JSON.stringify(afterRestart));
  }
  // A brand-new pipeline has nothing to keep: it says the first read is under way.
  const fresh = buildStatus(undefined, healthy, 1, T0, observation('NotYetRead', 'Unknown'));
  assert.equal(fresh.conditions?.find((c) => c.type === 'QueueReachable')?.status, 'Unknown');
});
