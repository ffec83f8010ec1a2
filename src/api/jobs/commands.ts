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
import { isoTime } from '../../shared/iso-time.ts';
import { dedupeKey, jobMessageOf, pipelinePartition, sha256Hex, uploadBlobPath, type JobRecord, type OcrResult, type UploadUrl } from '../../jobs/index.ts';
import { systemClock, type Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import { canAccess, type Principal } from '../auth.ts';
import type { ApiConfig } from '../config.ts';
import type { ImageStore, JobQueue, RecordStore } from '../deps.ts';
import { ApiError } from '../errors.ts';
import type { ApiMetrics } from '../metrics.ts';
import type { StoredImage } from '../uploads.ts';
import { checkImage, checkSize, settleRequest, type JobRequest, type PipelineLimits, type SettledRequest } from './checks.ts';
import type { ResultCache } from './result-cache.ts';
import type { NoticeAddress } from './wait.ts';
import type { BacklogGate } from '../admission.ts';
import { checkNotExpired, type JobTokenClaims, type JobTokens } from './token.ts';

export type { JobRequest } from './checks.ts';

export interface Accepted {
  job: JobRecord;
  /** True when the result cache answered: nothing was queued. */
  cached: boolean;
  result?: OcrResult | undefined;
}

/** The blob metadata header that carries the job token on the upload's PUT, and its name as Blob Storage returns it. */
export const TOKEN_METADATA_HEADER = 'x-ms-meta-ocrjobtoken';
const TOKEN_METADATA_KEY = 'ocrjobtoken';

/** What POST /v1/jobs (JSON) hands back: where and how to PUT, and the job token for submit. */
export type UploadInstructions = UploadUrl & { token: string };

/** An upload after submit's checks. */
interface CheckedUpload {
  bytes: Buffer;
  mediaType: string;
  contentHash: string;
}

/**
 * How long this replica answers a repeated cache hit from memory, in ms: a job deleted meanwhile
 * (DELETE, retention) can be named for at most this long; after it, the record is looked up again.
 */
const REPEAT_HIT_TTL_MS = 60_000;
/** Repeated cache hits remembered per replica, in entries (a few hundred bytes each). */
const REPEAT_HITS_MAX = 10_000;

/** A job this caller may not see answers exactly as a missing one. */
function jobNotFound(jobId: string): ApiError {
  return new ApiError('JOB_NOT_FOUND', `There is no job ${jobId} in this pipeline.`);
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
  /**
   * false when webhooks are off (no WEBHOOK_SECRET): a webhookUrl is refused. A finished job's webhook
   * needs no call from here: its terminal write carries the outbox row (src/jobs/outbox.ts).
   */
  webhooksEnabled: boolean;
  log: Logger;
  /** Signs and verifies the job tokens of upload URLs (./token.ts). */
  tokens: JobTokens;
  /** Record timestamps (createdAt, queuedAt, ...); default the system clock. */
  clock?: Clock;
  /** Where this replica takes "job finished" notices; sync jobs name it in their message (the ocrNotify message property). */
  notices?: NoticeAddress;
  /** Admission by backlog (API_MAX_BACKLOG); undefined = no limit. Cache hits pass without it. */
  admission?: Pick<BacklogGate, 'admit' | 'sent'>;
}

export class JobCommands {
  private readonly config: ApiConfig;
  private readonly records: RecordStore;
  private readonly blobs: ImageStore;
  private readonly queue: JobQueue;
  private readonly results: ResultCache;
  private readonly metrics: ApiMetrics;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly tokens: JobTokens;
  /** Jobs of recent cache hits by their keyed id (cachedJob), oldest first; at most REPEAT_HITS_MAX. */
  private readonly repeatHits = new Map<string, { record: JobRecord; atMs: number }>();
  private readonly notices: NoticeAddress | undefined;
  private readonly admission: Pick<BacklogGate, 'admit' | 'sent'> | undefined;
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
    this.log = deps.log;
    this.clock = deps.clock ?? systemClock;
    this.tokens = deps.tokens;
    this.notices = deps.notices;
    this.admission = deps.admission;
    this.partition = pipelinePartition(deps.config.pipeline, deps.config.namespace);
    this.limits = {
      languages: deps.config.languages,
      engines: deps.config.requestEngines,
      maxUploadBytes: deps.config.maxUploadBytes,
      webhooks: deps.webhooksEnabled,
      webhookEgress: deps.config.webhookEgress,
    };
  }

  /** The current time as a record timestamp (ISO 8601). */
  private timestamp(): string {
    return isoTime(this.clock());
  }

  /** `nowMs`: the record's creation time, when the caller needs it as a number too (createUploadJob). */
  private newRecord(request: JobRequest, settled: SettledRequest, status: JobRecord['status'], caller: Principal, nowMs = this.clock()): JobRecord {
    const now = isoTime(nowMs);
    const record: JobRecord = {
      id: newJobId(),
      pipeline: this.partition,
      owner: caller.name,
      status,
      languages: settled.languages,
      options: settled.options,
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    };
    // Assigned when present rather than spread (an object and a copy per field, on every request).
    if (request.fileName) record.fileName = request.fileName;
    if (request.sizeBytes !== undefined) record.expectedBytes = request.sizeBytes;
    if (settled.webhookUrl) record.webhookUrl = settled.webhookUrl;
    return record;
  }

  /**
   * POST /v1/jobs (JSON): a URL for exactly one blob and a signed job token, and NOTHING written
   * (./token.ts): the record is created at submit. The view returned is the job as submit will
   * record it, awaiting its upload; GET answers 404 until the job is submitted.
   */
  async createUploadJob(request: JobRequest, caller: Principal): Promise<{ job: JobRecord; upload: UploadInstructions }> {
    if (request.sizeBytes !== undefined) checkSize(this.limits, request.sizeBytes);
    const settled = settleRequest(this.limits, request);
    // Whole milliseconds, as the record's createdAt shows them: the token's iat without parsing createdAt back.
    const nowMs = Math.floor(this.clock());
    const record = this.newRecord(request, settled, 'awaiting_upload', caller, nowMs);
    const upload = await this.blobs.uploadUrl(record.id, this.config.uploadUrlTtlSeconds);
    // Optional claims are set only when present (a token without them is shorter); assigned rather than
    // spread, which costs an object and a copy per field on every upload URL.
    const claims: JobTokenClaims = {
      id: record.id,
      owner: caller.name,
      pipeline: this.partition,
      blob: uploadBlobPath(record.id),
      languages: settled.languages,
      options: settled.options,
      iat: nowMs,
      exp: Date.parse(upload.expiresAt),
    };
    if (request.sizeBytes !== undefined) claims.size = request.sizeBytes;
    if (request.contentType) claims.type = request.contentType;
    if (settled.webhookUrl) claims.webhookUrl = settled.webhookUrl;
    if (request.fileName) claims.fileName = request.fileName;
    const token = this.tokens.sign(claims);
    this.metrics.countUploadUrlJob();
    // The token also rides along as blob metadata on the PUT, so a submit that does not send it (an Event Grid handler) finds it.
    const headers = { ...upload.headers, [TOKEN_METADATA_HEADER]: token };
    return { job: record, upload: { url: upload.url, expiresAt: upload.expiresAt, method: upload.method, headers, token } };
  }

  /**
   * An image posted to the API (multipart or raw body), already checked and hashed while it
   * streamed in (src/api/uploads.ts): small images are held in memory (`stored.held`), larger ones
   * were written to `inputs/<jobId>` as they arrived. Answered from the cache, or recorded and
   * queued under that job id. A cache hit gives the caller a job of its own, `succeeded` at once
   * and sharing the earlier job's result (`resultOf`), with no message and no input written (a
   * streamed one is deleted again); repeats of the same request reuse that job (cachedJob). The
   * earlier job's id is never handed out: it may belong to another key. Any failure before the
   * record exists deletes the input.
   */
  async acceptStored(stored: StoredImage, request: JobRequest, path: 'multipart' | 'sync', caller: Principal): Promise<Accepted> {
    // A held image is at `inputs/<jobId>` only once written below; only a written one is deleted again.
    let written = !stored.held;
    const dropInput = (failure: string): Promise<void> =>
      written ? this.undo(stored.jobId, failure, () => this.blobs.deleteInput(stored.jobId)) : Promise.resolve();
    const { contentHash } = stored;
    let settled: SettledRequest;
    let hit: Awaited<ReturnType<ResultCache['lookup']>>;
    try {
      settled = settleRequest(this.limits, request);
      hit = await this.results.lookup(dedupeKey(contentHash, settled.languages, settled.options, this.limits.engines?.[0]));
    } catch (error) {
      await dropInput('Failed to delete input of a refused upload');
      throw error;
    }
    if (hit) {
      await dropInput('Failed to delete input of an upload the cache answered');
      this.metrics.cacheHits.inc();
      const job = await this.cachedJob(contentHash, request, settled, hit.jobId, caller);
      this.metrics.jobsCreated.inc({ path });
      // Under the caller's job id: the earlier job's id is not the caller's to know.
      return { job, cached: true, result: { ...hit.result, jobId: job.id } };
    }
    try {
      this.admission?.admit(); // a new job for the queue: 503 QUEUE_BACKLOG_FULL above the backlog limit
    } catch (error) {
      await dropInput('Failed to delete input of a job refused for the backlog');
      throw error;
    }
    const record: JobRecord = {
      ...this.newRecord({ ...request, sizeBytes: stored.sizeBytes }, settled, 'queued', caller),
      id: stored.jobId,
      contentHash,
      queuedAt: this.timestamp(),
    };
    // Step 1, the image at `inputs/<jobId>`: done by the upload, or now for an image held in memory (nothing to undo if it fails).
    if (stored.held) {
      await this.blobs.putInput(stored.jobId, stored.held, stored.mediaType);
      written = true;
    }
    // Step 2: the record. On failure, undo step 1.
    try {
      await this.records.create(record);
    } catch (error) {
      await dropInput('Failed to delete input of a job that was never recorded');
      throw error;
    }
    // Step 3: the queue message. On failure nothing was queued: undo steps 2 and 1, so no half-made job remains.
    try {
      await this.enqueue(record, contentHash, path === 'sync');
    } catch (error) {
      await this.undo(record.id, 'Failed to remove record of a job that was never queued', () => this.records.remove(record.pipeline, record.id));
      await dropInput('Failed to delete input of a job that was never queued');
      throw error;
    }
    this.metrics.jobsCreated.inc({ path });
    return { job: record, cached: false };
  }

  /**
   * The caller's own succeeded job for a cache hit. Without a webhook, the same caller, image,
   * languages, options and file name always get the same job: its id is keyed (tokens.derivedJobId),
   * the first hit writes the record, a repeat on another replica finds it through the create's
   * conflict, and a repeat on this replica within REPEAT_HIT_TTL_MS writes and reads nothing. With
   * a webhook every request is a job of its own (each gets its delivery).
   */
  private async cachedJob(contentHash: string, request: JobRequest, settled: SettledRequest, resultOf: string, caller: Principal): Promise<JobRecord> {
    const now = this.timestamp();
    const record: JobRecord = { ...this.newRecord(request, settled, 'succeeded', caller), contentHash, resultOf, queuedAt: now, finishedAt: now };
    if (settled.webhookUrl) return await this.records.create(record);
    const id = this.tokens.derivedJobId([
      caller.name,
      dedupeKey(contentHash, settled.languages, settled.options, this.limits.engines?.[0]),
      request.fileName ?? '',
    ]);
    const nowMs = this.clock();
    const known = this.repeatHits.get(id);
    if (known && nowMs - known.atMs < REPEAT_HIT_TTL_MS) return known.record;
    const job = await this.createOnce({ ...record, id }, caller);
    this.repeatHits.delete(id);
    this.repeatHits.set(id, { record: job.record, atMs: nowMs });
    if (this.repeatHits.size > REPEAT_HITS_MAX) this.repeatHits.delete(this.repeatHits.keys().next().value as string);
    return job.record;
  }

  /**
   * POST /v1/jobs/{id}/submit. The job token (sent with the submit, or stored as the upload's
   * metadata by a PUT with `upload.headers`) is verified first: signature in constant time, job,
   * pipeline, expiry, and owner = caller (a token of another key answers JOB_NOT_FOUND, as for a
   * missing job; admin keys may submit any). Then the upload is checked (present, size, declared
   * size and type, image) and the record is created, `queued` (or `succeeded` from the cache).
   * A failed check writes nothing: the client uploads again and submits again. Submit is
   * idempotent: a job that is recorded already is returned as it is. Once queued, the checked
   * bytes are copied to `inputs/<jobId>` (see the top of this file).
   */
  async submit(jobId: string, caller: Principal, presentedToken?: string): Promise<Accepted> {
    // A token sent with the request is checked before any storage call (its expiry only once no record exists:
    // a repeated submit after the URL expired still returns the job).
    const early = presentedToken === undefined ? undefined : this.claims(presentedToken, jobId, caller, false);
    const existing = await this.records.get(this.partition, jobId);
    if (existing) {
      if (!canAccess(caller, existing.owner)) throw jobNotFound(jobId);
      if (existing.status !== 'awaiting_upload') return { job: existing, cached: existing.resultOf !== undefined };
      return await this.submitRecorded(existing, caller);
    }
    if (early) checkNotExpired(early, this.clock());
    const upload = await this.blobs.uploadInfo(jobId);
    const stored = upload?.metadata[TOKEN_METADATA_KEY];
    const claims = early ?? (stored === undefined ? undefined : this.claims(stored, jobId, caller, true));
    if (!claims) throw jobNotFound(jobId);
    if (!upload) throw new ApiError('UPLOAD_MISSING', `Nothing has been uploaded for job ${jobId} yet.`);
    const checked = await this.readChecked(jobId, upload.sizeBytes, claims.size, claims.type);
    const hit = await this.results.lookup(dedupeKey(checked.contentHash, claims.languages, claims.options, this.limits.engines?.[0]));
    const now = this.timestamp();
    const base = this.recordFromClaims(claims, checked, now);
    if (hit) return await this.createFromCache(base, hit, now, caller);
    // Above the backlog limit nothing is written: the upload stays, and the same submit works later.
    this.admission?.admit();
    const job = await this.createOnce(base, caller);
    if (!job.created) return { job: job.record, cached: job.record.resultOf !== undefined }; // a concurrent submit won
    await this.queueSubmitted(job.record, checked);
    return { job: job.record, cached: false };
  }

  /** A submitted upload the result cache has read already: its record is created `succeeded`, pointing at the job that read it. */
  private async createFromCache(base: JobRecord, hit: { jobId: string; result: OcrResult }, now: string, caller: Principal): Promise<Accepted> {
    const job = await this.createOnce({ ...base, status: 'succeeded', resultOf: hit.jobId, finishedAt: now }, caller);
    if (!job.created) return { job: job.record, cached: job.record.resultOf !== undefined };
    this.metrics.cacheHits.inc();
    return { job: job.record, cached: true, result: { ...hit.result, jobId: base.id } };
  }

  /** The claims of a job token for this job and pipeline, or its catalogue error; another owner's token answers as a missing job. */
  private claims(token: string, jobId: string, caller: Principal, checkExpiry: boolean): JobTokenClaims {
    const claims = this.tokens.verify(token, { id: jobId, pipeline: this.partition, nowMs: checkExpiry ? this.clock() : undefined });
    if (!canAccess(caller, claims.owner)) throw jobNotFound(jobId);
    return claims;
  }

  /** The upload's bytes after submit's checks: size limit, declared size, image type (and declared type), hashed. */
  private async readChecked(jobId: string, size: number, declaredBytes: number | undefined, declaredType: string | undefined): Promise<CheckedUpload> {
    this.checkUploadedSize(declaredBytes, size);
    // Submit downloads the image to hash it (bounded by maxUploadBytes).
    const bytes = await this.blobs.readUpload(uploadBlobPath(jobId), this.config.maxUploadBytes);
    // The client may PUT again between the size check and the read: check what was read.
    if (bytes.length !== size) this.checkUploadedSize(declaredBytes, bytes.length);
    const image = checkImage(bytes);
    if (declaredType !== undefined && image.mediaType !== declaredType) {
      throw new ApiError('IMAGE_TYPE_UNSUPPORTED', `The upload is ${image.mediaType}; the job declared ${declaredType}.`, {
        uploadedType: image.mediaType,
        declaredType,
      });
    }
    return { bytes, mediaType: image.mediaType, contentHash: sha256Hex(bytes) };
  }

  /** The record a verified token describes, queued now with the checked upload. */
  private recordFromClaims(claims: JobTokenClaims, checked: CheckedUpload, now: string): JobRecord {
    return {
      id: claims.id,
      pipeline: this.partition,
      owner: claims.owner,
      status: 'queued',
      languages: claims.languages,
      options: claims.options,
      attempts: 0,
      createdAt: new Date(claims.iat).toISOString(),
      updatedAt: now,
      queuedAt: now,
      contentHash: checked.contentHash,
      expectedBytes: checked.bytes.length,
      ...(claims.fileName ? { fileName: claims.fileName } : {}),
      ...(claims.webhookUrl ? { webhookUrl: claims.webhookUrl } : {}),
    };
  }

  /** Creates the record, or returns the one a concurrent submit created first (created: false). */
  private async createOnce(record: JobRecord, caller: Principal): Promise<{ record: JobRecord; created: boolean }> {
    try {
      return { record: await this.records.create(record), created: true };
    } catch (error) {
      if ((error as { statusCode?: unknown }).statusCode !== 409) throw error;
      return { record: await this.get(record.id, caller), created: false };
    }
  }

  /** Writes the checked bytes to `inputs/<jobId>` and sends the message; a failure marks the job failed (ENQUEUE_FAILED). */
  private async queueSubmitted(job: JobRecord, checked: CheckedUpload): Promise<void> {
    // Only the submit that created the record gets here, so the input is written once, with the bytes hashed above.
    await this.orFailUnqueued(job.id, 'the image could not be stored when the job was submitted; create a new job', () =>
      this.blobs.putInput(job.id, checked.bytes, checked.mediaType),
    );
    await this.orFailUnqueued(job.id, 'the queue was unreachable when the job was submitted; create a new job', () => this.enqueue(job, checked.contentHash));
  }

  /** Submit of a record written awaiting_upload by an API before job tokens (kept until such records are gone). */
  private async submitRecorded(job: JobRecord, caller: Principal): Promise<Accepted> {
    const jobId = job.id;
    const size = await this.blobs.uploadSize(jobId);
    if (size === undefined) throw new ApiError('UPLOAD_MISSING', `Nothing has been uploaded for job ${jobId} yet.`);
    const checked = await this.readChecked(jobId, size, job.expectedBytes, undefined);
    const hit = await this.results.lookup(dedupeKey(checked.contentHash, job.languages, job.options, this.limits.engines?.[0]));
    const now = this.timestamp();
    const queued = await this.records.transition(this.partition, jobId, {
      to: 'queued',
      from: ['awaiting_upload'],
      patch: { contentHash: checked.contentHash, queuedAt: now, expectedBytes: checked.bytes.length },
    });
    if (!queued) return { job: await this.get(jobId, caller), cached: false }; // a concurrent submit won
    if (hit) {
      this.metrics.cacheHits.inc();
      const done = await this.records.transition(this.partition, jobId, { to: 'succeeded', from: ['queued'], patch: { resultOf: hit.jobId, finishedAt: now } });
      const final = done ?? queued;
      return { job: final, cached: true, result: { ...hit.result, jobId: final.id } };
    }
    await this.queueSubmitted(queued, checked);
    return { job: queued, cached: false };
  }

  /** The size checks of submit: within the pipeline's limit, and equal to sizeBytes when the job declared one. */
  private checkUploadedSize(declaredBytes: number | undefined, size: number): void {
    checkSize(this.limits, size);
    if (declaredBytes !== undefined && size !== declaredBytes) {
      throw new ApiError('UPLOAD_SIZE_MISMATCH', `The upload has ${size} bytes; the job declared ${declaredBytes}.`, {
        uploadedBytes: size,
        declaredBytes,
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
      await this.records
        .transition(this.partition, jobId, {
          to: 'failed',
          from: ['queued'],
          patch: { errorCode: 'ENQUEUE_FAILED', errorMessage: reason, finishedAt: this.timestamp() },
        })
        .catch((err: unknown) => {
          this.log.error({ err, jobId }, 'Failed to mark a job that was never queued as failed');
          return undefined;
        });
      throw error;
    }
  }

  /** A job was deleted: a repeated cache hit on this replica no longer names it (other replicas stop within REPEAT_HIT_TTL_MS). */
  forget(jobId: string): void {
    this.repeatHits.delete(jobId);
  }

  /**
   * GET /v1/jobs/{id}: the job's record in this pipeline, or JOB_NOT_FOUND. A job the caller may
   * not see (canAccess) answers exactly as a missing one, so no key learns which ids exist.
   */
  async get(jobId: string, caller: Principal): Promise<JobRecord> {
    const job = await this.records.get(this.partition, jobId);
    if (!job || !canAccess(caller, job.owner)) throw jobNotFound(jobId);
    return job;
  }

  /** Sends the job's queue message (QUEUE_UNAVAILABLE when that fails). */
  private async enqueue(job: JobRecord, contentHash: string, sync = false): Promise<void> {
    try {
      // A sync job (a request waits for it on this replica) names where the worker sends its job-finished notice.
      await this.queue.send(jobMessageOf(job, contentHash), { notifyUrl: sync ? this.notices?.urlFor(job.id) : undefined });
      this.admission?.sent();
    } catch (err) {
      this.log.error({ jobId: job.id, err }, 'Failed to enqueue job');
      throw new ApiError('QUEUE_UNAVAILABLE');
    }
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
