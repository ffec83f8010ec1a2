import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Lease } from '@kubernetes/client-node';
import { mayAcquire } from './leader.ts';

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
