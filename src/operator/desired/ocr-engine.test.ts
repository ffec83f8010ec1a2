import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveEngine, resolveRequestEngines } from './ocr-engine.ts';

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

type Engine = 'tesseract' | 'paddle';
const requestCases: { name: string; engine: 'auto' | Engine; languages: string[]; requestEngines?: Engine[]; resolved: Engine[] }[] = [
  { name: 'an English pipeline lets jobs ask for either engine, paddle first', engine: 'auto', languages: ['eng'], resolved: ['paddle', 'tesseract'] },
  {
    name: 'a pipeline with German and English still offers paddle for its English jobs, tesseract first',
    engine: 'auto',
    languages: ['eng', 'deu'],
    resolved: ['tesseract', 'paddle'],
  },
  { name: 'a German-only pipeline offers tesseract alone: paddle reads none of its languages', engine: 'auto', languages: ['deu'], resolved: ['tesseract'] },
  {
    name: 'requestEngines [tesseract] on a paddle pipeline keeps paddle for jobs naming none',
    engine: 'auto',
    languages: ['eng'],
    requestEngines: ['tesseract'],
    resolved: ['paddle', 'tesseract'],
  },
  {
    name: 'requestEngines naming only the pipeline engine offers it alone',
    engine: 'tesseract',
    languages: ['eng'],
    requestEngines: ['tesseract'],
    resolved: ['tesseract'],
  },
];

for (const c of requestCases) {
  void test(c.name, () => {
    const ocr = { engine: c.engine, ...(c.requestEngines ? { requestEngines: c.requestEngines } : {}) };
    assert.deepEqual(resolveRequestEngines({ languages: c.languages, ocr }), c.resolved);
  });
}
