// The result cache: which earlier job already answers an image (the dedupe index in
// Table Storage, keyed by content hash, languages and options), and that job's
// result (a blob). Both are immutable once written (results are write-once, dedupe
// entries first-writer-wins), so this replica keeps recent ones in memory: a warm
// cache hit costs no storage call.
import type { JobRecord, OcrResult } from '../../jobs/index.ts';
import type { ImageStore, RecordStore } from '../deps.ts';

/** Least recently used first out: `max` entries and `maxWeight` (the sum of `weigh(value)`) at most. */
class Lru<V> {
  private readonly map = new Map<string, { value: V; weight: number }>();
  private readonly max: number;
  private readonly maxWeight: number;
  private readonly weigh: (value: V) => number;
  private weight = 0;
  constructor(max: number, maxWeight = Infinity, weigh: (value: V) => number = () => 0) {
    this.max = max;
    this.maxWeight = maxWeight;
    this.weigh = weigh;
  }
  get(key: string): V | undefined {
    const entry = this.map.get(key);
    if (entry !== undefined) {
      this.map.delete(key);
      this.map.set(key, entry);
    }
    return entry?.value;
  }
  set(key: string, value: V): void {
    this.delete(key);
    const weight = this.weigh(value);
    if (weight > this.maxWeight) return; // one value larger than the whole budget is not kept at all
    this.map.set(key, { value, weight });
    this.weight += weight;
    while (this.map.size > this.max || this.weight > this.maxWeight) this.delete(this.map.keys().next().value as string);
  }
  private delete(key: string): void {
    const entry = this.map.get(key);
    if (entry === undefined) return;
    this.map.delete(key);
    this.weight -= entry.weight;
  }
}

/**
 * About how many bytes of heap a parsed result holds. Measured on sroie-dev receipts: about 560 bytes per word
 * (text, confidence, box and quad objects) and a few hundred per line, so a receipt with words is about 60 KiB and a
 * 20-page document can be MiBs: the cache is bounded by this, not by its count alone.
 */
export function approxResultBytes(result: OcrResult): number {
  let words = 0;
  for (const line of result.lines) words += line.words?.length ?? 0;
  return 1_024 + 2 * result.text.length + 400 * result.lines.length + 560 * words;
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
  /** Results kept in memory, in approximate heap bytes (approxResultBytes; default 64 MiB): whichever limit is hit first. */
  maxResultBytes?: number;
  /** Dedupe key -> job id pairs kept in memory, in entries (default 20,000). */
  maxAnswers?: number;
}

export class ResultCache {
  private readonly pipeline: string;
  private readonly records: Pick<RecordStore, 'findResult'>;
  private readonly blobs: Pick<ImageStore, 'readResult'>;
  private readonly results: Lru<OcrResult>;
  private readonly answers: Lru<string>;
  /** Result reads on the wire, so has() (a woken sync wait) and the answer that follows share one read. */
  private readonly reading = new Map<string, Promise<OcrResult | undefined>>();

  constructor(deps: ResultCacheDeps) {
    this.pipeline = deps.pipeline;
    this.records = deps.records;
    this.blobs = deps.blobs;
    this.results = new Lru(deps.maxResults ?? 2_000, deps.maxResultBytes ?? 64 * 1024 * 1024, approxResultBytes);
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
   * Whether job `jobId` has a result: the worker writes it once, before the record's terminal write, so a
   * result means the job succeeded (PushWaiter's `succeeded`, asked when a worker's notice wakes a sync
   * wait). The result is kept for the answer that follows; nothing is cached when there is none (a notice
   * for a failed job, or a forged one).
   */
  async has(jobId: string): Promise<boolean> {
    return (await this.read(jobId)) !== undefined;
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
