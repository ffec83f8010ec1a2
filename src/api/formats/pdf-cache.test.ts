// The searchable PDF cache: a PDF is built once and then kept, one build serves the requests that wait for it, a
// failed build is not kept, and the byte and entry budgets push out the least recently used.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { OcrResult } from '../../jobs/index.ts';
import { renderText } from '../../../test/fixtures/render-text.ts';
import { SearchablePdfCache } from './pdf-cache.ts';
import { renderSearchablePdf } from './pdf.ts';

/** A build of `bytes` bytes that counts its calls. */
const counted = (bytes: number) => {
  const build = async (): Promise<Uint8Array> => {
    build.calls++;
    await new Promise((resolve) => setImmediate(resolve));
    return new Uint8Array(bytes);
  };
  build.calls = 0;
  return build;
};

void describe('the searchable PDF cache', () => {
  void it('builds a real PDF once: the second request gets the same bytes without a build', async () => {
    const png = await renderText(['CACHED 1'], { width: 300 });
    const { width = 0, height = 0 } = await sharp(png).metadata();
    const result: OcrResult = {
      jobId: 'job-00000000-cache',
      meanConfidence: 90,
      languages: ['eng'],
      timings: { downloadMs: 1, preprocessMs: 1, recognizeMs: 1, totalMs: 3 },
      worker: 'w',
      completedAt: '2026-01-01T00:00:00.000Z',
      image: { width, height, format: 'png' },
      text: 'CACHED 1',
      lines: [{ text: 'CACHED 1', confidence: 90, bbox: { x0: 10, y0: 10, x1: 200, y1: 40 } }],
    };
    const cache = new SearchablePdfCache();
    let builds = 0;
    const build = async () => {
      builds++;
      return await renderSearchablePdf(result, png);
    };
    const first = await cache.get('job', build);
    const second = await cache.get('job', build);
    assert.deepEqual([first.built, second.built, builds], [true, false, 1]);
    assert.equal(second.pdf, first.pdf);
    assert.equal(Buffer.from(first.pdf).toString('latin1', 0, 5), '%PDF-');
  });

  void it('lets requests that come while a PDF is built wait for that build', async () => {
    const cache = new SearchablePdfCache();
    const build = counted(10);
    const answers = await Promise.all([cache.get('a', build), cache.get('a', build), cache.get('a', build)]);
    assert.equal(build.calls, 1);
    assert.deepEqual(
      answers.map((a) => a.built),
      [true, false, false],
    );
  });

  void it('keeps nothing of a failed build: every waiter sees the error and the next request builds again', async () => {
    const cache = new SearchablePdfCache();
    const failing = async (): Promise<Uint8Array> => {
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error('input gone');
    };
    const both = await Promise.allSettled([cache.get('a', failing), cache.get('a', failing)]);
    assert.deepEqual(
      both.map((s) => s.status),
      ['rejected', 'rejected'],
    );
    const build = counted(10);
    assert.equal((await cache.get('a', build)).built, true);
    assert.equal(build.calls, 1);
  });

  void it('forgets a deleted PDF', async () => {
    const cache = new SearchablePdfCache();
    await cache.get('a', counted(10));
    cache.delete('a');
    assert.equal(cache.peek('a'), undefined);
    assert.deepEqual(cache.size, { entries: 0, bytes: 0 });
  });

  const budgets: [string, { maxBytes?: number; maxEntries?: number }, number[], string[], string[]][] = [
    ['the byte budget pushes out the least recently used PDF', { maxBytes: 100 }, [20, 20, 20, 20, 20, 20], ['a'], ['b', 'c', 'd', 'e', 'f']],
    ['the entry budget pushes out the least recently used PDF', { maxEntries: 2 }, [1, 1, 1], ['a'], ['b', 'c']],
    ['a PDF over a quarter of the byte budget is not kept', { maxBytes: 100 }, [26, 25], ['a'], ['b']],
  ];
  for (const [name, options, sizes, gone, kept] of budgets) {
    void it(name, async () => {
      const cache = new SearchablePdfCache(options);
      const keys = sizes.map((_, i) => String.fromCharCode(97 + i));
      for (const [i, key] of keys.entries()) await cache.get(key, counted(sizes[i]!));
      for (const key of gone) assert.equal(cache.peek(key), undefined, `${key} gone`);
      for (const key of kept) assert.ok(cache.peek(key), `${key} kept`);
    });
  }

  void it('a PDF read again is the most recently used and stays', async () => {
    const cache = new SearchablePdfCache({ maxEntries: 2 });
    await cache.get('a', counted(1));
    await cache.get('b', counted(1));
    assert.equal((await cache.get('a', counted(1))).built, false);
    await cache.get('c', counted(1));
    assert.ok(cache.peek('a'));
    assert.equal(cache.peek('b'), undefined);
  });

  void it('refuses a negative budget', () => assert.throws(() => new SearchablePdfCache({ maxBytes: -1 }), RangeError));
});
