// The recovery loop of one pipeline, in the API pods (they hold the storage and queue
// rights; the operator gains no data-plane access). Every `intervalSeconds` the runner
// holds (acquires or renews) the pipeline's Blob lease (lease.ts); only the holder runs a
// pass. A pass, each step bounded by `batchSize`:
//   1. dead letters: each message's job is failed with the broker's reason (the move writes
//      its webhook outbox row), onTerminal is called, then the message is completed;
//   2. stale queued and processing jobs: sent again, or failed after maxRequeues;
//   3. awaiting_upload past its deadline: expired, upload deleted;
//   4. retention: finished jobs past retentionHours deleted (blobs, dedupe entry, record last,
//      so a pass that dies half-way is finished by the next), and dedupe entries past the
//      result cache TTL forgotten;
//   5. client uploads (`uploads/<jobId>`) of this pipeline whose job token has expired and that
//      are older than the upload deadline deleted (sweepUpload in decide.ts): with stateless
//      upload URLs an unsubmitted job has no record to expire; a submitted job reads its checked
//      copy in `inputs/`.
// What happens to each job is decided in decide.ts; this file only finds and applies.
import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import {
  JobNotFoundError,
  dedupeKeysOf,
  jobMessageOf,
  parseJobMessage,
  type JobBlobs,
  type JobErrorCode,
  type JobMessage,
  type JobRecord,
  type JobRecords,
  type JobStatus,
} from '../../jobs/index.ts';
import { systemClock, type Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { RecoverySettings } from '../config.ts';
import type { JobQueue } from '../deps.ts';
import type { ApiMetrics } from '../metrics.ts';
import { deadLetterFailure, decide, oldestQueuedSeconds, sweepUpload, type RecoveryAction } from './decide.ts';
import { RecoveryLease } from './lease.ts';

/** The dead-letter subqueue as recovery uses it: `client.createReceiver(queue, { subQueueType: 'deadLetter' })`. */
export type DeadLetters = Pick<ServiceBusReceiver, 'receiveMessages' | 'completeMessage' | 'abandonMessage' | 'close'>;

/** Called after recovery moved a job to failed (dead-lettered, timed out): the webhook fires from here. */
export type OnTerminal = (record: JobRecord) => void | Promise<void>;

export interface RecoveryDeps {
  /** The records partition (pipelinePartition): the jobs and the dedupe scope this runner owns. */
  partition: string;
  settings: RecoverySettings;
  records: Pick<JobRecords, 'findStale' | 'transition' | 'delete' | 'findResultsBefore' | 'forgetResult'>;
  blobs: Pick<JobBlobs, 'container' | 'ensureContainer' | 'deleteUpload' | 'deleteJobBlobs'>;
  queue: Pick<JobQueue, 'send'>;
  /** undefined: no dead-letter receiver (the DLQ step is skipped). */
  deadLetters: DeadLetters | undefined;
  /**
   * Called after recovery moved a job to failed. The webhook needs nothing from here: the move itself writes the job's
   * webhook outbox row (src/jobs/records.ts); this is for anything else that should react (tests observe it). Default none.
   */
  onTerminal?: OnTerminal;
  metrics: ApiMetrics;
  log: Logger;
  clock?: Clock;
  /** How long one pass waits for dead letters when there are none, in ms (default 1,000). */
  deadLetterWaitMs?: number;
}

/** What one pass did, by step (tests and the debug log read it). */
export interface PassSummary {
  deadLettered: number;
  requeued: number;
  timedOut: number;
  expired: number;
  retired: number;
  forgotten: number;
  /** Client uploads deleted past the upload deadline. */
  uploadsSwept: number;
  /** Steps that failed this pass (logged); the others ran. */
  failedSteps: string[];
}

/** The metadata name (lower case, as Blob Storage returns it) of the job token an upload's PUT carries (x-ms-meta-ocrjobtoken). */
const UPLOAD_TOKEN_METADATA = 'ocrjobtoken';

/** Jobs read per pass to find the oldest queued one (the gauge); a random sample beyond it, as rows come in job id order. */
const QUEUED_SAMPLE = 1_000;

export class RecoveryRunner {
  private readonly deps: RecoveryDeps;
  private readonly clock: Clock;
  private readonly lease: RecoveryLease;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  /** Where the upload sweep continues next pass (a Blob listing marker); undefined: from the start. */
  private uploadsMarker: string | undefined;

  constructor(deps: RecoveryDeps) {
    this.deps = deps;
    this.clock = deps.clock ?? systemClock;
    this.lease = new RecoveryLease(deps.blobs.container, deps.partition, deps.settings.leaseSeconds);
  }

  get holdsLease(): boolean {
    return this.lease.isHeld;
  }

  /** Runs a tick now, then every intervalSeconds until stop(). */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the loop, waits for a running pass, and releases the lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.lease.release();
    await this.deps.deadLetters?.close().catch(() => undefined);
    this.deps.metrics.recoveryLeaseHeld.set(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule(this.deps.settings.intervalSeconds * 1000);
      });
    }, delayMs);
    this.timer.unref();
  }

  /** Holds the lease, and runs a pass when this runner is the holder. Never throws: a failed tick is logged and retried next interval. */
  async tick(): Promise<PassSummary | undefined> {
    const { log, metrics } = this.deps;
    try {
      await this.deps.blobs.ensureContainer();
      const held = await this.lease.hold();
      metrics.recoveryLeaseHeld.set(held ? 1 : 0);
      if (!held || this.stopped) return undefined;
    } catch (err) {
      metrics.recoveryPasses.inc({ outcome: 'error' });
      log.error({ err, pipeline: this.deps.partition }, 'Failed to hold the recovery lease');
      return undefined;
    }
    const summary = await this.runPass();
    metrics.recoveryPasses.inc({ outcome: summary.failedSteps.length === 0 ? 'ok' : 'error' });
    const { failedSteps, ...counts } = summary;
    if (failedSteps.length > 0 || Object.values(counts).some((n) => n > 0)) log.info({ ...summary, pipeline: this.deps.partition }, 'Finished recovery pass');
    return summary;
  }

  /**
   * One pass over the partition (the caller holds the lease; tests call it directly). Each step runs on its own: one
   * that fails (storage or the queue unreachable, a right missing) is logged and named in failedSteps, the others still run.
   */
  async runPass(): Promise<PassSummary> {
    const summary: PassSummary = { deadLettered: 0, requeued: 0, timedOut: 0, expired: 0, retired: 0, forgotten: 0, uploadsSwept: 0, failedSteps: [] };
    const { settings } = this.deps;
    const steps: [string, () => Promise<void>][] = [
      ['dead_letters', async () => void (summary.deadLettered = await this.drainDeadLetters())],
      ['stale_queued', () => this.handleStale(['queued'], settings.queuedDeadlineSeconds, summary)],
      ['stale_processing', () => this.handleStale(['processing'], settings.processingDeadlineSeconds, summary)],
      ['expired_uploads', () => this.handleStale(['awaiting_upload'], settings.uploadDeadlineSeconds, summary)],
      ['retention', () => this.handleStale(['succeeded', 'failed', 'expired'], settings.retentionHours * 3600, summary)],
      ['result_cache_ttl', async () => void (summary.forgotten = await this.forgetOldResults())],
      ['upload_sweep', async () => void (summary.uploadsSwept = await this.sweepUploads())],
      ['oldest_queued', () => this.measureQueue()],
    ];
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (err) {
        summary.failedSteps.push(name);
        this.deps.log.error({ err, step: name, pipeline: this.deps.partition }, 'Failed recovery step');
      }
    }
    return summary;
  }

  private now(): number {
    return this.clock();
  }

  /** Reads up to batchSize dead letters; each is completed once its job is failed (or has nothing left to fail). */
  private async drainDeadLetters(): Promise<number> {
    const { deadLetters, settings } = this.deps;
    if (!deadLetters) return 0;
    const messages = await deadLetters.receiveMessages(settings.batchSize, { maxWaitTimeInMs: this.deps.deadLetterWaitMs ?? 1_000 });
    let settled = 0;
    for (const message of messages) {
      try {
        const outcome = await this.failDeadLettered(message);
        await deadLetters.completeMessage(message);
        this.deps.metrics.deadLettered.inc({ outcome });
        settled++;
      } catch (err) {
        // Storage down or the lock lost: the message stays in the dead-letter queue for the next pass.
        this.deps.log.error({ err, messageId: message.messageId }, 'Failed to settle dead-lettered message');
        await deadLetters.abandonMessage(message).catch(() => undefined);
      }
    }
    return settled;
  }

  private async failDeadLettered(message: ServiceBusReceivedMessage): Promise<'failed' | 'already_terminal' | 'unknown_job' | 'unreadable'> {
    let job: JobMessage;
    try {
      job = parseJobMessage(message.body);
    } catch (err) {
      this.deps.log.warn({ err, messageId: message.messageId, reason: message.deadLetterReason }, 'Dropped unreadable dead-lettered message');
      return 'unreadable';
    }
    if (job.pipeline !== this.deps.partition) {
      this.deps.log.warn({ jobId: job.jobId, pipeline: job.pipeline, reason: message.deadLetterReason }, 'Dropped dead-lettered message of another pipeline');
      return 'unknown_job';
    }
    const failure = deadLetterFailure(message.deadLetterReason, message.deadLetterErrorDescription);
    try {
      const failed = await this.deps.records.transition(this.deps.partition, job.jobId, {
        to: 'failed',
        from: ['queued', 'processing'],
        patch: { errorCode: failure.code, errorMessage: failure.message, finishedAt: new Date(this.now()).toISOString() },
      });
      if (!failed) return 'already_terminal';
      this.deps.log.warn({ jobId: job.jobId, code: failure.code, reason: message.deadLetterReason }, 'Failed dead-lettered job');
      await this.deps.onTerminal?.(failed);
      return 'failed';
    } catch (error) {
      if (error instanceof JobNotFoundError) return 'unknown_job';
      throw error;
    }
  }

  /** Finds up to batchSize jobs in `statuses` unchanged for `minAgeSeconds` and applies what decide() says. */
  private async handleStale(statuses: readonly JobStatus[], minAgeSeconds: number, summary: PassSummary): Promise<void> {
    const before = new Date(this.now() - minAgeSeconds * 1000).toISOString();
    const stale = await this.deps.records.findStale(this.deps.partition, statuses, before, this.deps.settings.batchSize);
    for (const record of stale) {
      const action = decide(record, this.now(), this.deps.settings);
      try {
        await this.apply(record, action, summary);
      } catch (err) {
        this.deps.log.error({ err, jobId: record.id, action: action.kind }, 'Failed to recover job');
      }
    }
  }

  private async apply(record: JobRecord, action: RecoveryAction, summary: PassSummary): Promise<void> {
    switch (action.kind) {
      case 'requeue':
        if (await this.requeue(record, action.reason)) summary.requeued++;
        return;
      case 'fail':
        if (await this.fail(record, action.code, action.message)) summary.timedOut++;
        return;
      case 'expire':
        if (await this.expire(record, action.message)) summary.expired++;
        return;
      case 'retire':
        await this.retire(record);
        summary.retired++;
        return;
      case 'none':
        return;
    }
  }

  /** Counts the send, then sends the message again (a duplicate is harmless: the worker writes one result). */
  private async requeue(record: JobRecord, reason: string): Promise<boolean> {
    if (record.contentHash === undefined) return await this.fail(record, 'INVALID_MESSAGE', 'the job has no content hash to queue it with');
    const moved = await this.deps.records.transition(this.deps.partition, record.id, {
      to: 'queued',
      from: [record.status],
      patch: { requeues: (record.requeues ?? 0) + 1 },
    });
    if (!moved) return false;
    await this.deps.queue.send(jobMessageOf(moved, record.contentHash));
    this.deps.metrics.recovered.inc({ state: record.status });
    this.deps.log.warn({ jobId: record.id, was: record.status, requeues: moved.requeues, reason }, 'Sent stale job again');
    return true;
  }

  private async fail(record: JobRecord, code: JobErrorCode, message: string): Promise<boolean> {
    const failed = await this.deps.records.transition(this.deps.partition, record.id, {
      to: 'failed',
      from: [record.status],
      patch: { errorCode: code, errorMessage: message, finishedAt: new Date(this.now()).toISOString() },
    });
    if (!failed) return false;
    this.deps.metrics.timedOut.inc({ code });
    this.deps.log.warn({ jobId: record.id, code }, 'Failed stale job');
    await this.deps.onTerminal?.(failed);
    return true;
  }

  private async expire(record: JobRecord, message: string): Promise<boolean> {
    const expired = await this.deps.records.transition(this.deps.partition, record.id, {
      to: 'expired',
      from: ['awaiting_upload'],
      patch: { errorCode: 'UPLOAD_EXPIRED', errorMessage: message, finishedAt: new Date(this.now()).toISOString() },
    });
    if (!expired) return false;
    await this.deps.blobs.deleteUpload(record.id);
    this.deps.metrics.expired.inc();
    return true;
  }

  /** Blobs and dedupe entry first, the record last: a pass that dies half-way leaves the record, and the next pass finishes. */
  private async retire(record: JobRecord): Promise<void> {
    await this.deps.blobs.deleteJobBlobs(record.id);
    if (record.contentHash !== undefined && record.status === 'succeeded' && record.resultOf === undefined) {
      const keys = dedupeKeysOf(record.contentHash, record.languages, record.options);
      await Promise.all(keys.map(async (key) => await this.deps.records.forgetResult(this.deps.partition, key, record.id)));
    }
    await this.deps.records.delete(this.deps.partition, record.id);
    this.deps.metrics.retentionDeleted.inc({ kind: 'job' });
  }

  private async forgetOldResults(): Promise<number> {
    const before = new Date(this.now() - this.deps.settings.resultCacheTtlHours * 3_600_000);
    const old = await this.deps.records.findResultsBefore(this.deps.partition, before, this.deps.settings.batchSize);
    for (const entry of old) {
      await this.deps.records.forgetResult(this.deps.partition, entry.key, entry.jobId);
      this.deps.metrics.retentionDeleted.inc({ kind: 'cache_entry' });
    }
    return old.length;
  }

  /**
   * Reads one page (batchSize names) of `uploads/` with metadata, continuing where the last pass stopped, and deletes
   * the uploads sweepUpload (decide.ts) gives up. Listing is in name order, not age, so the marker walks the whole prefix
   * over successive passes and starts again at the end.
   */
  private async sweepUploads(): Promise<number> {
    const { blobs, settings } = this.deps;
    const pages = blobs.container.listBlobsFlat({ prefix: 'uploads/', includeMetadata: true }).byPage({
      maxPageSize: settings.batchSize,
      ...(this.uploadsMarker ? { continuationToken: this.uploadsMarker } : {}),
    });
    const page = await pages.next();
    if (page.done) {
      this.uploadsMarker = undefined;
      return 0;
    }
    this.uploadsMarker = page.value.continuationToken || undefined;
    let swept = 0;
    for (const item of page.value.segment.blobItems) {
      const upload = { lastModifiedMs: item.properties.lastModified.getTime(), token: item.metadata?.[UPLOAD_TOKEN_METADATA] };
      if (!sweepUpload(upload, this.deps.partition, this.now(), settings.uploadDeadlineSeconds)) continue;
      await blobs.container.getBlockBlobClient(item.name).deleteIfExists();
      this.deps.metrics.retentionDeleted.inc({ kind: 'upload' });
      swept++;
    }
    return swept;
  }

  private async measureQueue(): Promise<void> {
    const queued = await this.deps.records.findStale(this.deps.partition, ['queued'], new Date(this.now() + 1_000).toISOString(), QUEUED_SAMPLE);
    this.deps.metrics.oldestQueuedAge.set(oldestQueuedSeconds(queued, this.now()));
  }
}
