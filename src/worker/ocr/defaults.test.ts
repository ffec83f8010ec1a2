import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseTesseractModel, type TesseractModelChoice } from './defaults.ts';

/** Debian's fast files present on the imagined machine. */
const debian = new Set(['eng', 'deu']);
const has = (language: string) => debian.has(language);

const cases: { name: string; requested: 'auto' | 'best' | 'fast'; languages: string[]; choice: TesseractModelChoice }[] = [
  { name: 'auto takes fast when every language has its Debian file', requested: 'auto', languages: ['eng', 'deu'], choice: { model: 'fast', missing: [] } },
  {
    name: 'auto falls back to best when one language lacks its Debian file',
    requested: 'auto',
    languages: ['eng', 'fra'],
    choice: { model: 'best', missing: ['fra'] },
  },
  { name: 'best is kept even when the fast files are all there', requested: 'best', languages: ['eng'], choice: { model: 'best', missing: [] } },
  {
    name: 'fast is kept and names the missing files, for the caller to refuse',
    requested: 'fast',
    languages: ['chi_sim', 'eng'],
    choice: { model: 'fast', missing: ['chi_sim'] },
  },
];

for (const c of cases) {
  void test(c.name, () => {
    assert.deepEqual(chooseTesseractModel(c.requested, c.languages, has), c.choice);
  });
}
