// Per-request languages on real tesseract.js engines: a worker of an eng+deu pipeline reads a job that asks for deu
// only with an engine of deu alone (loaded on first use, one tesseract worker), and a job without languages with the
// pipeline's own pool; both read the rendered German line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../src/shared/logger.ts';
import { openEngine } from '../../../src/worker/ocr/engines.ts';
import { LanguagePools } from '../../../src/worker/ocr/language-pools.ts';
import { preprocess } from '../../../src/worker/ocr/preprocess.ts';
import { normalizeText, renderText } from '../../fixtures/render-text.ts';

void describe('per-request languages on real tesseract engines', { timeout: 120_000 }, () => {
  void it('reads a deu-only job with a deu engine of its own and a job without languages with the pipeline pool', async () => {
    const engine = await openEngine({ name: 'tesseract', tesseractModel: 'best', languages: ['eng', 'deu'], concurrency: 1 }, silentLogger());
    try {
      assert.ok(engine instanceof LanguagePools, 'a pipeline with two languages gets language pools');
      const image = await preprocess(await renderText(['RECHNUNG NUMMER 4711', 'GESAMTBETRAG 12,50 EUR']), {
        maxPixels: 1e7,
        minWidth: 0,
        maxWidth: 0,
        threshold: 0,
      });
      const deuOnly = await engine.recognize(image, { pageSegmentation: 'auto', languages: ['deu'] }, 60_000);
      assert.deepEqual(engine.loadedSubsets, ['deu']);
      const every = await engine.recognize(image, { pageSegmentation: 'auto' }, 60_000);
      assert.deepEqual(engine.loadedSubsets, ['deu'], 'a job without languages loads nothing more');
      for (const text of [deuOnly.text, every.text]) assert.match(normalizeText(text), /RECHNUNG NUMMER 4711/);
    } finally {
      await engine.close();
    }
  });
});
