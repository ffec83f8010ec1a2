import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DEGRADED_THRESHOLDS, type ConditionFacts, type ScalingFacts } from '../conditions/checks.ts';
import type { Reason } from '../conditions/reasons.ts';
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

// status.api.keysSecret: the Secret the API mounts, reported beside the API Deployment's counts.
const keysSecretCases: { name: string; facts: ConditionFacts; keysSecret: string | undefined; api: unknown }[] = [
  {
    name: 'the keys Secret in use is named in status.api',
    facts: healthy,
    keysSecret: 'receipts-api-keys',
    api: { desiredReplicas: 2, readyReplicas: 2, keysSecret: 'receipts-api-keys' },
  },
  { name: 'auth disabled leaves keysSecret out of status.api', facts: healthy, keysSecret: undefined, api: { desiredReplicas: 2, readyReplicas: 2 } },
  {
    name: 'without an API Deployment yet there is no status.api, keys Secret or not',
    facts: { namespace: 'ns', missingSecrets: [] },
    keysSecret: 'receipts-api-keys',
    api: undefined,
  },
];
for (const c of keysSecretCases) {
  void test(c.name, () => assert.deepEqual(buildStatus(undefined, c.facts, 1, T0, undefined, c.keysSecret).api, c.api));
}

void test('status.ocr carries the resolved engine, and an unchanged engine leaves the status equal', () => {
  const first = buildStatus(undefined, healthy, 1, T0, undefined, undefined, { engine: 'paddle' });
  assert.deepEqual(first.ocr, { engine: 'paddle' });
  assert.ok(statusEqual(first, buildStatus(first, healthy, 1, T1, undefined, undefined, { engine: 'paddle' })));
  assert.ok(!statusEqual(first, buildStatus(first, healthy, 1, T1, undefined, undefined, { engine: 'tesseract' })));
});

void test('the scaling block written by the queue poller is kept', () => {
  const scaling = { activeMessages: 12, desiredWorkers: 3 };
  const s = buildStatus({ scaling }, healthy, 1, T0);
  assert.deepEqual(s.scaling, scaling);
});

void test('mergeConditions keeps the previous transition time when the status is unchanged but the reason changed', () => {
  const merged = mergeConditions(
    [{ type: 'Ready', status: 'False', reason: 'A', message: 'a', lastTransitionTime: T0 }],
    [{ type: 'Ready', status: 'False', reason: 'NotCreated', message: 'b' }],
    1,
    T1,
  );
  assert.equal(merged[0]?.lastTransitionTime, T0);
  assert.equal(merged[0]?.reason, 'NotCreated');
});

void test('while the first queue read is pending (a restart) the last reported QueueReachable and scaling numbers are kept', () => {
  // What the scaling step hands over: its facts for the checks and status.scaling.
  const withQueue = (queue: ScalingFacts['queue']): ConditionFacts => ({
    ...healthy,
    scaling: {
      queueName: 'q',
      queue,
      deadLetterGrowth: 0,
      jobs: undefined,
      thresholds: DEFAULT_DEGRADED_THRESHOLDS,
      replicas: { min: 1, max: 10 },
      provider: 'prometheus-adapter',
      hpa: undefined,
      prometheusUrl: undefined,
    },
  });
  const read = (reason?: Reason) => withQueue({ pending: false, ...(reason ? { problem: { reason, message: reason } } : {}) });
  const pendingRead = withQueue({ pending: true });
  const scaling = (activeMessages?: number) => (activeMessages === undefined ? { desiredWorkers: 1 } : { activeMessages, desiredWorkers: 1 });
  const before = buildStatus(undefined, read('NamespaceUnreachable'), 1, T0, scaling());
  const withCounts = buildStatus(undefined, read(), 1, T0, scaling(4));
  assert.equal(before.conditions?.find((c) => c.type === 'QueueReachable')?.status, 'False');
  assert.equal(withCounts.conditions?.find((c) => c.type === 'QueueReachable')?.reason, 'CountsRead');
  for (const previous of [before, withCounts]) {
    const afterRestart = buildStatus(previous, pendingRead, 1, T1, scaling());
    assert.ok(statusEqual(previous, afterRestart), JSON.stringify(afterRestart));
  }
  // A brand-new pipeline has nothing to keep: it says the first read is under way.
  const fresh = buildStatus(undefined, pendingRead, 1, T0, scaling());
  assert.equal(fresh.conditions?.find((c) => c.type === 'QueueReachable')?.status, 'Unknown');
});
