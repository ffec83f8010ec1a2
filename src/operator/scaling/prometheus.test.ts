import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byPipeline } from './prometheus.ts';

void test('samples are keyed namespace/pipeline as integers; samples without labels or with bad values are dropped', () => {
  const m = byPipeline([
    { metric: { namespace: 'finance', pipeline: 'receipts' }, value: [0, '3.6'] },
    { metric: { namespace: 'hr', pipeline: 'ids' }, value: [0, '0'] },
    { metric: { pipeline: 'orphan' }, value: [0, '9'] },
    { metric: { namespace: 'x', pipeline: 'y' }, value: [0, 'NaN'] },
    { metric: { namespace: 'x', pipeline: 'z' }, value: [0, '-1'] },
  ]);
  assert.deepEqual(
    [...m],
    [
      ['finance/receipts', 4],
      ['hr/ids', 0],
    ],
  );
});
