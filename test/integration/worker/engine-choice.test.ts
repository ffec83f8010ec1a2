// Which engine and models a real worker runs, as it says in its start log, on /health and in each result's
// `engine`: OCR_TESSERACT_MODEL auto takes Debian's fast models when every language has its file in
// /usr/share/tesseract-ocr/5/tessdata and best otherwise; best and paddle are taken as asked; fast with a
// file missing refuses to start and names the package. Each case starts its own worker on its own queue.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEBIAN_TESSDATA } from '../../../src/worker/ocr/defaults.ts';
import { normalizeText, renderText } from '../../fixtures/render-text.ts';
import { killAllWorkers, startPlatform, startWorker, submitJob, waitForStatus, type Platform } from './harness.ts';

let platform: Platform;

before(async () => {
  platform = await startPlatform();
});

after(async () => {
  killAllWorkers();
  await platform?.close();
});

/** Debian's fast English model is on this machine (it is in the image; a developer machine may lack it). */
const debianEnglish = existsSync(join(DEBIAN_TESSDATA, 'eng.traineddata'));

const cases: { name: string; env: Record<string, string>; engine: { name: string; model: string } }[] = [
  {
    name: `the default tesseract model, auto, is ${debianEnglish ? 'fast: Debian has eng.traineddata here' : 'best: Debian has no eng.traineddata here'}`,
    env: {},
    engine: { name: 'tesseract', model: debianEnglish ? 'fast' : 'best' },
  },
  { name: 'tesseract with best asked by name reads with best', env: { OCR_TESSERACT_MODEL: 'best' }, engine: { name: 'tesseract', model: 'best' } },
  { name: 'paddle reports its PP-OCRv4 models', env: { OCR_ENGINE: 'paddle' }, engine: { name: 'paddle', model: 'PP-OCRv4' } },
];

void describe('a worker says which engine and models it runs', () => {
  cases.forEach((c, i) => {
    void it(c.name, async () => {
      const queue = `engine-${i}`;
      platform.createQueue(queue);
      const worker = await startWorker(platform, queue, c.env);
      try {
        await worker.waitReady();
        const health = JSON.parse((await worker.get('/health')).body) as { engine: { name: string; model: string } };
        assert.deepEqual([health.engine.name, health.engine.model], [c.engine.name, c.engine.model]);
        assert.match(worker.logs(), new RegExp(`"engine":"${c.engine.name}","model":"${c.engine.model}".*Started probes`));

        const jobId = await submitJob(platform, queue, await renderText(['INVOICE 4711', 'TOTAL 12.50']));
        const record = await waitForStatus(platform, jobId, ['succeeded', 'failed']);
        assert.equal(record.status, 'succeeded', `job failed: ${record.errorCode} ${record.errorMessage}`);
        const result = await platform.blobs.readResult(jobId);
        assert.deepEqual(result?.engine, c.engine);
        assert.match(normalizeText(result?.text ?? ''), /TOTAL 12\.50/);
      } finally {
        worker.kill('SIGKILL');
        await worker.exited;
      }
    });
  });

  // The image has every Debian file; a machine without one shows the refusal. Skipped where the file exists.
  const absent = ['deu', 'fra', 'spa', 'ita', 'por', 'nld', 'chi_sim'].find((language) => !existsSync(join(DEBIAN_TESSDATA, `${language}.traineddata`)));
  void it('fast asked by name for a language without its Debian file refuses to start and names the package', { skip: absent === undefined }, async () => {
    const worker = await startWorker(platform, 'engine-refused', { OCR_TESSERACT_MODEL: 'fast', OCR_LANGUAGES: `eng,${absent ?? ''}` });
    assert.equal(await worker.exited, 2);
    assert.match(
      worker.logs(),
      new RegExp(`OCR_TESSERACT_MODEL=fast reads .* no ${absent ?? ''}\\.traineddata: install tesseract-ocr-${(absent ?? '').replace('_', '-')}`),
    );
  });
});
