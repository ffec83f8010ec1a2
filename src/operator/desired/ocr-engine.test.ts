import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveEngine } from './ocr-engine.ts';

const cases: { name: string; engine: 'auto' | 'tesseract' | 'paddle'; languages: string[]; resolved: 'tesseract' | 'paddle' }[] = [
  { name: 'auto with English only runs paddle, the engine with the lower CER', engine: 'auto', languages: ['eng'], resolved: 'paddle' },
  { name: 'auto with English and simplified Chinese runs paddle', engine: 'auto', languages: ['eng', 'chi_sim'], resolved: 'paddle' },
  { name: 'auto with a language paddle cannot read runs tesseract', engine: 'auto', languages: ['eng', 'deu', 'chi_sim'], resolved: 'tesseract' },
  { name: 'auto with German alone runs tesseract', engine: 'auto', languages: ['deu'], resolved: 'tesseract' },
  { name: 'tesseract asked by name is kept for English', engine: 'tesseract', languages: ['eng'], resolved: 'tesseract' },
  { name: 'paddle asked by name is kept', engine: 'paddle', languages: ['chi_sim'], resolved: 'paddle' },
];

for (const c of cases) {
  void test(c.name, () => {
    assert.equal(resolveEngine({ languages: c.languages, ocr: { engine: c.engine } }), c.resolved);
  });
}
