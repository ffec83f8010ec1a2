import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HpaFacts } from '../conditions/checks.ts';
import { REASON } from '../conditions/reasons.ts';
import { hpaFacts, scalingPlan, scalingStatus, stableScalingStatus, workersFor, type WorkerScalingSpec } from './decide.ts';
import type { QueueSignal } from './signal.ts';
import type { PipelineQueueView } from './view.ts';

// Fixture builders with small setters.
const spec = (s: Partial<WorkerScalingSpec> & { min?: number; max?: number } = {}): WorkerScalingSpec => ({
  replicas: { min: s.min ?? 1, max: s.max ?? 10 },
  messagesPerReplica: s.messagesPerReplica ?? 5,
  activationMessages: s.activationMessages ?? 0,
  provider: s.provider ?? 'prometheus-adapter',
});
const signal = (backlog: number, s: Partial<QueueSignal> = {}): QueueSignal => ({
  activeMessages: backlog,
  scheduled: 0,
  deadLettered: 0,
  inFlight: 0,
  waiting: backlog,
  backlog,
  ...s,
});
const view = (v: Partial<PipelineQueueView> & { backlog?: number } = {}): PipelineQueueView => ({
  pending: false,
  lastSeenNonEmpty: (v.backlog ?? 0) > 0,
  deadLetterHistory: [],
  observedAt: new Date('2026-11-23T11:00:00.123Z'),
  ...(v.backlog !== undefined ? { signal: signal(v.backlog) } : {}),
  ...v,
});
const unreachable = { reason: REASON.namespaceUnreachable, message: 'x', throttled: false };
const receiveDisabled = { reason: REASON.queueReceiveDisabled, message: 'x', throttled: false };
const hpa = (h: Partial<HpaFacts> = {}): HpaFacts => ({ metricFailing: false, ...h });

void test('the HPA arithmetic rounds up and needs no worker for an empty queue', () => {
  assert.deepEqual([workersFor(0, 5), workersFor(1, 5), workersFor(5, 5), workersFor(6, 5), workersFor(1000, 5)], [0, 1, 1, 2, 200]);
});

const statusCases: Array<{
  name: string;
  spec: WorkerScalingSpec;
  view?: PipelineQueueView;
  hpa?: HpaFacts;
  degraded?: boolean;
  desired?: number;
  limitedBy: string;
  min?: number;
}> = [
  {
    name: 'a backlog within bounds wants ceil(backlog / messagesPerReplica) workers',
    spec: spec(),
    view: view({ backlog: 23 }),
    desired: 5,
    limitedBy: 'none',
  },
  {
    name: 'a backlog beyond the maximum is capped by maxReplicas',
    spec: spec({ max: 10 }),
    view: view({ backlog: 1000 }),
    desired: 10,
    limitedBy: 'maxReplicas',
  },
  { name: 'an empty queue keeps the minimum', spec: spec({ min: 2 }), view: view({ backlog: 0 }), desired: 2, limitedBy: 'minReplicas' },
  { name: 'an empty queue with min 0 wants no workers', spec: spec({ min: 0 }), view: view({ backlog: 0 }), desired: 0, limitedBy: 'none' },
  {
    name: 'an unreachable queue last seen with work holds at least one worker even with min 0',
    spec: spec({ min: 0 }),
    view: view({ backlog: 40, problem: unreachable }),
    hpa: hpa({ currentReplicas: 0, desiredReplicas: 0 }),
    desired: 1,
    limitedBy: 'metricUnavailable',
    min: 1,
  },
  {
    name: 'an unreachable queue holds the current worker count',
    spec: spec({ min: 0 }),
    view: view({ backlog: 40, problem: unreachable }),
    hpa: hpa({ currentReplicas: 8, desiredReplicas: 8 }),
    desired: 8,
    limitedBy: 'metricUnavailable',
    min: 1,
  },
  {
    name: 'an unreachable queue last seen empty may stay at zero',
    spec: spec({ min: 0 }),
    view: view({ backlog: 0, problem: unreachable }),
    hpa: hpa({ currentReplicas: 0 }),
    desired: 0,
    limitedBy: 'metricUnavailable',
    min: 0,
  },
  {
    name: 'an HPA that cannot read the metric holds its count at the safe floor',
    spec: spec({ min: 0 }),
    view: view({ backlog: 12 }),
    hpa: hpa({ metricFailing: true, currentReplicas: 0 }),
    desired: 1,
    limitedBy: 'metricUnavailable',
    min: 1,
  },
  {
    name: 'a degraded pipeline does not grow beyond its current workers',
    spec: spec(),
    view: view({ backlog: 100 }),
    hpa: hpa({ currentReplicas: 3 }),
    degraded: true,
    desired: 3,
    limitedBy: 'scaleUpDisabled',
  },
  {
    name: 'a degraded pipeline may still scale down',
    spec: spec(),
    view: view({ backlog: 5 }),
    hpa: hpa({ currentReplicas: 3 }),
    degraded: true,
    desired: 1,
    limitedBy: 'none',
  },
  {
    name: 'a ReceiveDisabled queue does not scale up but its numbers still count',
    spec: spec(),
    view: view({ backlog: 50, problem: receiveDisabled }),
    hpa: hpa({ currentReplicas: 2 }),
    desired: 2,
    limitedBy: 'scaleUpDisabled',
  },
  {
    name: 'a pipeline never read yet reports no desired count',
    spec: spec(),
    view: view({ pending: true }),
    desired: undefined,
    limitedBy: 'metricUnavailable',
  },
];

for (const c of statusCases) {
  void test(c.name, () => {
    const plan = scalingPlan(c.spec, c.view, c.hpa, c.degraded ?? false);
    const status = scalingStatus(c.spec, c.view, c.hpa, plan);
    assert.equal(status.desiredWorkers, c.desired);
    assert.equal(status.limitedBy, c.limitedBy);
    if (c.min !== undefined) assert.equal(plan.minReplicas, c.min);
  });
}

void test('status.scaling carries plain integers and a second-precision timestamp', () => {
  const v = view({ signal: signal(17, { activeMessages: 12, inFlight: 5, deadLettered: 3, scheduled: 2 }) });
  const s = scalingStatus(spec(), v, undefined, scalingPlan(spec(), v, undefined, false));
  assert.deepEqual(s, {
    activeMessages: 12,
    inFlight: 5,
    deadLettered: 3,
    scheduled: 2,
    backlog: 17,
    observedAt: '2026-11-23T11:00:00Z',
    desiredWorkers: 4,
    limitedBy: 'none',
  });
});

void test("the HPA's ScalingActive condition tells whether it reads its metric", () => {
  // The MetricsAvailable check (src/operator/conditions/checks.test.ts) reads these facts.
  const failing = hpaFacts({
    currentReplicas: 2,
    conditions: [{ type: 'ScalingActive', status: 'False', reason: 'FailedGetExternalMetric', message: 'unable to get external metric' }],
  });
  assert.equal(failing?.metricFailing, true);
  assert.deepEqual(failing, { metricFailing: true, reported: true, currentReplicas: 2, metricMessage: 'unable to get external metric' });
  const ok = hpaFacts({ currentReplicas: 2, desiredReplicas: 3, conditions: [{ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound' }] });
  assert.deepEqual(ok, { metricFailing: false, reported: true, currentReplicas: 2, desiredReplicas: 3 });
  const scaledToZero = hpaFacts({ currentReplicas: 0, conditions: [{ type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled' }] });
  assert.equal(scaledToZero?.metricFailing, false);
  const fresh = hpaFacts({ currentReplicas: 1, desiredReplicas: 0 });
  assert.deepEqual(fresh, { metricFailing: false, reported: false, currentReplicas: 1, desiredReplicas: 0 });
  assert.equal(hpaFacts(undefined), undefined);
});

void test('an unchanged status.scaling keeps its observedAt for five minutes, so a restart writes nothing', () => {
  const prev = { activeMessages: 3, backlog: 3, desiredWorkers: 1, limitedBy: 'none' as const, observedAt: '2026-11-23T11:00:00Z' };
  const now = Date.parse('2026-11-23T11:02:00Z');
  assert.equal(stableScalingStatus(prev, { ...prev, observedAt: '2026-11-23T11:02:00Z' }, now).observedAt, '2026-11-23T11:00:00Z');
  assert.equal(stableScalingStatus(prev, { ...prev, backlog: 4, observedAt: '2026-11-23T11:02:00Z' }, now).observedAt, '2026-11-23T11:02:00Z');
  assert.equal(
    stableScalingStatus(prev, { ...prev, observedAt: '2026-11-23T11:06:00Z' }, Date.parse('2026-11-23T11:06:00Z')).observedAt,
    '2026-11-23T11:06:00Z',
  );
});
