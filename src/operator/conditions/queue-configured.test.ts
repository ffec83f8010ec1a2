// QueueConfigured: the queue's MaxDeliveryCount and LockDuration against spec.queue.serviceBus, as a table of
// what the operator found -> status, reason and what the message must tell a person.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateConditions, queueConfigured, type QueueSettingsFacts, type ScalingFacts } from './checks.ts';
import { scalingFacts } from '../testing/scaling-facts.ts';

const scaling = (queueSettings?: QueueSettingsFacts): ScalingFacts => scalingFacts({ queueName: 'invoices', ...(queueSettings ? { queueSettings } : {}) });

const desired = { maxDeliveryCount: 10, lockDurationSeconds: 60 };

const cases: { name: string; facts: QueueSettingsFacts; status: string; reason: string; message: RegExp[] }[] = [
  {
    name: 'a queue that already has the spec values is True QueueSettingsMatch',
    facts: { desired, actual: desired },
    status: 'True',
    reason: 'QueueSettingsMatch',
    message: [/maxDeliveryCount 10, lockDuration 60 s/, /as the spec asks/],
  },
  {
    name: 'a queue the operator updated is True QueueSettingsMatch and says from what',
    facts: { desired, actual: desired, applied: { before: { maxDeliveryCount: 3, lockDurationSeconds: 30 } } },
    status: 'True',
    reason: 'QueueSettingsMatch',
    message: [/updated from maxDeliveryCount 3, lockDuration 30 s/],
  },
  {
    name: 'a queue that differs and could not be updated (no Manage) is False QueueSettingsDiffer with both values',
    facts: { desired, actual: { maxDeliveryCount: 3, lockDurationSeconds: 30 }, applyError: '401 Unauthorized: Manage is required' },
    status: 'False',
    reason: 'QueueSettingsDiffer',
    message: [/has maxDeliveryCount 3, lockDuration 30 s/, /asks for maxDeliveryCount 10, lockDuration 60 s/, /401 Unauthorized/, /Manage right/],
  },
  {
    name: 'a queue whose settings could not be read is Unknown QueueSettingsUnread with the reason',
    facts: { desired, readError: 'ECONNREFUSED' },
    status: 'Unknown',
    reason: 'QueueSettingsUnread',
    message: [/ECONNREFUSED/, /QueueReachable/],
  },
];

for (const c of cases) {
  void test(`QueueConfigured: ${c.name}`, () => {
    const verdict = queueConfigured(scaling(c.facts));
    assert.deepEqual([verdict.type, verdict.status, verdict.reason], ['QueueConfigured', c.status, c.reason]);
    for (const m of c.message) assert.match(verdict.message, m);
  });
}

void test('QueueConfigured follows QueueReachable and MetricsAvailable once the settings were checked, and is absent before', () => {
  const healthy = { namespace: 'finance', missingSecrets: [] };
  assert.deepEqual(
    evaluateConditions({ ...healthy, scaling: scaling({ desired, actual: desired }) }).map((c) => c.type),
    ['Ready', 'Progressing', 'Degraded', 'QueueReachable', 'MetricsAvailable', 'QueueConfigured'],
  );
  assert.ok(!evaluateConditions({ ...healthy, scaling: scaling() }).some((c) => c.type === 'QueueConfigured'));
});
