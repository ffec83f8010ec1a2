// The result cache: which earlier job already answers an image (the dedupe index in
// Table Storage, keyed by content hash, languages and options), and that job's
// result (a blob). Both are immutable once written (results are write-once, dedupe
// entries first-writer-wins), so this replica keeps recent ones in memory: a warm
// cache hit costs no storage call.
import type { JobRecord, OcrResult } from '../../jobs/index.ts';
import type { ImageStore, RecordStore } from '../deps.ts';

/** Least recently used first out; `max` entries at most. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}

/** A job that already answers an image, with its result. */
export interface CacheHit {
  jobId: string;
  result: OcrResult;
}

export interface ResultCacheDeps {
  /** The records partition whose dedupe index is read (pipelinePartition: `<namespace>.<pipeline>`). */
  pipeline: string;
  records: Pick<RecordStore, 'findResult'>;
  blobs: Pick<ImageStore, 'readResult'>;
  /** Results kept in memory, in entries (default 2,000). */
  maxResults?: number;
  /** Dedupe key -> job id pairs kept in memory, in entries (default 20,000). */
  maxAnswers?: number;
}

export class ResultCache {
  private readonly pipeline: string;
  private readonly records: Pick<RecordStore, 'findResult'>;
  private readonly blobs: Pick<ImageStore, 'readResult'>;
  private readonly results: Lru<OcrResult>;
  private readonly answers: Lru<string>;
  /** Result reads on the wire, so a warm() and the answer that follows share one read. */
  private readonly reading = new Map<string, Promise<OcrResult | undefined>>();

  constructor(deps: ResultCacheDeps) {
    this.pipeline = deps.pipeline;
    this.records = deps.records;
    this.blobs = deps.blobs;
    this.results = new Lru(deps.maxResults ?? 2_000);
    this.answers = new Lru(deps.maxAnswers ?? 20_000);
  }

  /** The job that already answers this dedupe key (see `dedupeKey` in src/jobs), with its result. */
  async lookup(key: string): Promise<CacheHit | undefined> {
    let jobId = this.answers.get(key);
    if (jobId === undefined) {
      jobId = await this.records.findResult(this.pipeline, key);
      if (jobId === undefined) return undefined;
      this.answers.set(key, jobId);
    }
    const result = await this.read(jobId);
    return result === undefined ? undefined : { jobId, result };
  }

  /** The result of a succeeded job (its own, or the one it shares through the cache), carrying the job's own id. */
  async resultOf(job: JobRecord): Promise<OcrResult | undefined> {
    if (job.status !== 'succeeded') return undefined;
    const result = await this.read(job.resultOf ?? job.id);
    return result && { ...result, jobId: job.id };
  }

  /**
   * Starts reading job `jobId`'s result into the cache, without waiting: a sync request woken by the worker's
   * notice (wait.ts) reads the record and the result at once instead of one after the other. Nothing is cached
   * when there is no result (a notice for a failed job, or a forged one).
   */
  warm(jobId: string): void {
    this.read(jobId).catch(() => undefined); // the answer's own read reports a failure
  }

  private async read(jobId: string): Promise<OcrResult | undefined> {
    const cached = this.results.get(jobId);
    if (cached !== undefined) return cached;
    let reading = this.reading.get(jobId);
    if (!reading) {
      reading = this.blobs.readResult(jobId).finally(() => this.reading.delete(jobId));
      this.reading.set(jobId, reading);
    }
    const result = await reading;
    if (result !== undefined) this.results.set(jobId, result);
    return result;
  }
}
