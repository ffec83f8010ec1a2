// The job commands behind the routes, without HTTP: create a job awaiting its upload,
// accept an image (multipart or raw body), submit an uploaded job. Every command
// either leaves a whole job behind (a record, and a queue message when it is queued)
// or nothing at all: a step that fails undoes the steps before it (the compensation
// is written next to the step it undoes).
//
// Integrity: the bytes the API checks and hashes are the bytes it writes, once, to
// `inputs/<jobId>` (no upload URL covers that name), and the worker reads only that blob
// and verifies its SHA-256. A client that PUTs again through its upload URL after submit
// changes nothing that is processed or cached.
//
// Ownership: every job records the name of the key that created it (`owner`), and answers
// only to that key and to admin keys (canAccess in ../auth.ts); to any other key it does not
// exist (JOB_NOT_FOUND, never 403). A cache hit gives the caller a job of its own.
import { randomUUID } from 'node:crypto';
import { dedupeKey, inputBlobPath, pipelinePartition, sha256Hex, uploadBlobPath, type JobMessage, type JobRecord, type OcrResult } from '../../jobs/index.ts';
import { systemClock, type Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import { canAccess, type Principal } from '../auth.ts';
import type { ApiConfig } from '../config.ts';
import type { ImageStore, JobQueue, RecordStore } from '../deps.ts';
import { ApiError } from '../errors.ts';
import type { ApiMetrics } from '../metrics.ts';
import type { StoredImage } from '../uploads.ts';
import type { WebhookNotifier } from '../webhooks.ts';
import { checkImage, checkSize, settleRequest, type JobRequest, type PipelineLimits, type SettledRequest } from './checks.ts';
import type { ResultCache } from './result-cache.ts';

export type { JobRequest } from './checks.ts';

export interface Accepted {
  job: JobRecord;
  /** True when the result cache answered: nothing was queued. */
  cached: boolean;
  result?: OcrResult | undefined;
}

export function newJobId(): string {
  return `job-${randomUUID()}`;
}

export interface JobCommandsDeps {
  config: ApiConfig;
  records: RecordStore;
  blobs: ImageStore;
  queue: JobQueue;
  results: ResultCache;
  metrics: ApiMetrics;
  /** undefined when webhooks are off (no WEBHOOK_SECRET). */
  webhooks: WebhookNotifier | undefined;
  log: Logger;
  /** Record timestamps (createdAt, queuedAt, ...); default the system clock. */
  clock?: Clock;
}

export class JobCommands {
  private readonly config: ApiConfig;
  private readonly records: RecordStore;
  private readonly blobs: ImageStore;
  private readonly queue: JobQueue;
  private readonly results: ResultCache;
  private readonly metrics: ApiMetrics;
  private readonly webhooks: WebhookNotifier | undefined;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly limits: PipelineLimits;
  /** This pipeline's records partition and dedupe scope (`<namespace>.<pipeline>`; see pipelinePartition). */
  private readonly partition: string;

  constructor(deps: JobCommandsDeps) {
    this.config = deps.config;
    this.records = deps.records;
    this.blobs = deps.blobs;
    this.queue = deps.queue;
    this.results = deps.results;
    this.metrics = deps.metrics;
    this.webhooks = deps.webhooks;
    this.log = deps.log;
    this.clock = deps.clock ?? systemClock;
    this.partition = pipelinePartition(deps.config.pipeline, deps.config.namespace);
    this.limits = {
      languages: deps.config.languages,
      maxUploadBytes: deps.config.maxUploadBytes,
      webhooks: deps.webhooks !== undefined,
      webhookEgress: deps.config.webhookEgress,
    };
  }

  /** The current time as a record timestamp (ISO 8601). */
  private timestamp(): string {
    return new Date(this.clock()).toISOString();
  }

  private newRecord(request: JobRequest, settled: SettledRequest, status: JobRecord['status'], caller: Principal): JobRecord {
    const now = this.timestamp();
    return {
      id: newJobId(),
      pipeline: this.partition,
      owner: caller.name,
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

  /** POST /v1/jobs (JSON): a record awaiting its upload, and a URL for exactly its blob. */
  async createUploadJob(request: JobRequest, caller: Principal): Promise<{ job: JobRecord; upload: Awaited<ReturnType<ImageStore['uploadUrl']>> }> {
    if (request.sizeBytes !== undefined) checkSize(this.limits, request.sizeBytes);
    const settled = settleRequest(this.limits, request);
    const record = this.newRecord(request, settled, 'awaiting_upload', caller);
    // Signing the URL is local (shared key) and cannot half-fail; the record write is the commit point.
    const upload = await this.blobs.uploadUrl(record.id, this.config.uploadUrlTtlSeconds);
    const job = await this.records.create(record);
    this.metrics.jobsCreated.inc({ path: 'upload_url' });
    return { job, upload };
  }

  /**
   * An image posted to the API (multipart or raw body), already checked, hashed and written to
   * `inputs/<jobId>` while it streamed in (src/api/uploads.ts): answered from the cache, or
   * recorded and queued under that job id. A cache hit records a job of the caller's own,
   * `succeeded` at once and sharing the earlier job's result (`resultOf`): one record write,
   * no message, and the streamed input is deleted again. The earlier job's id is never handed
   * out: it may belong to another key. Any failure before the record exists deletes the input.
   */
  async acceptStored(stored: StoredImage, request: JobRequest, path: 'multipart' | 'sync', caller: Principal): Promise<Accepted> {
    const dropInput = (failure: string): Promise<void> => this.undo(stored.jobId, failure, () => this.blobs.deleteInput(stored.jobId));
    const { contentHash } = stored;
    let settled: SettledRequest;
    let hit: Awaited<ReturnType<ResultCache['lookup']>>;
    try {
      settled = settleRequest(this.limits, request);
      hit = await this.results.lookup(dedupeKey(contentHash, settled.languages, settled.options));
    } catch (error) {
      await dropInput('Failed to delete input of a refused upload');
      throw error;
    }
    if (hit) {
      await dropInput('Failed to delete input of an upload the cache answered');
      this.metrics.cacheHits.inc();
      const now = this.timestamp();
      const job = await this.records.create({
        ...this.newRecord(request, settled, 'succeeded', caller),
        contentHash,
        resultOf: hit.jobId,
        queuedAt: now,
        finishedAt: now,
      });
      this.metrics.jobsCreated.inc({ path });
      this.webhooks?.notify(job, hit.result);
      // Under the caller's job id: the earlier job's id is not the caller's to know.
      return { job, cached: true, result: { ...hit.result, jobId: job.id } };
    }
    const record: JobRecord = {
      ...this.newRecord({ ...request, sizeBytes: stored.sizeBytes }, settled, 'queued', caller),
      id: stored.jobId,
      contentHash,
      queuedAt: this.timestamp(),
    };
    // Step 1, the image at `inputs/<jobId>`, was done by the upload. Step 2: the record. On failure, undo step 1.
    try {
      await this.records.create(record);
    } catch (error) {
      await dropInput('Failed to delete input of a job that was never recorded');
      throw error;
    }
    // Step 3: the queue message. On failure nothing was queued: undo steps 2 and 1, so no half-made job remains.
    try {
      await this.enqueue(record, contentHash);
    } catch (error) {
      await this.undo(record.id, 'Failed to remove record of a job that was never queued', () => this.records.remove(record.pipeline, record.id));
      await dropInput('Failed to delete input of a job that was never queued');
      throw error;
    }
    this.metrics.jobsCreated.inc({ path });
    return { job: record, cached: false };
  }

  /**
   * POST /v1/jobs/{id}/submit. A job that is no longer awaiting its upload is returned
   * as it is (submit is idempotent). A failed check (nothing uploaded, wrong size, not
   * an image) leaves the job awaiting_upload: the upload URL can still overwrite the
   * blob, and the client submits again. Once queued, the checked bytes are copied to
   * `inputs/<jobId>` (see the top of this file): later PUTs to the upload URL change nothing.
   * Only the job's owner and admin keys can submit it; others get JOB_NOT_FOUND.
   */
  async submit(jobId: string, caller: Principal): Promise<Accepted> {
    const job = await this.get(jobId, caller);
    if (job.status !== 'awaiting_upload') return { job, cached: job.resultOf !== undefined };
    const size = await this.blobs.uploadSize(jobId);
    if (size === undefined) throw new ApiError('UPLOAD_MISSING', `Nothing has been uploaded for job ${jobId} yet.`);
    this.checkUploadedSize(job, size);
    // v1 downloads the image to hash it (bounded by maxUploadBytes). Content-MD5 or a
    // client-declared hash verified by the worker would avoid this read.
    const bytes = await this.blobs.readUpload(uploadBlobPath(jobId), this.config.maxUploadBytes);
    // The client may PUT again between the size check and the read: check what was read.
    if (bytes.length !== size) this.checkUploadedSize(job, bytes.length);
    const image = checkImage(bytes);
    const contentHash = sha256Hex(bytes);
    const hit = await this.results.lookup(dedupeKey(contentHash, job.languages, job.options));
    const now = this.timestamp();
    const queued = await this.records.transition(this.partition, jobId, {
      to: 'queued',
      from: ['awaiting_upload'],
      patch: { contentHash, queuedAt: now, expectedBytes: bytes.length },
    });
    if (!queued) return { job: await this.get(jobId, caller), cached: false }; // a concurrent submit won
    if (hit) {
      this.metrics.cacheHits.inc();
      const done = await this.records.transition(this.partition, jobId, {
        to: 'succeeded',
        from: ['queued'],
        patch: { resultOf: hit.jobId, finishedAt: now },
      });
      const final = done ?? queued;
      this.webhooks?.notify(final, hit.result);
      return { job: final, cached: true, result: { ...hit.result, jobId: final.id } };
    }
    // Only the submit that won the move to queued gets here, so the input is written once, with the bytes hashed above.
    await this.orFailUnqueued(jobId, 'the image could not be stored when the job was submitted; create a new job', () =>
      this.blobs.putInput(jobId, bytes, image.mediaType),
    );
    await this.orFailUnqueued(jobId, 'the queue was unreachable when the job was submitted; create a new job', () => this.enqueue(queued, contentHash));
    return { job: queued, cached: false };
  }

  /** The size checks of submit: within the pipeline's limit, and equal to sizeBytes when the job declared one. */
  private checkUploadedSize(job: JobRecord, size: number): void {
    checkSize(this.limits, size);
    if (job.expectedBytes !== undefined && size !== job.expectedBytes) {
      throw new ApiError('UPLOAD_SIZE_MISMATCH', `The upload has ${size} bytes; the job declared ${job.expectedBytes}.`, {
        uploadedBytes: size,
        declaredBytes: job.expectedBytes,
      });
    }
  }

  /**
   * Runs one step of queueing a submitted job. When it fails, the record says queued but no message
   * exists, and the upload cannot be taken back from the client: the job is marked failed
   * (ENQUEUE_FAILED, with `reason`) rather than left for a worker that will never see it.
   */
  private async orFailUnqueued(jobId: string, reason: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      const failed = await this.records
        .transition(this.partition, jobId, {
          to: 'failed',
          from: ['queued'],
          patch: { errorCode: 'ENQUEUE_FAILED', errorMessage: reason, finishedAt: this.timestamp() },
        })
        .catch((err: unknown) => {
          this.log.error({ err, jobId }, 'Failed to mark a job that was never queued as failed');
          return undefined;
        });
      if (failed) this.webhooks?.notify(failed);
      throw error;
    }
  }

  /**
   * GET /v1/jobs/{id}: the job's record in this pipeline, or JOB_NOT_FOUND. A job the caller may
   * not see (canAccess) answers exactly as a missing one, so no key learns which ids exist.
   */
  async get(jobId: string, caller: Principal): Promise<JobRecord> {
    const job = await this.records.get(this.partition, jobId);
    if (!job || !canAccess(caller, job.owner)) throw new ApiError('JOB_NOT_FOUND', `There is no job ${jobId} in this pipeline.`);
    return job;
  }

  private message(job: JobRecord, contentHash: string): JobMessage {
    return {
      v: 1,
      jobId: job.id,
      pipeline: job.pipeline,
      // Workers derive this path from the job id themselves; it stays for workers that still read it.
      blobPath: inputBlobPath(job.id),
      contentHash,
      languages: job.languages,
      options: job.options,
      ...(job.webhookUrl ? { webhookUrl: job.webhookUrl } : {}),
    };
  }

  /** Sends the job's queue message (QUEUE_UNAVAILABLE when that fails), then watches it for its webhook. */
  private async enqueue(job: JobRecord, contentHash: string): Promise<void> {
    try {
      await this.queue.send(this.message(job, contentHash));
    } catch (err) {
      this.log.error({ jobId: job.id, err }, 'Failed to enqueue job');
      throw new ApiError('QUEUE_UNAVAILABLE');
    }
    if (job.webhookUrl) this.webhooks?.watch(job.pipeline, job.id, job.webhookUrl);
  }

  /** Runs one compensating step; its own failure is logged, never thrown, so the original error reaches the caller. */
  private async undo(jobId: string, failure: string, step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (err) {
      this.log.warn({ err, jobId }, failure);
    }
  }
}
