import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activeProbes, applyProbeResult, initialProbeState, probeTiming, type ProbeKind } from './probes.ts';

const probe = { httpGet: { path: '/live', port: 'http' } };

void test('probe timing uses the Kubernetes defaults for unset fields', () => {
  assert.deepEqual(probeTiming(probe), { initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1_000, successThreshold: 1, failureThreshold: 3 });
  assert.equal(probeTiming({ ...probe, periodSeconds: 2, failureThreshold: 30 }).periodMs, 2_000);
});

void test('a container without probes is started and ready at once', () => {
  assert.deepEqual(initialProbeState({}), { started: true, ready: true, startupFailures: 0, readinessSuccesses: 0, readinessFailures: 0, livenessFailures: 0 });
});

void test('only the startup probe runs until it succeeds, then readiness and liveness', () => {
  const c = { startupProbe: probe, readinessProbe: probe, livenessProbe: probe };
  const s0 = initialProbeState(c);
  assert.deepEqual(activeProbes(s0, c), ['startup']);
  const { state: s1 } = applyProbeResult(s0, 'startup', true, { successThreshold: 1, failureThreshold: 3 }, true);
  assert.equal(s1.started, true);
  assert.equal(s1.ready, false, 'started is not ready while a readiness probe exists');
  assert.deepEqual(activeProbes(s1, c), ['readiness', 'liveness']);
});

const t = { successThreshold: 1, failureThreshold: 2 };
const sequences: {
  name: string;
  kind: ProbeKind;
  results: boolean[];
  hasReadiness?: boolean;
  want: { started?: boolean; ready?: boolean; restart: boolean };
}[] = [
  { name: 'startup failing failureThreshold times restarts the container', kind: 'startup', results: [false, false], want: { started: false, restart: true } },
  { name: 'startup failing fewer times does not restart', kind: 'startup', results: [false], want: { started: false, restart: false } },
  {
    name: 'startup success without a readiness probe makes the container ready',
    kind: 'startup',
    results: [false, true],
    hasReadiness: false,
    want: { started: true, ready: true, restart: false },
  },
  { name: 'one readiness success makes it ready', kind: 'readiness', results: [true], want: { ready: true, restart: false } },
  {
    name: 'readiness failing failureThreshold times makes it unready, never restarts',
    kind: 'readiness',
    results: [true, false, false],
    want: { ready: false, restart: false },
  },
  { name: 'a single readiness failure keeps it ready', kind: 'readiness', results: [true, false], want: { ready: true, restart: false } },
  { name: 'liveness failing failureThreshold times in a row restarts', kind: 'liveness', results: [false, false], want: { restart: true } },
  { name: 'a liveness success in between resets the count', kind: 'liveness', results: [false, true, false], want: { restart: false } },
];
for (const s of sequences) {
  void test(s.name, () => {
    let state = initialProbeState({ startupProbe: probe, readinessProbe: probe });
    if (s.kind !== 'startup') state = { ...state, started: true };
    let restart = false;
    for (const ok of s.results) {
      const r = applyProbeResult(state, s.kind, ok, t, s.hasReadiness ?? true);
      state = r.state;
      restart = r.action === 'restart';
    }
    assert.equal(restart, s.want.restart);
    if (s.want.started !== undefined) assert.equal(state.started, s.want.started);
    if (s.want.ready !== undefined) assert.equal(state.ready, s.want.ready);
  });
}
