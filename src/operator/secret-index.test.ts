import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretIndex } from './secret-index.ts';

void test('a Secret maps back to every pipeline in its namespace that refers to it', () => {
  const idx = new SecretIndex();
  idx.set('ns/a', ['shared', 'only-a']);
  idx.set('ns/b', ['shared']);
  idx.set('other/c', ['shared']);
  assert.deepEqual(idx.pipelinesFor('ns', 'shared').sort(), ['ns/a', 'ns/b']);
  assert.deepEqual(idx.pipelinesFor('ns', 'only-a'), ['ns/a']);
  assert.deepEqual(idx.pipelinesFor('ns', 'unrelated'), []);
});

void test('changing or deleting a pipeline updates the index', () => {
  const idx = new SecretIndex();
  idx.set('ns/a', ['old']);
  idx.set('ns/a', ['new']);
  assert.deepEqual(idx.pipelinesFor('ns', 'old'), []);
  assert.deepEqual(idx.pipelinesFor('ns', 'new'), ['ns/a']);
  idx.delete('ns/a');
  assert.deepEqual(idx.pipelinesFor('ns', 'new'), []);
});

void test('a Secret is referenced while some pipeline in its namespace refers to it, and not after the last one let go', () => {
  const idx = new SecretIndex();
  idx.set('ns/a', ['shared']);
  idx.set('ns/b', ['shared']);
  assert.equal(idx.referenced('ns', 'shared'), true);
  assert.equal(idx.referenced('other', 'shared'), false);
  idx.delete('ns/a');
  assert.equal(idx.referenced('ns', 'shared'), true);
  idx.set('ns/b', []);
  assert.equal(idx.referenced('ns', 'shared'), false);
});
