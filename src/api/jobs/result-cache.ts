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

  private async read(jobId: string): Promise<OcrResult | undefined> {
    let result = this.results.get(jobId);
    if (result === undefined) {
      result = await this.blobs.readResult(jobId);
      if (result !== undefined) this.results.set(jobId, result);
    }
    return result;
  }
}
