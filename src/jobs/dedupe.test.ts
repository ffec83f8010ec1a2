import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dedupeKey, dedupeKeysOf } from './dedupe.ts';

const HASH = 'a'.repeat(64);

// A cached result answers only a job that would get the same result: the engine is part of the key.
const cases: { name: string; a: Parameters<typeof dedupeKey>; b: Parameters<typeof dedupeKey>; same: boolean }[] = [
  {
    name: 'a paddle job and a tesseract job of the same image get different keys',
    a: [HASH, ['eng'], { pageSegmentation: 'auto', engine: 'paddle' }],
    b: [HASH, ['eng'], { pageSegmentation: 'auto', engine: 'tesseract' }],
    same: false,
  },
  {
    name: 'a job naming an engine and one naming none get different keys',
    a: [HASH, ['eng'], { pageSegmentation: 'auto', engine: 'tesseract' }],
    b: [HASH, ['eng'], { pageSegmentation: 'auto' }],
    same: false,
  },
  {
    name: "a job naming the pipeline's engine and one naming none share a key (the API and worker pass the pipeline engine)",
    a: [HASH, ['eng'], { pageSegmentation: 'auto', engine: 'paddle' }],
    b: [HASH, ['eng'], { pageSegmentation: 'auto' }, 'paddle'],
    same: true,
  },
  {
    name: 'a job naming none on a paddle pipeline and one on a tesseract pipeline (spec.ocr.engine changed) get different keys',
    a: [HASH, ['eng'], { pageSegmentation: 'auto' }, 'paddle'],
    b: [HASH, ['eng'], { pageSegmentation: 'auto' }, 'tesseract'],
    same: false,
  },
  {
    name: 'the pipeline engine does not change the key of a job naming its own engine',
    a: [HASH, ['eng'], { pageSegmentation: 'auto', engine: 'tesseract' }, 'paddle'],
    b: [HASH, ['eng'], { pageSegmentation: 'auto', engine: 'tesseract' }],
    same: true,
  },
  {
    name: 'two paddle jobs with their languages in another order share a key',
    a: [HASH, ['eng', 'chi_sim'], { pageSegmentation: 'auto', engine: 'paddle' }],
    b: [HASH, ['chi_sim', 'eng'], { pageSegmentation: 'auto', engine: 'paddle' }],
    same: true,
  },
];
for (const c of cases) {
  void test(c.name, () => assert.equal(dedupeKey(...c.a) === dedupeKey(...c.b), c.same));
}

void test('a job without an engine keeps the key it had before engines were part of it', () => {
  // The key of {"h":"aaa…","l":["eng"],"o":{"pageSegmentation":"auto"}} as the code before engines computed it: results cached then still answer.
  assert.equal(dedupeKey(HASH, ['eng'], { pageSegmentation: 'auto' }), '61a9d2fe9852d6bbf912172540c9c186f709210b4ad5ed45d129a0df049c676d');
});

void test('forgetting a job naming no engine covers the key of each engine and the key without one; a job naming one, its own', () => {
  const none = { pageSegmentation: 'auto' as const };
  assert.deepEqual(dedupeKeysOf(HASH, ['eng'], none), [
    dedupeKey(HASH, ['eng'], none),
    dedupeKey(HASH, ['eng'], none, 'tesseract'),
    dedupeKey(HASH, ['eng'], none, 'paddle'),
  ]);
  assert.equal(new Set(dedupeKeysOf(HASH, ['eng'], none)).size, 3);
  const paddle = { pageSegmentation: 'auto' as const, engine: 'paddle' as const };
  assert.deepEqual(dedupeKeysOf(HASH, ['eng'], paddle), [dedupeKey(HASH, ['eng'], paddle)]);
});
