// What the routes do, without HTTP: create jobs, accept images, submit uploads,
// answer from the result cache, wait for results. Every path either leaves a whole
// job behind (a record, and a queue message when it is queued) or nothing at all:
// a step that fails undoes the steps before it.
import { randomUUID } from 'node:crypto';
import { dedupeKey, sha256Hex, uploadBlobPath, type JobMessage, type JobRecord, type OcrOptions, type OcrResult } from '../jobs/index.ts';
import type { Logger } from '../shared/logger.ts';
import type { ApiConfig } from './config.ts';
import type { ImageStore, JobQueue, RecordStore } from './deps.ts';
import { ApiError } from './errors.ts';
import type { ApiMetrics } from './metrics.ts';
import type { JobView } from './schemas.ts';
import { inspectImage, type Inspection } from './sniff.ts';
import type { WebhookNotifier } from './webhooks.ts';

export interface JobRequest {
  fileName?: string | undefined;
  sizeBytes?: number | undefined;
  languages?: string[] | undefined;
  options?: Partial<OcrOptions> | undefined;
  webhookUrl?: string | undefined;
}

/** A sync cache hit: the earlier job answers; its record is not read (a hit costs no storage call once warm). */
export interface Answered {
  jobId: string;
  job?: undefined;
  cached: true;
  result: OcrResult;
}

export interface Accepted {
  job: JobRecord;
  /** True when the result cache answered: nothing was queued. */
  cached: boolean;
  result?: OcrResult | undefined;
}

/** Immutable things worth keeping in memory: results are write-once, dedupe entries first-writer-wins. */
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

export function newJobId(): string {
  return `job-${randomUUID()}`;
}

const TERMINAL = new Set(['succeeded', 'failed']);

export function imageProblem(inspection: Inspection): ApiError | undefined {
  if (inspection.ok) return undefined;
  switch (inspection.problem) {
    case 'empty': return new ApiError('IMAGE_EMPTY');
    case 'unsupported': return new ApiError('IMAGE_TYPE_UNSUPPORTED');
    case 'truncated': return new ApiError('IMAGE_TRUNCATED', `The ${inspection.format ?? 'image'} file ends before its format says it should.`);
  }
}

function msBetween(from: string | undefined, to: string | undefined): number | undefined {
  if (!from || !to) return undefined;
  return Math.max(0, Date.parse(to) - Date.parse(from));
}

export interface ServiceDeps {
  config: ApiConfig;
  records: RecordStore;
  blobs: ImageStore;
  queue: JobQueue;
  metrics: ApiMetrics;
  webhooks: WebhookNotifier | undefined;
  log?: Logger | undefined;
  now?: () => Date;
}

export class JobService {
  private readonly config: ApiConfig;
  private readonly records: RecordStore;
  private readonly blobs: ImageStore;
  private readonly queue: JobQueue;
  private readonly metrics: ApiMetrics;
  private readonly webhooks: WebhookNotifier | undefined;
  private readonly log: Logger | undefined;
  private readonly now: () => Date;
  private readonly results = new Lru<OcrResult>(2_000);
  private readonly answers = new Lru<string>(20_000);

  constructor(deps: ServiceDeps) {
    this.config = deps.config;
    this.records = deps.records;
    this.blobs = deps.blobs;
    this.queue = deps.queue;
    this.metrics = deps.metrics;
    this.webhooks = deps.webhooks;
    this.log = deps.log;
    this.now = deps.now ?? (() => new Date());
  }

  get pipeline(): string {
    return this.config.pipeline;
  }

  /** Checks languages and webhook against this pipeline and fills in defaults. */
  private settle(request: JobRequest): { languages: string[]; options: OcrOptions; webhookUrl: string | undefined } {
    const languages = request.languages ?? [this.config.languages[0] ?? 'eng'];
    const refused = languages.filter((l) => !this.config.languages.includes(l));
    if (refused.length > 0) {
      throw new ApiError('LANGUAGE_NOT_ALLOWED', `This pipeline does not serve ${refused.join(', ')}.`, { refused, allowed: this.config.languages });
    }
    if (request.webhookUrl && !this.webhooks) throw new ApiError('WEBHOOKS_DISABLED');
    return { languages: [...new Set(languages)], options: { pageSegmentation: request.options?.pageSegmentation ?? 'auto' }, webhookUrl: request.webhookUrl };
  }

  private newRecord(request: JobRequest, settled: ReturnType<JobService['settle']>, status: JobRecord['status']): JobRecord {
    const now = this.now().toISOString();
    return {
      id: newJobId(),
      pipeline: this.config.pipeline,
      status,
      languages: settled.languages,
      options: settled.options,
      attempts: 0,
      createdAt: now,
      updatedAt: now,
      ...(request.fileName ? { fileName: request.fileName } : {}),
      ...(request.sizeBytes !== undefined ? { expectedBytes: request.sizeBytes } : {}),
      ...(settled.webhookUrl ? { webhookUrl: settled.webhookUrl } : {}),
    };
  }

  private checkSize(bytes: number): void {
    if (bytes > this.config.maxUploadBytes) {
      throw new ApiError('IMAGE_TOO_LARGE', `The image is ${bytes} bytes; the limit is ${this.config.maxUploadBytes}.`, { limitBytes: this.config.maxUploadBytes, sizeBytes: bytes });
    }
  }

  /** POST /v1/jobs (JSON): a record awaiting its upload, and a URL for exactly its blob. */
  async createUploadJob(request: JobRequest): Promise<{ job: JobRecord; upload: Awaited<ReturnType<ImageStore['uploadUrl']>> }> {
    if (request.sizeBytes !== undefined) this.checkSize(request.sizeBytes);
    const settled = this.settle(request);
    const record = this.newRecord(request, settled, 'awaiting_upload');
    // Signing the URL is local (shared key) and cannot half-fail; the record write is the commit point.
    const upload = await this.blobs.uploadUrl(record.id, this.config.uploadUrlTtlSeconds);
    const job = await this.records.create(record);
    this.metrics.jobsCreated.inc({ path: 'upload_url' });
    return { job, upload };
  }

  /** The job that already answers this image, languages and options, with its result. */
  private async cached(key: string): Promise<{ jobId: string; result: OcrResult } | undefined> {
    let jobId = this.answers.get(key);
    if (jobId === undefined) {
      jobId = await this.records.findResult(this.config.pipeline, key);
      if (jobId === undefined) return undefined;
      this.answers.set(key, jobId);
    }
    let result = this.results.get(jobId);
    if (result === undefined) {
      result = await this.blobs.readResult(jobId);
      if (result === undefined) return undefined;
      this.results.set(jobId, result);
    }
    return { jobId, result };
  }

  private message(job: JobRecord, contentHash: string): JobMessage {
    return {
      v: 1,
      jobId: job.id,
      pipeline: job.pipeline,
      blobPath: uploadBlobPath(job.id),
      contentHash,
      languages: job.languages,
      options: job.options,
      ...(job.webhookUrl ? { webhookUrl: job.webhookUrl } : {}),
    };
  }

  private async enqueue(job: JobRecord, contentHash: string): Promise<void> {
    try {
      await this.queue.send(this.message(job, contentHash));
    } catch (error) {
      this.log?.error({ jobId: job.id, err: error }, 'Could not enqueue job');
      throw new ApiError('QUEUE_UNAVAILABLE');
    }
    if (job.webhookUrl) this.webhooks?.watch(job.pipeline, job.id, job.webhookUrl);
  }

  /**
   * An image posted to the API (multipart or raw body): checked, answered from the
   * cache, or stored, recorded and queued. `reuseCachedJob` answers a cache hit with
   * the earlier job instead of recording a new one (the sync endpoint: no write at all).
   */
  async acceptImage(bytes: Uint8Array, request: JobRequest, path: 'multipart'): Promise<Accepted>;
  async acceptImage(bytes: Uint8Array, request: JobRequest, path: 'sync', reuseCachedJob: true): Promise<Accepted | Answered>;
  async acceptImage(bytes: Uint8Array, request: JobRequest, path: 'multipart' | 'sync', reuseCachedJob = false): Promise<Accepted | Answered> {
    this.checkSize(bytes.length);
    const problem = imageProblem(inspectImage(bytes));
    if (problem) throw problem;
    const settled = this.settle(request);
    const contentHash = sha256Hex(bytes);
    const hit = await this.cached(dedupeKey(contentHash, settled.languages, settled.options));
    if (hit) {
      this.metrics.cacheHits.inc();
      if (reuseCachedJob) return { jobId: hit.jobId, cached: true, result: hit.result };
      const now = this.now().toISOString();
      const job = await this.records.create({ ...this.newRecord(request, settled, 'succeeded'), contentHash, resultOf: hit.jobId, queuedAt: now, finishedAt: now });
      this.metrics.jobsCreated.inc({ path });
      this.webhooks?.notify(job, hit.result);
      return { job, cached: true, result: hit.result };
    }
    const record: JobRecord = { ...this.newRecord({ ...request, sizeBytes: bytes.length }, settled, 'queued'), contentHash, queuedAt: this.now().toISOString() };
    const format = inspectImage(bytes);
    await this.blobs.putUpload(record.id, bytes, format.ok ? format.mediaType : 'application/octet-stream');
    try {
      await this.records.create(record);
    } catch (error) {
      await this.blobs.deleteUpload(record.id).catch(() => undefined);
      throw error;
    }
    try {
      await this.enqueue(record, contentHash);
    } catch (error) {
      // Nothing was queued: take the record and the image back, so no half-made job remains.
      await this.records.remove(record.pipeline, record.id).catch(() => undefined);
      await this.blobs.deleteUpload(record.id).catch(() => undefined);
      throw error;
    }
    this.metrics.jobsCreated.inc({ path });
    return { job: record, cached: false };
  }

  private async mustGet(jobId: string): Promise<JobRecord> {
    const job = await this.records.get(this.config.pipeline, jobId);
    if (!job) throw new ApiError('JOB_NOT_FOUND', `There is no job ${jobId} in this pipeline.`);
    return job;
  }

  /**
   * POST /v1/jobs/{id}/submit. A job that is no longer awaiting its upload is returned
   * as it is (submit is idempotent). A failed check (nothing uploaded, wrong size, not
   * an image) leaves the job awaiting_upload: the upload URL can still overwrite the
   * blob, and the client submits again.
   */
  async submit(jobId: string): Promise<Accepted> {
    const job = await this.mustGet(jobId);
    if (job.status !== 'awaiting_upload') return { job, cached: job.resultOf !== undefined };
    const size = await this.blobs.uploadSize(jobId);
    if (size === undefined) throw new ApiError('UPLOAD_MISSING', `Nothing has been uploaded for job ${jobId} yet.`);
    this.checkSize(size);
    if (job.expectedBytes !== undefined && size !== job.expectedBytes) {
      throw new ApiError('UPLOAD_SIZE_MISMATCH', `The upload has ${size} bytes; the job declared ${job.expectedBytes}.`, { uploadedBytes: size, declaredBytes: job.expectedBytes });
    }
    // v1 downloads the image to hash it (bounded by maxUploadBytes). Content-MD5 or a
    // client-declared hash verified by the worker would avoid this read.
    const bytes = await this.blobs.readUpload(uploadBlobPath(jobId), this.config.maxUploadBytes);
    const problem = imageProblem(inspectImage(bytes));
    if (problem) throw problem;
    const contentHash = sha256Hex(bytes);
    const hit = await this.cached(dedupeKey(contentHash, job.languages, job.options));
    const now = this.now().toISOString();
    const queued = await this.records.transition(this.config.pipeline, jobId, { to: 'queued', from: ['awaiting_upload'], patch: { contentHash, queuedAt: now, expectedBytes: size } });
    if (!queued) return { job: await this.mustGet(jobId), cached: false }; // a concurrent submit won
    if (hit) {
      this.metrics.cacheHits.inc();
      const done = await this.records.transition(this.config.pipeline, jobId, { to: 'succeeded', from: ['queued'], patch: { resultOf: hit.jobId, finishedAt: now } });
      const final = done ?? queued;
      this.webhooks?.notify(final, hit.result);
      return { job: final, cached: true, result: hit.result };
    }
    try {
      await this.enqueue(queued, contentHash);
    } catch (error) {
      // The record says queued but no message exists: mark it failed rather than leave a job no worker will ever see.
      const failed = await this.records.transition(this.config.pipeline, jobId, {
        to: 'failed', from: ['queued'], patch: { errorCode: 'ENQUEUE_FAILED', errorMessage: 'the queue was unreachable when the job was submitted; create a new job', finishedAt: this.now().toISOString() },
      }).catch(() => undefined);
      if (failed) this.webhooks?.notify(failed);
      throw error;
    }
    return { job: queued, cached: false };
  }

  async get(jobId: string): Promise<JobRecord> {
    return await this.mustGet(jobId);
  }

  /** The result of a succeeded job (its own, or the one it shares through the cache). */
  async resultOf(job: JobRecord): Promise<OcrResult | undefined> {
    if (job.status !== 'succeeded') return undefined;
    const source = job.resultOf ?? job.id;
    let result = this.results.get(source);
    if (result === undefined) {
      result = await this.blobs.readResult(source);
      if (result !== undefined) this.results.set(source, result);
    }
    return result && { ...result, jobId: job.id };
  }

  /** Re-reads the record until it is finished, the timeout passes or the client goes away. */
  async waitFor(job: JobRecord, timeoutMs: number, signal?: AbortSignal): Promise<JobRecord> {
    const deadline = Date.now() + timeoutMs;
    let current = job;
    while (!TERMINAL.has(current.status) && Date.now() < deadline && !signal?.aborted) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.config.pollIntervalMs, Math.max(0, deadline - Date.now()))));
      current = (await this.records.get(this.config.pipeline, job.id)) ?? current;
    }
    return current;
  }

  async view(job: JobRecord, result?: OcrResult): Promise<JobView> {
    const finalResult = job.status === 'succeeded' ? (result ? { ...result, jobId: job.id } : await this.resultOf(job)) : undefined;
    return {
      id: job.id,
      status: job.status,
      ...(job.fileName ? { fileName: job.fileName } : {}),
      ...(job.expectedBytes !== undefined ? { sizeBytes: job.expectedBytes } : {}),
      languages: job.languages,
      options: job.options,
      webhook: job.webhookUrl !== undefined,
      attempts: job.attempts,
      cached: job.resultOf !== undefined,
      createdAt: job.createdAt,
      updatedAt: job.updatedAt,
      ...(job.queuedAt ? { queuedAt: job.queuedAt } : {}),
      ...(job.startedAt ? { startedAt: job.startedAt } : {}),
      ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}),
      timings: {
        ...(msBetween(job.queuedAt, job.startedAt) !== undefined ? { queuedMs: msBetween(job.queuedAt, job.startedAt) } : {}),
        ...(msBetween(job.startedAt, job.finishedAt) !== undefined ? { processingMs: msBetween(job.startedAt, job.finishedAt) } : {}),
        ...(msBetween(job.createdAt, job.finishedAt) !== undefined ? { totalMs: msBetween(job.createdAt, job.finishedAt) } : {}),
      },
      ...(finalResult ? { result: finalResult } : {}),
      ...(job.status === 'failed' ? { error: { code: job.errorCode ?? 'OCR_FAILED', message: job.errorMessage ?? 'the job failed' } } : {}),
    };
  }
}
