// The webhook outbox: one Table row per finished job that has a webhook URL, written in the
// same Table transaction as the job's terminal transition (src/jobs/records.ts), so a job
// that is finished always has its webhook waiting, whoever finished it (worker, API, recovery)
// and whatever dies afterwards. Any API replica of the pipeline delivers it
// (src/api/webhooks/dispatcher.ts): it claims a due row by ETag for a lease, delivers, and then
// deletes the row (delivered, or failed for good) or writes the next attempt's time.
//
// Rows live in the job's own partition (the pipeline's), RowKey `~webhook~<jobId>`: job ids are
// [a-z0-9-], all below `~`, so the outbox sorts after every record and is read as one key range.
// Outbox rows have no `status` column, so queries over records by status never see them.
// Times are ISO 8601 text (toISOString), so text order is time order in filters.
import { RestError, odata, type TableClient, type TableEntity, type TransactionAction } from '@azure/data-tables';
import type { JobRecord, WebhookState } from './schema.ts';

export const OUTBOX_ROW_PREFIX = '~webhook~';
/** The first key after every outbox row: `~` sorts after `~webhook~<jobId>` for any job id. */
const OUTBOX_ROW_END = '~webhook~~';
/** `claimedUntil` of a row nobody holds. */
const UNCLAIMED = new Date(0).toISOString();

export function outboxRowKey(jobId: string): string {
  return `${OUTBOX_ROW_PREFIX}${jobId}`;
}

/** The id a receiver sees in x-ocr-delivery on every attempt of one job's event: stable across replicas and restarts. */
export function deliveryId(jobId: string, status: string): string {
  return `${jobId}.${status}`;
}

/** One pending webhook, as stored. */
export interface OutboxEntry {
  pipeline: string;
  jobId: string;
  url: string;
  /** `job.<status>`, e.g. job.succeeded. */
  event: string;
  deliveryId: string;
  /** Attempts made so far. */
  attempts: number;
  /** Not before this time (ISO 8601). */
  nextAttemptAt: string;
  /** Held by a replica until this time (ISO 8601); the epoch when nobody holds it. */
  claimedUntil: string;
  lastError?: string;
  /** When the job finished and the row was written (ISO 8601). */
  createdAt: string;
  /** The row's ETag when it was read or claimed; every change is conditional on it. */
  etag: string;
}

/** The outbox row a terminal job with a webhook gets; written by JobRecords in the transaction of the terminal move. */
export function outboxEntity(record: JobRecord, now: string): TableEntity<Record<string, unknown>> {
  if (!record.webhookUrl) throw new Error(`job ${record.id} has no webhook URL`);
  return {
    partitionKey: record.pipeline,
    rowKey: outboxRowKey(record.id),
    jobId: record.id,
    url: record.webhookUrl,
    event: `job.${record.status}`,
    deliveryId: deliveryId(record.id, record.status),
    attempts: 0,
    nextAttemptAt: now,
    claimedUntil: UNCLAIMED,
    createdAt: now,
  };
}

function fromEntity(entity: Record<string, unknown>, pipeline: string): OutboxEntry {
  const text = (key: string): string => (typeof entity[key] === 'string' ? entity[key] : '');
  return {
    pipeline,
    jobId: text('jobId'),
    url: text('url'),
    event: text('event'),
    deliveryId: text('deliveryId'),
    attempts: typeof entity.attempts === 'number' ? entity.attempts : 0,
    nextAttemptAt: text('nextAttemptAt'),
    claimedUntil: text('claimedUntil'),
    ...(typeof entity.lastError === 'string' ? { lastError: entity.lastError } : {}),
    createdAt: text('createdAt'),
    etag: text('etag'),
  };
}

function isStatus(error: unknown, ...statuses: number[]): boolean {
  return error instanceof RestError && statuses.includes(error.statusCode ?? 0);
}

/** The backlog of one partition's outbox, for the gauges. */
export interface OutboxBacklog {
  rows: number;
  /** createdAt of the oldest row (ISO 8601), undefined when empty. */
  oldestCreatedAt: string | undefined;
  /** True when the count stopped at the scan limit. */
  truncated: boolean;
}

export class WebhookOutbox {
  private readonly table: TableClient;

  constructor(table: TableClient) {
    this.table = table;
  }

  private rangeFilter(pipeline: string): string {
    return odata`PartitionKey eq ${pipeline} and RowKey gt ${OUTBOX_ROW_PREFIX} and RowKey lt ${OUTBOX_ROW_END}`;
  }

  /** Up to `limit` rows that are due at `now` and held by nobody: one bounded page, oldest keys first. */
  async due(pipeline: string, now: string, limit: number): Promise<OutboxEntry[]> {
    const filter = `${this.rangeFilter(pipeline)} and ${odata`nextAttemptAt le ${now} and claimedUntil le ${now}`}`;
    const page = await this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: limit }).next();
    const entities: Record<string, unknown>[] = page.done ? [] : page.value;
    return entities.slice(0, limit).map((entity) => fromEntity(entity, pipeline));
  }

  /** The row of one job, if it is still pending. */
  async get(pipeline: string, jobId: string): Promise<OutboxEntry | undefined> {
    try {
      return fromEntity(await this.table.getEntity<Record<string, unknown>>(pipeline, outboxRowKey(jobId)), pipeline);
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /**
   * Takes the row for this replica until `until`, if nobody changed it since it was read (ETag).
   * Returns the claimed row with its new ETag, or undefined when another replica was first.
   */
  async claim(entry: OutboxEntry, until: string): Promise<OutboxEntry | undefined> {
    try {
      const response = await this.table.updateEntity({ partitionKey: entry.pipeline, rowKey: outboxRowKey(entry.jobId), claimedUntil: until }, 'Merge', {
        etag: entry.etag,
      });
      return { ...entry, claimedUntil: until, etag: response.etag ?? '' };
    } catch (error) {
      if (isStatus(error, 404, 412)) return undefined;
      throw error;
    }
  }

  /**
   * The webhook is settled (delivered, or failed for good): the row goes and the job's record
   * shows `state`, in one transaction. A record deleted meanwhile (DELETE, retention) only drops the row.
   */
  async settle(entry: OutboxEntry, state: WebhookState): Promise<void> {
    const row = { partitionKey: entry.pipeline, rowKey: outboxRowKey(entry.jobId) };
    const recordUpdate: TransactionAction = ['update', { partitionKey: entry.pipeline, rowKey: entry.jobId, webhook: JSON.stringify(state) }, 'Merge'];
    try {
      await this.table.submitTransaction([['delete', row], recordUpdate]);
    } catch (error) {
      // 404: the row (another replica settled it after our lease ran out) or the record is gone; do what still applies.
      if (!isStatus(error, 404)) throw error;
      await this.table.deleteEntity(row.partitionKey, row.rowKey).catch((err: unknown) => {
        if (!isStatus(err, 404)) throw err;
      });
      await this.table.updateEntity(recordUpdate[1], 'Merge').catch((err: unknown) => {
        if (!isStatus(err, 404)) throw err;
      });
    }
  }

  /**
   * An attempt failed and another is due at `nextAttemptAt`: the row (only if still ours: ETag)
   * and the record's webhook state are written together. Returns false when the row changed meanwhile.
   */
  async reschedule(entry: OutboxEntry, attempts: number, lastError: string, nextAttemptAt: string): Promise<boolean> {
    const row = { partitionKey: entry.pipeline, rowKey: outboxRowKey(entry.jobId), attempts, lastError, nextAttemptAt, claimedUntil: UNCLAIMED };
    const state: WebhookState = { state: 'pending', attempts, lastError };
    try {
      await this.table.submitTransaction([
        ['update', row, 'Merge', { etag: entry.etag }],
        ['update', { partitionKey: entry.pipeline, rowKey: entry.jobId, webhook: JSON.stringify(state) }, 'Merge'],
      ]);
      return true;
    } catch (error) {
      if (!isStatus(error, 404, 412)) throw error;
    }
    // The record is gone (404) or another replica holds the row (412): keep the schedule on the row alone, if still ours.
    try {
      await this.table.updateEntity(row, 'Merge', { etag: entry.etag });
      return true;
    } catch (error) {
      if (isStatus(error, 404, 412)) return false;
      throw error;
    }
  }

  /** Counts the partition's outbox rows (up to `limit`) and finds the oldest; a bounded scan of keys and createdAt only. */
  async backlog(pipeline: string, limit: number): Promise<OutboxBacklog> {
    let rows = 0;
    let oldest: string | undefined;
    const pages = this.table.listEntities<{ createdAt?: string }>({ queryOptions: { filter: this.rangeFilter(pipeline), select: ['createdAt'] } }).byPage({
      maxPageSize: Math.min(limit, 1000),
    });
    for await (const page of pages) {
      for (const entity of page) {
        rows++;
        if (typeof entity.createdAt === 'string' && (oldest === undefined || entity.createdAt < oldest)) oldest = entity.createdAt;
        if (rows >= limit) return { rows, oldestCreatedAt: oldest, truncated: true };
      }
    }
    return { rows, oldestCreatedAt: oldest, truncated: false };
  }
}
