import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../shared/logger.ts';
import { PermanentJobError, TransientJobError } from '../errors.ts';
import { EngineRouter, engineFor, type EngineName } from './engines.ts';
import { ANY_IMAGE as image, namingEngine as engine } from './testing/naming-engine.ts';

void describe('which engine reads a job', () => {
  const cases: { name: string; offered: EngineName[]; languages: string[]; asked?: EngineName; engine?: EngineName; refused?: RegExp }[] = [
    { name: 'a job naming none is read by the pipeline engine', offered: ['paddle', 'tesseract'], languages: ['eng'], engine: 'paddle' },
    {
      name: 'a job naming the other offered engine is read by it',
      offered: ['paddle', 'tesseract'],
      languages: ['eng'],
      asked: 'tesseract',
      engine: 'tesseract',
    },
    {
      name: 'a job naming an engine the pipeline does not offer fails, never read by another',
      offered: ['tesseract'],
      languages: ['eng'],
      asked: 'paddle',
      refused: /asks for the paddle engine, which this pipeline does not offer/,
    },
    { name: 'paddle for a German job fails', offered: ['tesseract', 'paddle'], languages: ['deu'], asked: 'paddle', refused: /paddle engine cannot read deu/ },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      if (c.refused) {
        assert.throws(
          () => engineFor(c.offered, c.languages, c.asked),
          (e: unknown) => e instanceof PermanentJobError && c.refused!.test(e.message),
        );
      } else {
        assert.equal(engineFor(c.offered, c.languages, c.asked), c.engine);
      }
    });
  }
});

void describe('the engine router', () => {
  void it('loads the pipeline engine at start, the other on its first job only, says which read, and closes both', async () => {
    const opened: string[] = [];
    const closed: string[] = [];
    const router = new EngineRouter({
      engines: [
        { name: 'paddle', model: 'PP-OCRv4' },
        { name: 'tesseract', model: 'fast' },
      ],
      open: async (name) => {
        opened.push(name);
        return engine(name, closed);
      },
      log: silentLogger(),
    });
    await router.start();
    assert.deepEqual(opened, ['paddle']);
    assert.deepEqual(
      router.engines.map((e) => [e.name, e.loaded]),
      [
        ['paddle', true],
        ['tesseract', false],
      ],
    );
    const read = async (asked?: EngineName) => await router.recognize(image, { pageSegmentation: 'auto', languages: ['eng'], engine: asked }, 1_000);
    const [first, second, third] = [await read(), await read('tesseract'), await read('tesseract')];
    assert.deepEqual(
      [first, second, third].map((r) => [r.text, r.engine]),
      [
        ['paddle', { name: 'paddle', model: 'PP-OCRv4' }],
        ['tesseract', { name: 'tesseract', model: 'fast' }],
        ['tesseract', { name: 'tesseract', model: 'fast' }],
      ],
    );
    assert.deepEqual(opened, ['paddle', 'tesseract'], 'one load for two jobs asking for tesseract');
    assert.equal(router.engines[1]!.loaded, true);
    await router.close();
    assert.deepEqual(closed.sort(), ['paddle', 'tesseract']);
  });

  void it('retries a job whose engine failed to load, and loads it again for the next job', async () => {
    let failures = 1;
    const router = new EngineRouter({
      engines: [
        { name: 'tesseract', model: 'best' },
        { name: 'paddle', model: 'PP-OCRv4' },
      ],
      open: async (name) => {
        if (name === 'paddle' && failures-- > 0) throw new Error('model file missing');
        return engine(name, []);
      },
      log: silentLogger(),
    });
    await router.start();
    const read = async () => await router.recognize(image, { pageSegmentation: 'auto', languages: ['eng'], engine: 'paddle' }, 1_000);
    await assert.rejects(read(), (e: unknown) => e instanceof TransientJobError && /paddle engine failed to load: model file missing/.test(e.message));
    assert.equal((await read()).text, 'paddle');
  });
});
