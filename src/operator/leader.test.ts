import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { silentLogger } from '../shared/logger.ts';
import { LeaderElector, MicroTime, mayAcquire, withTimeout } from './leader.ts';

const lease = (holder: string | undefined): V1Lease => ({ spec: { holderIdentity: holder, renewTime: new Date(0) } });
const DURATION = 15_000;

const cases: { name: string; lease: V1Lease | undefined; observedAgoMs: number | undefined; expected: boolean }[] = [
  { name: 'no Lease yet: take it', lease: undefined, observedAgoMs: undefined, expected: true },
  { name: 'a released Lease (no holder): take it', lease: lease(undefined), observedAgoMs: 0, expected: true },
  { name: 'our own Lease: renew it', lease: lease('me'), observedAgoMs: 0, expected: true },
  { name: 'another holder seen renewing within the lease duration: wait', lease: lease('other'), observedAgoMs: 14_999, expected: false },
  { name: 'another holder unchanged for the whole lease duration: take over', lease: lease('other'), observedAgoMs: 15_000, expected: true },
  { name: 'another holder never observed before: wait a full duration first', lease: lease('other'), observedAgoMs: undefined, expected: false },
];
for (const c of cases) {
  void test(c.name, () => {
    const now = 100_000;
    const observed = c.observedAgoMs === undefined ? undefined : { record: 'x', seenAt: now - c.observedAgoMs };
    assert.equal(mayAcquire(c.lease, 'me', observed, now, DURATION), c.expected);
  });
}

void test('a leader whose renewals hang steps down within the renew deadline', { timeout: 10_000 }, async () => {
  let hang = false;
  let lease: V1Lease | undefined;
  const api = {
    readNamespacedLease: () =>
      hang ? new Promise<never>(() => undefined) : lease ? Promise.resolve(lease) : Promise.reject(Object.assign(new Error('nf'), { code: 404 })),
    createNamespacedLease: ({ body }: { body: V1Lease }) => Promise.resolve((lease = { ...body, metadata: { ...body.metadata, resourceVersion: '1' } })),
    replaceNamespacedLease: ({ body }: { body: V1Lease }) => Promise.resolve((lease = body)),
  } as unknown as CoordinationV1Api;
  const events: string[] = [];
  let stoppedAt = 0;
  const stopped = new Promise<void>((resolve) => {
    const elector = new LeaderElector(
      api,
      { namespace: 'ns', name: 'l', identity: 'me', leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 50 },
      silentLogger(),
      {
        onStartedLeading: () => {
          events.push('started');
          setTimeout(() => (hang = true), 100);
        },
        onStoppedLeading: () => {
          events.push('stopped');
          stoppedAt = performance.now();
          void elector.stop();
          resolve();
        },
      },
    );
    elector.start();
  });
  const started = performance.now();
  await stopped;
  assert.deepEqual(events, ['started', 'stopped']);
  // hangs from ~100 ms; the deadline counts from the last renewal: well under a second, never forever.
  assert.ok(stoppedAt - started < 1_500, `stepped down after ${Math.round(stoppedAt - started)} ms`);
});

void test('withTimeout rejects a promise that never settles and passes a settled one through', async () => {
  await assert.rejects(withTimeout(new Promise(() => undefined), 20), /did not answer within 20 ms/);
  assert.equal(await withTimeout(Promise.resolve(7), 20), 7);
});

void test('a Lease time is written with the six fractional digits the API server wants', () => {
  assert.equal(JSON.stringify({ renewTime: new MicroTime(Date.UTC(2026, 0, 2, 3, 4, 5, 67)) }), '{"renewTime":"2026-01-02T03:04:05.067000Z"}');
});
