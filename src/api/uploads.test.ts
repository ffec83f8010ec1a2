import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { silentLogger } from '../shared/logger.ts';
import { ApiError, type ErrorCode } from './errors.ts';
import { ApiMetrics } from './metrics.ts';
import { HOLD_BYTES, ImageReceiver, UploadGate } from './uploads.ts';

/** A PNG-looking image of `size` bytes: the signature, filler, and the IEND chunk at the end. */
function png(size: number): Buffer {
  const bytes = Buffer.alloc(size, 0x41);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes, 0);
  Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]).copy(bytes, size - 12);
  return bytes;
}

/** Blob Storage as far as the receiver sees it: what was committed, what was deleted, and the peak chunk it was handed. */
class FakeBlobs {
  readonly committed = new Map<string, { bytes: Buffer; contentType: string }>();
  readonly deleted: string[] = [];
  started = 0;
  async putInputStream(jobId: string, stream: Readable, contentType: string): Promise<void> {
    this.started++;
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    this.committed.set(jobId, { bytes: Buffer.concat(chunks), contentType });
  }
  async deleteInput(jobId: string): Promise<void> {
    this.deleted.push(jobId);
    this.committed.delete(jobId);
  }
}

/** A receiver that streams every image (holdBytes 0), unless `holdBytes` says otherwise. */
function receiver(maxUploadBytes: number, blobs = new FakeBlobs(), holdBytes = 0): { receiver: ImageReceiver; blobs: FakeBlobs } {
  const gate = new UploadGate(8, 4, new ApiMetrics());
  return { receiver: new ImageReceiver({ blobs, maxUploadBytes, gate, log: silentLogger(), holdBytes }), blobs };
}

/** The bytes in chunks of `size`, as a socket would deliver them. */
async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function refusedWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof ApiError && error.code === code);
}

void describe('streaming an image to its input blob', () => {
  void it('stores exactly the bytes, with their SHA-256 and media type, whatever the chunking', async () => {
    const image = png(20_000);
    for (const size of [5, 16, 4096, 65_536, 1_000_000]) {
      const { receiver: r, blobs } = receiver(1024 * 1024);
      const stored = await r.receive(chunks(image, size));
      assert.equal(stored.sizeBytes, image.length);
      assert.equal(stored.contentHash, createHash('sha256').update(image).digest('hex'));
      assert.equal(stored.mediaType, 'image/png');
      assert.deepEqual(blobs.committed.get(stored.jobId)?.bytes, image, `chunks of ${size}`);
      assert.equal(blobs.committed.get(stored.jobId)?.contentType, 'image/png');
    }
  });

  void it('refuses a form part over the limit as soon as it is over, and stores nothing', async () => {
    const { receiver: r, blobs } = receiver(10_000);
    let read = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const chunk of chunks(png(1_000_000), 1000)) {
        read += chunk.length;
        yield chunk;
      }
    }
    await refusedWith(r.receive(counted()), 'IMAGE_TOO_LARGE');
    assert.ok(read <= 11_000, `read ${read} bytes of 1,000,000`);
    assert.equal(blobs.committed.size, 0);
  });

  void it('answers a raw body over the image limit with IMAGE_TOO_LARGE, and beyond the body limit with PAYLOAD_TOO_LARGE', async () => {
    const { receiver: r, blobs } = receiver(10_000);
    await refusedWith(r.receive(chunks(png(12_000), 1000), { bodyLimit: 20_000 }), 'IMAGE_TOO_LARGE');
    await refusedWith(r.receive(chunks(png(50_000), 1000), { bodyLimit: 20_000 }), 'PAYLOAD_TOO_LARGE');
    assert.equal(blobs.committed.size, 0);
  });

  void it('treats a form part the parser cut at the limit as too large', async () => {
    const { receiver: r, blobs } = receiver(10_000);
    await refusedWith(r.receive(chunks(png(10_000), 1000), { truncated: () => true }), 'IMAGE_TOO_LARGE');
    assert.equal(blobs.committed.size, 0);
  });

  void it('stops writing at a head that is not an image, and still answers size before type', async () => {
    const { receiver: r, blobs } = receiver(10_000);
    await refusedWith(r.receive(chunks(Buffer.alloc(5_000, 7), 100)), 'IMAGE_TYPE_UNSUPPORTED');
    await refusedWith(r.receive(chunks(Buffer.alloc(20_000, 7), 100)), 'IMAGE_TOO_LARGE');
    assert.equal(blobs.started, 0, 'no upload was started for a non-image');
  });

  void it('refuses empty and truncated images and deletes what was written', async () => {
    const { receiver: r, blobs } = receiver(10_000);
    await refusedWith(r.receive(chunks(Buffer.alloc(0), 1)), 'IMAGE_EMPTY');
    await refusedWith(r.receive(chunks(png(5_000).subarray(0, 4_000), 100)), 'IMAGE_TRUNCATED');
    assert.equal(blobs.committed.size, 0);
  });

  void it('stores an image shorter than the sniffed head', async () => {
    const { receiver: r, blobs } = receiver(10_000);
    const tiny = Buffer.from([0x49, 0x49, 0x2a, 0x00, 0x08, 0, 0, 0, 0, 0]); // TIFF, first IFD at 8
    const stored = await r.receive(chunks(tiny, 3));
    assert.equal(stored.mediaType, 'image/tiff');
    assert.deepEqual(blobs.committed.get(stored.jobId)?.bytes, tiny);
  });

  const holding: { name: string; size: number; held: boolean }[] = [
    { name: 'holds an image at the hold limit in memory and writes nothing', size: HOLD_BYTES, held: true },
    { name: 'holds an image shorter than the sniffed head in memory and writes nothing', size: 10, held: true },
    { name: 'streams an image one byte over the hold limit to its input blob', size: HOLD_BYTES + 1, held: false },
  ];
  for (const c of holding) {
    void it(c.name, async () => {
      const { receiver: r, blobs } = receiver(1024 * 1024, new FakeBlobs(), HOLD_BYTES);
      const image = c.size < 100 ? Buffer.from([0x49, 0x49, 0x2a, 0x00, 0x08, 0, 0, 0, 0, 0]) : png(c.size);
      const stored = await r.receive(chunks(image, 16_384));
      assert.equal(stored.contentHash, createHash('sha256').update(image).digest('hex'));
      assert.deepEqual(stored.held, c.held ? image : undefined);
      assert.equal(blobs.started, c.held ? 0 : 1);
      if (!c.held) assert.deepEqual(blobs.committed.get(stored.jobId)?.bytes, image);
    });
  }

  void it('deletes the input when the storage write fails, and passes the failure on', async () => {
    const failing = new FakeBlobs();
    failing.putInputStream = async (_jobId, stream) => {
      stream.resume();
      throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'RestError' });
    };
    const { receiver: r } = receiver(1024 * 1024, failing);
    await assert.rejects(r.receive(chunks(png(200_000), 16_384)), /ECONNREFUSED/);
    assert.equal(failing.deleted.length, 1);
  });
});

void describe('upload caps', () => {
  void it('refuses a key over its cap with 429 and the replica over its cap with 503, both with Retry-After', () => {
    const metrics = new ApiMetrics();
    const gate = new UploadGate(3, 2, metrics);
    const a1 = gate.acquire('a');
    gate.acquire('a');
    assert.throws(
      () => gate.acquire('a'),
      (e: unknown) => e instanceof ApiError && e.code === 'UPLOADS_PER_KEY_LIMITED' && e.status === 429 && e.headers['retry-after'] === '1',
    );
    gate.acquire('b');
    assert.throws(
      () => gate.acquire('c'),
      (e: unknown) => e instanceof ApiError && e.code === 'API_BUSY' && e.status === 503 && e.headers['retry-after'] === '1',
    );
    a1();
    a1(); // a second release changes nothing
    assert.equal(gate.inFlight, 2);
    gate.acquire('c');
    assert.throws(
      () => gate.acquire('a'),
      (e: unknown) => e instanceof ApiError && e.code === 'API_BUSY',
    );
  });

  void it('counts refusals and uploads in flight', async () => {
    const metrics = new ApiMetrics();
    const gate = new UploadGate(1, 1, metrics);
    const release = gate.acquire('a');
    assert.throws(() => gate.acquire('a'));
    assert.throws(() => gate.acquire('b'));
    const text = await metrics.registry.metrics();
    assert.match(text, /^ocr_api_uploads_in_flight 1$/m);
    assert.match(text, /^ocr_api_uploads_refused_total\{cap="per_key"\} 1$/m);
    assert.match(text, /^ocr_api_uploads_refused_total\{cap="per_replica"\} 1$/m);
    release();
    assert.match(await metrics.registry.metrics(), /^ocr_api_uploads_in_flight 0$/m);
  });
});
