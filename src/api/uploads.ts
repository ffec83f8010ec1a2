// Images posted to the API (multipart file part, raw body) are streamed, never held whole:
// small ones (up to HOLD_BYTES) stay in memory until the result cache has been asked, so a
// cache hit writes nothing; larger ones go to Blob Storage (`inputs/<jobId>`, written once) as they arrive, the
// SHA-256 is updated per chunk, and only the first HEAD_BYTES and last TAIL_BYTES are
// kept for the type and truncation checks (src/api/sniff.ts). The size limit is enforced
// while the bytes flow; an image that fails a check is never committed (or is deleted).
// How many uploads stream at once is capped per API key and per replica (UploadGate), so
// memory stays bounded by caps x about 2 MiB whatever the clients send.
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import type { Logger } from '../shared/logger.ts';
import type { ImageStore } from './deps.ts';
import { ApiError } from './errors.ts';
import { imageProblem } from './jobs/checks.ts';
import { newJobId } from './jobs/commands.ts';
import type { ApiMetrics } from './metrics.ts';
import { HEAD_BYTES, TAIL_BYTES, acceptedFormat, inspectSample, mediaTypeOf } from './sniff.ts';

/**
 * An image checked and hashed while it arrived: written to `inputs/<jobId>` as it streamed in, or,
 * when it is at most HOLD_BYTES, held in memory (`held`) and written only when it becomes a job
 * (a cache hit writes nothing).
 */
export interface StoredImage {
  jobId: string;
  /** The bytes, when the image was held in memory and nothing is at `inputs/<jobId>` yet. */
  held?: Buffer;
  /** SHA-256 of the bytes, hex. */
  contentHash: string;
  sizeBytes: number;
  mediaType: string;
}

/**
 * Images up to this many bytes are held in memory until they are checked against the result cache,
 * so a cache hit costs no storage write (512 KiB; one upload then holds at most this plus one chunk
 * before its stream to Blob Storage starts, within the 2 MiB per upload the caps are sized for).
 */
export const HOLD_BYTES = 512 * 1024;

/** Seconds a refused upload is told to wait (Retry-After): uploads of a few MiB finish within seconds. */
const UPLOAD_RETRY_AFTER_SECONDS = 1;

/** True for a raw image body: the request stream that the API's image content-type parser hands on unread. */
export function isRawImageBody(body: unknown): body is Readable {
  return body instanceof Readable;
}

/** Caps on uploads streaming at once: per key (429 UPLOADS_PER_KEY_LIMITED) and per replica (503 API_BUSY). */
export class UploadGate {
  private readonly maxTotal: number;
  private readonly maxPerKey: number;
  private readonly metrics: ApiMetrics;
  private readonly perKey = new Map<string, number>();
  private total = 0;

  constructor(maxTotal: number, maxPerKey: number, metrics: ApiMetrics) {
    this.maxTotal = maxTotal;
    this.maxPerKey = maxPerKey;
    this.metrics = metrics;
  }

  get inFlight(): number {
    return this.total;
  }

  /** Takes a slot for one upload of `key`, or throws the catalogue error that refuses it. Call the returned release once (more calls do nothing). */
  acquire(key: string): () => void {
    const mine = this.perKey.get(key) ?? 0;
    const retry = { 'retry-after': String(UPLOAD_RETRY_AFTER_SECONDS) };
    if (mine >= this.maxPerKey) {
      this.metrics.uploadsRefused.inc({ cap: 'per_key' });
      throw new ApiError(
        'UPLOADS_PER_KEY_LIMITED',
        `This key already has ${mine} uploads in progress (the limit is ${this.maxPerKey}); retry in ${UPLOAD_RETRY_AFTER_SECONDS} s.`,
        { limit: this.maxPerKey, retryAfterSeconds: UPLOAD_RETRY_AFTER_SECONDS },
        retry,
      );
    }
    if (this.total >= this.maxTotal) {
      this.metrics.uploadsRefused.inc({ cap: 'per_replica' });
      throw new ApiError(
        'API_BUSY',
        `This replica is receiving ${this.total} uploads (its limit); retry in ${UPLOAD_RETRY_AFTER_SECONDS} s.`,
        { limit: this.maxTotal, retryAfterSeconds: UPLOAD_RETRY_AFTER_SECONDS },
        retry,
      );
    }
    this.perKey.set(key, mine + 1);
    this.total++;
    this.metrics.uploadsInFlight.inc();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      this.metrics.uploadsInFlight.dec();
      const left = (this.perKey.get(key) ?? 1) - 1;
      if (left > 0) this.perKey.set(key, left);
      else this.perKey.delete(key);
    };
  }
}

/** One streaming write to `inputs/<jobId>`; nothing is committed until end(). */
class InputSink {
  private readonly stream = new PassThrough();
  private readonly abort = new AbortController();
  private readonly done: Promise<void>;

  constructor(blobs: Pick<ImageStore, 'putInputStream'>, jobId: string, mediaType: string) {
    this.done = blobs.putInputStream(jobId, this.stream, mediaType, { abortSignal: this.abort.signal });
    // Observed by write(), end() and cancel(); this keeps an early failure from being unhandled meanwhile.
    this.done.catch(() => undefined);
  }

  /** Writes one chunk, waiting while the upload is behind (backpressure); fails as soon as the upload fails. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.stream.write(chunk)) return;
    await Promise.race([once(this.stream, 'drain'), this.done]);
  }

  /** Ends the stream and waits for the commit. */
  async end(): Promise<void> {
    this.stream.end();
    await this.done;
  }

  /** Stops the upload: in-flight blocks are aborted and no block list is committed. */
  async cancel(): Promise<void> {
    this.abort.abort();
    // An error (not a plain destroy) ends the SDK's read loop, which listens for 'end' and 'error' only.
    this.stream.destroy(new Error('upload cancelled'));
    await this.done.catch(() => undefined);
  }
}

/** The first `size` bytes of a stream. */
class Head {
  private bytes = Buffer.alloc(0);
  private readonly size: number;
  constructor(size: number) {
    this.size = size;
  }
  get value(): Buffer {
    return this.bytes;
  }
  get full(): boolean {
    return this.bytes.length >= this.size;
  }
  add(chunk: Uint8Array): void {
    if (this.full) return;
    this.bytes = Buffer.concat([this.bytes, chunk.subarray(0, this.size - this.bytes.length)]);
  }
}

/** The last `size` bytes of a stream (a copy: big chunks are not kept alive). */
class Tail {
  private bytes = Buffer.alloc(0);
  private readonly size: number;
  constructor(size: number) {
    this.size = size;
  }
  get value(): Buffer {
    return this.bytes;
  }
  add(chunk: Uint8Array): void {
    if (chunk.length >= this.size) {
      this.bytes = Buffer.from(chunk.subarray(chunk.length - this.size));
      return;
    }
    const joined = Buffer.concat([this.bytes, chunk]);
    this.bytes = Buffer.from(joined.subarray(Math.max(0, joined.length - this.size)));
  }
}

/** One image on its way in: counted, hashed, sampled and written as its chunks arrive. */
class Upload {
  readonly jobId: string;
  private readonly blobs: Pick<ImageStore, 'putInputStream'>;
  private readonly maxBytes: number;
  private readonly options: ReceiveOptions & { holdBytes: number };
  private readonly hash = createHash('sha256');
  private readonly head = new Head(HEAD_BYTES);
  private readonly tail = new Tail(TAIL_BYTES);
  private length = 0;
  private sink: InputSink | undefined;
  /** Chunks that arrived before the head was complete (at most HEAD_BYTES plus one chunk). */
  private pending: Uint8Array[] = [];
  /** No more writing: the head is not an accepted image, or the image is over the limit. */
  private writeStopped = false;

  constructor(blobs: Pick<ImageStore, 'putInputStream'>, jobId: string, maxBytes: number, options: ReceiveOptions & { holdBytes: number }) {
    this.blobs = blobs;
    this.jobId = jobId;
    this.maxBytes = maxBytes;
    this.options = options;
  }

  private tooLarge(sizeBytes?: number): ApiError {
    const size = sizeBytes === undefined ? 'larger than the limit' : `${sizeBytes} bytes; the limit is`;
    return new ApiError('IMAGE_TOO_LARGE', `The image is ${size} ${this.maxBytes} bytes.`, {
      limitBytes: this.maxBytes,
      ...(sizeBytes === undefined ? {} : { sizeBytes }),
    });
  }

  async add(chunk: Uint8Array): Promise<void> {
    this.length += chunk.length;
    if (this.options.bodyLimit !== undefined && this.length > this.options.bodyLimit) throw new ApiError('PAYLOAD_TOO_LARGE');
    if (this.length > this.maxBytes) {
      // A form part ends at the limit (refused now); a raw body is counted on up to its body limit, as before.
      if (this.options.bodyLimit === undefined) throw this.tooLarge(this.length);
      await this.stopWriting();
      return;
    }
    this.hash.update(chunk);
    this.head.add(chunk);
    this.tail.add(chunk);
    if (this.writeStopped) return;
    if (this.sink) return await this.sink.write(chunk);
    this.pending.push(chunk);
    if (!this.head.full) return;
    const format = acceptedFormat(this.head.value);
    if (!format) await this.stopWriting();
    else if (this.length > this.options.holdBytes) await this.startWriting(mediaTypeOf(format));
  }

  private async startWriting(mediaType: string): Promise<void> {
    this.sink = new InputSink(this.blobs, this.jobId, mediaType);
    const early = this.pending;
    this.pending = [];
    for (const chunk of early) await this.sink.write(chunk);
  }

  private async stopWriting(): Promise<void> {
    this.writeStopped = true;
    this.pending = [];
    const sink = this.sink;
    this.sink = undefined;
    await sink?.cancel();
  }

  /** The checks on the whole image, then the commit. */
  async finish(): Promise<StoredImage> {
    if (this.options.truncated?.()) throw this.tooLarge();
    if (this.length > this.maxBytes) throw this.tooLarge(this.length);
    const inspection = inspectSample({ head: this.head.value, tail: this.tail.value, length: this.length });
    if (!inspection.ok) throw imageProblem(inspection);
    const stored = { jobId: this.jobId, contentHash: this.hash.digest('hex'), sizeBytes: this.length, mediaType: inspection.mediaType };
    // At most holdBytes: the caller writes it once it knows it is a job (after the cache lookup).
    if (!this.sink && this.length <= this.options.holdBytes) return { ...stored, held: Buffer.concat(this.pending) };
    // An image shorter than HEAD_BYTES arrives whole before its head is complete.
    if (!this.sink) await this.startWriting(inspection.mediaType);
    await this.sink?.end();
    return stored;
  }

  /** Stops a write in progress; true when one was started (so a blob may exist). */
  async cancel(): Promise<boolean> {
    const started = this.sink !== undefined;
    await this.sink?.cancel();
    return started;
  }
}

export interface ReceiveOptions {
  /**
   * Raw bodies: beyond this many bytes the body itself is refused (PAYLOAD_TOO_LARGE), as the
   * route's bodyLimit did when bodies were buffered. Up to it, an image over the limit is IMAGE_TOO_LARGE.
   */
  bodyLimit?: number;
  /** Multipart: true when the form parser cut the file at the size limit. */
  truncated?: () => boolean;
}

export interface ImageReceiverDeps {
  blobs: Pick<ImageStore, 'putInputStream' | 'deleteInput'>;
  /** Largest image accepted, in bytes. */
  maxUploadBytes: number;
  gate: UploadGate;
  /** Images up to this many bytes are held in memory instead of streamed (default HOLD_BYTES; 0 streams every image). */
  holdBytes?: number;
  log: Logger;
}

/** Streams images to `inputs/<jobId>` under the gate's caps (see the top of this file). */
export class ImageReceiver {
  readonly gate: UploadGate;
  private readonly blobs: ImageReceiverDeps['blobs'];
  private readonly limits: { maxUploadBytes: number; holdBytes: number };
  private readonly log: Logger;

  constructor(deps: ImageReceiverDeps) {
    this.blobs = deps.blobs;
    this.gate = deps.gate;
    this.log = deps.log;
    this.limits = { maxUploadBytes: deps.maxUploadBytes, holdBytes: deps.holdBytes ?? HOLD_BYTES };
  }

  get maxUploadBytes(): number {
    return this.limits.maxUploadBytes;
  }

  /**
   * Reads `source` to its end (or to the first refusal) and stores it. The checks answer in
   * the order they did for buffered bodies: size, then type (an oversized non-image is
   * IMAGE_TOO_LARGE), then truncation. A head that is not an accepted image stops the write at
   * once; the rest is only counted. On any failure nothing is left at `inputs/<jobId>`.
   */
  async receive(source: AsyncIterable<Uint8Array>, options: ReceiveOptions = {}): Promise<StoredImage> {
    const upload = new Upload(this.blobs, newJobId(), this.limits.maxUploadBytes, { ...options, holdBytes: this.limits.holdBytes });
    try {
      for await (const chunk of source) await upload.add(chunk);
      return await upload.finish();
    } catch (error) {
      if (await upload.cancel()) await this.discard(upload.jobId); // the commit may have happened just before the failure
      throw error;
    }
  }

  /** Deletes a stored input that will not become a job (a refused form, a cache hit); failures are logged, not thrown. */
  async discard(jobId: string): Promise<void> {
    try {
      await this.blobs.deleteInput(jobId);
    } catch (err) {
      this.log.warn({ err, jobId }, 'Failed to delete input of an upload that did not become a job');
    }
  }
}
