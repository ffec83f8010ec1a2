import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBehavior } from './hpa.ts';

void test('a degraded plan turns off scale-up and keeps scale-down as the spec says', () => {
  const behavior = { scaleUp: { selectPolicy: 'Max' as const, stabilizationWindowSeconds: 0 }, scaleDown: { stabilizationWindowSeconds: 300 } };
  assert.deepEqual(planBehavior(behavior, { scaleUpDisabled: true }), {
    scaleUp: { selectPolicy: 'Disabled', stabilizationWindowSeconds: 0 },
    scaleDown: { stabilizationWindowSeconds: 300 },
  });
  assert.equal(planBehavior(behavior, { scaleUpDisabled: false }), behavior);
});
