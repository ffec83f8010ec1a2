// The activity probe: which pipelines received jobs since the last reading of the API's
// created-jobs counters, and the probe that wakes their pollers (issue 14, item 8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiMetrics } from '../../api/metrics.ts';
import { API_METRIC } from '../../contract/metrics.ts';
import { silentLogger } from '../../shared/logger.ts';
import { ActivityProbe, risen } from './activity.ts';

const m = (entries: Record<string, number>) => new Map(Object.entries(entries));

const CASES: Array<{ name: string; previous: Map<string, number> | undefined; current: Map<string, number>; want: string[] }> = [
  { name: 'the first reading is a baseline, not activity', previous: undefined, current: m({ 'a/p': 5 }), want: [] },
  { name: 'a counter that rose is activity', previous: m({ 'a/p': 5, 'a/q': 2 }), current: m({ 'a/p': 7, 'a/q': 2 }), want: ['a/p'] },
  { name: 'an unchanged counter is not', previous: m({ 'a/p': 5 }), current: m({ 'a/p': 5 }), want: [] },
  { name: 'a pipeline seen for the first time is a baseline', previous: m({ 'a/p': 5 }), current: m({ 'a/p': 5, 'b/new': 3 }), want: [] },
  { name: 'a counter that fell (an API pod restarted) is a new baseline', previous: m({ 'a/p': 9 }), current: m({ 'a/p': 1 }), want: [] },
  { name: 'a pipeline gone from the answer is simply absent', previous: m({ 'a/p': 5, 'a/q': 1 }), current: m({ 'a/q': 4 }), want: ['a/q'] },
];

for (const c of CASES) void test(c.name, () => assert.deepEqual(risen(c.previous, c.current), c.want));

void test('the probe reports the pipelines that received jobs, one query at a time, and keeps going after a failed query', async (t) => {
  const answers: Array<Map<string, number> | Error> = [m({ 'a/p': 1 }), m({ 'a/p': 3 }), new Error('prometheus down'), m({ 'a/p': 3 }), m({ 'a/p': 4 })];
  const woken: string[][] = [];
  let queries = 0;
  const probe = new ActivityProbe({
    source: async () => {
      const a = answers[Math.min(queries++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return a;
    },
    everyMs: 5,
    onActivity: (keys) => woken.push(keys),
    log: silentLogger(),
  });
  t.after(() => probe.close());
  probe.start();
  const deadline = Date.now() + 2_000;
  while (queries < answers.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  probe.close();
  assert.deepEqual(woken.slice(0, 2), [['a/p'], ['a/p']]);
});

void test('the counter the probe queries is the one the API publishes', async () => {
  const metrics = new ApiMetrics();
  const names = (await metrics.registry.getMetricsAsJSON()).map((x) => x.name);
  assert.ok(names.includes(API_METRIC.jobsCreated), `${API_METRIC.jobsCreated} not in the API's metrics`);
});
