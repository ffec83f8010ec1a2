// bench:operator --cpu-profile's summary of a V8 CPU profile (profile.ts).
//   node --test bench/operator/profile.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeOf, summarizeProfile } from './profile.ts';

const PLACES = [
  { url: 'file:///work/main/dist/operator/kube.js', fn: 'list', want: 'dist/operator/kube.js' },
  { url: 'file:///work/main/node_modules/@kubernetes/client-node/dist/cache.js', fn: 'get', want: '@kubernetes/client-node' },
  { url: 'file:///work/main/node_modules/undici/lib/core/util.js', fn: 'x', want: 'undici' },
  { url: 'node:internal/timers', fn: 'listOnTimeout', want: 'node:internal/timers' },
  { url: '', fn: '(garbage collector)', want: '(garbage collector)' },
  { url: '', fn: 'JSONParse', want: '(native)' },
];
for (const c of PLACES) {
  void test(`a frame of ${c.url || c.fn} is placed in ${c.want}`, () => assert.equal(placeOf({ functionName: c.fn, url: c.url, lineNumber: 0 }), c.want));
}

void test('self time goes to the sampled frame, weighted by the time to the next sample, and idle samples are not busy', () => {
  const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 9 });
  const s = summarizeProfile({
    nodes: [
      { id: 1, callFrame: frame('(root)') },
      { id: 2, callFrame: frame('(idle)') },
      { id: 3, callFrame: frame('reconcile', 'file:///w/dist/operator/reconcile/reconciler.js') },
      { id: 4, callFrame: frame('(garbage collector)') },
    ],
    samples: [3, 3, 4, 2, 2],
    timeDeltas: [0, 1_000, 1_000, 1_000, 5_000],
    startTime: 0,
    endTime: 10_000,
  });
  assert.equal(s.busyMs, 3);
  assert.equal(s.wallMs, 10);
  assert.deepEqual(s.byPlace, [
    ['dist/operator/reconcile/reconciler.js', 2],
    ['(garbage collector)', 1],
  ]);
  assert.deepEqual(s.byFunction[0], ['reconcile dist/operator/reconcile/reconciler.js:10', 2]);
});
