import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../shared/logger.ts';
import { LanguagePools, subsetKey } from './language-pools.ts';
import { ANY_IMAGE as image, namingEngine as engine } from './testing/naming-engine.ts';

const PIPELINE = ['eng', 'deu', 'chi_sim'];

void describe('which engine reads a job, by the languages it asks for', () => {
  const cases: { name: string; asked: string[] | undefined; key: string | undefined }[] = [
    { name: 'a job that names no languages is read by the pipeline pool', asked: undefined, key: undefined },
    { name: 'a job asking for every pipeline language, in any order, is read by the pipeline pool', asked: ['chi_sim', 'eng', 'deu'], key: undefined },
    { name: 'a job asking for one of them gets a set of its own', asked: ['deu'], key: 'deu' },
    { name: 'a job asking for two keeps its order (tesseract tries the first language first)', asked: ['deu', 'eng'], key: 'deu+eng' },
    { name: 'a language the pipeline lacks is not a subset (the processor refuses it before OCR)', asked: ['fra'], key: undefined },
  ];
  for (const c of cases) {
    void it(c.name, () => assert.equal(subsetKey(PIPELINE, c.asked), c.key));
  }
});

void describe('language pools', () => {
  void it('loads a language set on first use, reuses it, and closes every engine on close', async () => {
    const opened: string[] = [];
    const closed: string[] = [];
    const pools = new LanguagePools({
      languages: PIPELINE,
      main: engine('main', closed),
      open: async (languages) => {
        opened.push(languages.join('+'));
        return engine(languages.join('+'), closed);
      },
      log: silentLogger(),
    });
    const read = async (languages?: string[]) => (await pools.recognize(image, { pageSegmentation: 'auto', ...(languages ? { languages } : {}) }, 1_000)).text;
    assert.deepEqual([await read(['deu']), await read(['deu']), await read(), await read(['eng', 'deu', 'chi_sim'])], ['deu', 'deu', 'main', 'main']);
    assert.deepEqual(opened, ['deu'], 'one load for two jobs of the same set');
    await pools.close();
    assert.deepEqual(closed.sort(), ['deu', 'main']);
  });

  void it('reads with the pipeline pool once the sets kept are full, and when a set fails to load', async () => {
    const pools = new LanguagePools({
      languages: PIPELINE,
      main: engine('main', []),
      open: async (languages) => {
        if (languages.includes('chi_sim')) throw new Error('out of memory');
        return engine(languages.join('+'), []);
      },
      maxSubsets: 1,
      log: silentLogger(),
    });
    const read = async (languages: string[]) => (await pools.recognize(image, { pageSegmentation: 'auto', languages }, 1_000)).text;
    assert.equal(await read(['eng']), 'eng');
    assert.equal(await read(['deu']), 'main', 'the one set kept is eng');
    assert.deepEqual(pools.loadedSubsets, ['eng']);
    const second = new LanguagePools({
      languages: PIPELINE,
      main: engine('main', []),
      open: async () => Promise.reject(new Error('out of memory')),
      log: silentLogger(),
    });
    assert.equal((await second.recognize(image, { pageSegmentation: 'auto', languages: ['chi_sim'] }, 1_000)).text, 'main');
    assert.deepEqual(second.loadedSubsets, [], 'a set that failed is not kept');
  });
});
