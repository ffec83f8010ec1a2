import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DETECTION, boxesFromProbabilities, detectionSize, detectionTensor } from './detect.ts';

/** A probability map of `width` x `height` with the given rectangles filled with `p`. */
function map(width: number, height: number, rects: readonly { x: number; y: number; w: number; h: number; p: number }[]): Float32Array {
  const prob = new Float32Array(width * height);
  for (const r of rects) for (let y = r.y; y < r.y + r.h; y++) for (let x = r.x; x < r.x + r.w; x++) prob[y * width + x] = r.p;
  return prob;
}

void describe('paddle detection', () => {
  const sizes = [
    { name: 'a small image keeps its size, rounded to multiples of 32', in: [500, 300], max: 1280, out: { width: 512, height: 288 } },
    { name: 'a tall receipt is scaled so its long side fits', in: [1000, 2560], max: 1280, out: { width: 512, height: 1280 } },
    { name: 'a tiny image gets at least one stride', in: [10, 5], max: 1280, out: { width: 32, height: 32 } },
  ] as const;
  for (const c of sizes) {
    void it(c.name, () => assert.deepEqual(detectionSize(c.in[0], c.in[1], c.max), c.out));
  }

  void it('normalises grey pixels per channel with the detector mean and deviation', () => {
    const tensor = detectionTensor(new Uint8Array([0, 255]), 2);
    assert.equal(tensor.length, 6);
    assert.ok(Math.abs(tensor[0]! - -0.485 / 0.229) < 1e-5);
    assert.ok(Math.abs(tensor[3]! - (1 - 0.456) / 0.224) < 1e-5);
  });

  void it('finds one box per text region, grown by the unclip distance and scaled to image pixels', () => {
    const prob = map(64, 32, [
      { x: 4, y: 4, w: 20, h: 6, p: 0.9 },
      { x: 30, y: 20, w: 30, h: 8, p: 0.8 },
    ]);
    const boxes = boxesFromProbabilities(prob, { width: 64, height: 32 }, { width: 128, height: 64 });
    assert.equal(boxes.length, 2);
    const [first] = boxes;
    const grow = (20 * 6 * DEFAULT_DETECTION.unclipRatio) / (2 * 26);
    assert.ok(Math.abs(first!.x0 - (4 - grow) * 2) < 1e-3, `x0 ${first!.x0}`);
    assert.ok(Math.abs(first!.y1 - (10 + grow) * 2) < 1e-3, `y1 ${first!.y1}`);
    assert.ok(Math.abs(first!.score - 0.9) < 1e-6);
  });

  const dropped = [
    { name: 'a region whose mean probability is under the box threshold is dropped', rect: { x: 2, y: 2, w: 20, h: 6, p: 0.4 } },
    { name: 'a region thinner than the minimum size is dropped', rect: { x: 2, y: 2, w: 20, h: 2, p: 0.9 } },
    { name: 'pixels at or under the pixel threshold are not text', rect: { x: 2, y: 2, w: 20, h: 6, p: 0.3 } },
  ];
  for (const c of dropped) {
    void it(c.name, () => assert.deepEqual(boxesFromProbabilities(map(32, 16, [c.rect]), { width: 32, height: 16 }, { width: 32, height: 16 }), []));
  }

  void it('clips grown boxes to the image', () => {
    const [box] = boxesFromProbabilities(map(32, 16, [{ x: 0, y: 0, w: 32, h: 16, p: 0.9 }]), { width: 32, height: 16 }, { width: 32, height: 16 });
    assert.deepEqual([box!.x0, box!.y0, box!.x1, box!.y1], [0, 0, 32, 16]);
  });
});
