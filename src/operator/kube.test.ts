import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusPatch } from './kube.ts';

void test('the status merge patch removes fields that are gone and replaces the rest', () => {
  const patch = statusPatch(
    { observedGeneration: 1, api: { desiredReplicas: 2, readyReplicas: 2 }, conditions: [] },
    { observedGeneration: 2, conditions: [] },
  );
  assert.deepEqual(patch, { observedGeneration: 2, conditions: [], api: null });
});

void test('the first status write is the status itself', () => {
  assert.deepEqual(statusPatch(undefined, { observedGeneration: 1 }), { observedGeneration: 1 });
});
