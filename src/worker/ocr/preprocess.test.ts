// Preprocessing limits and error mapping, on images generated with sharp in memory.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { PermanentJobError } from '../errors.ts';
import { classifySharpError, preprocess, targetWidth } from './preprocess.ts';

const settings = { maxPixels: 1_000_000, minWidth: 0, maxWidth: 0, threshold: 0 };

async function grey(width: number, height: number, format: 'png' | 'jpeg' = 'png', orientation?: number): Promise<Buffer> {
  let image = sharp({ create: { width, height, channels: 3, background: '#808080' } });
  if (orientation) image = image.withMetadata({ orientation });
  return format === 'png' ? await image.png().toBuffer() : await image.jpeg().toBuffer();
}

void describe('preprocess', () => {
  void it('keeps the width inside the configured band', () => {
    const band = { minWidth: 800, maxWidth: 1600 };
    for (const [width, expected] of [
      [400, 800],
      [1000, 1000],
      [3000, 1600],
    ] as const) {
      assert.equal(targetWidth(width, band), expected, `width ${width}`);
    }
    assert.equal(targetWidth(3000, { minWidth: 0, maxWidth: 0 }), 3000, '0 means no limit');
  });

  void it('turns an image into one grey channel PGM with the original size reported', async () => {
    const out = await preprocess(await grey(120, 80), settings);
    assert.equal(out.data.subarray(0, 2).toString(), 'P5');
    assert.equal(out.data.length, 'P5\n120 80\n255\n'.length + 120 * 80);
    assert.deepEqual(out.original, { width: 120, height: 80, format: 'png' });
    assert.equal(out.scale, 1);
  });

  void it('applies the EXIF orientation before scaling', async () => {
    const out = await preprocess(await grey(200, 100, 'jpeg', 6), { ...settings, maxWidth: 50 });
    assert.equal(out.width, 50, 'rotated 90 degrees: the upright width is 100, scaled to 50');
    assert.equal(out.height, 100);
    assert.equal(out.scale, 0.5);
  });

  const refusals: { name: string; input: () => Promise<Buffer> | Buffer; code: string }[] = [
    { name: 'an empty upload', input: () => Buffer.alloc(0), code: 'IMAGE_EMPTY' },
    { name: 'text that is not an image', input: () => Buffer.from('hello'), code: 'IMAGE_UNSUPPORTED' },
    {
      name: 'an SVG (not accepted: it can reference files and fonts)',
      input: () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
      code: 'IMAGE_UNSUPPORTED',
    },
    { name: 'an image with more pixels than the limit', input: () => grey(1001, 1000), code: 'IMAGE_TOO_MANY_PIXELS' },
    {
      name: 'a truncated JPEG',
      input: async () => {
        const j = await grey(300, 300, 'jpeg');
        return j.subarray(0, Math.floor(j.length / 2));
      },
      code: 'IMAGE_CORRUPT',
    },
  ];
  for (const r of refusals) {
    void it(`refuses ${r.name} as ${r.code}`, async () => {
      await assert.rejects(preprocess(await r.input(), settings), (error: unknown) => error instanceof PermanentJobError && error.code === r.code);
    });
  }

  void it('maps libvips messages to stable codes', () => {
    assert.equal(classifySharpError(new Error('Input image exceeds pixel limit')).code, 'IMAGE_TOO_MANY_PIXELS');
    assert.equal(classifySharpError(new Error('Input buffer contains unsupported image format')).code, 'IMAGE_UNSUPPORTED');
    assert.equal(classifySharpError(new Error('VipsJpeg: premature end of JPEG image')).code, 'IMAGE_CORRUPT');
  });
});
