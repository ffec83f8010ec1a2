// Job records in Azure Table Storage: one table, one partition per pipeline (see
// pipelinePartition: the namespace is part of it), one row per job. Every status change is conditional on the ETag read before it, so two
// workers can never both move the same job; the move itself is checked against
// ALLOWED_TRANSITIONS.
//
// A job with a webhook URL that reaches a terminal state gets its webhook outbox row
// (src/jobs/outbox.ts) in the same Table transaction as the move: one partition, one batch,
// so no finished job is ever without its pending webhook, whoever moved it.
import { RestError, odata, type TableClient, type TableEntity } from '@azure/data-tables';
import { systemClock, type Clock } from '../shared/clock.ts';
import { outboxEntity, outboxRowKey } from './outbox.ts';
import { ALLOWED_TRANSITIONS, JobRecord, canTransition, isTerminal, type JobStatus } from './schema.ts';

const JSON_FIELDS = ['languages', 'options', 'webhook'] as const;
const DEDUPE_PARTITION_PREFIX = 'dedupe~';

/** A Kubernetes namespace name (a DNS label), so it holds no `.` and none of the characters Table keys refuse. */
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The records partition of a pipeline, and so its dedupe scope (`dedupe~<partition>`):
 * `<namespace>.<name>`, so pipelines of the same name in different namespaces that share a
 * storage account never see each other's jobs or cached results. A namespace is a DNS label
 * (no `.`), so the first `.` separates it from the name, and `.` is allowed in Table keys
 * (`/`, `\`, `#` and `?` are not). Without a namespace (a hand-run or test API) the
 * partition is the name alone, as before namespaces were part of it, so such data stays readable.
 * The partition travels in the record's and the queue message's `pipeline` field; the worker, given
 * the same OCR_PIPELINE and OCR_NAMESPACE, serves only its own and dead-letters a message naming another (PIPELINE_MISMATCH).
 */
export function pipelinePartition(pipeline: string, namespace: string | undefined): string {
  if (namespace === undefined || namespace === '') return pipeline;
  if (!NAMESPACE_NAME.test(namespace)) throw new Error(`namespace "${namespace}" is not a Kubernetes namespace name (a DNS label: a-z, 0-9, "-")`);
  return `${namespace}.${pipeline}`;
}

export class JobNotFoundError extends Error {
  override name = 'JobNotFoundError';
  readonly jobId: string;
  constructor(jobId: string) {
    super(`job ${jobId} does not exist`);
    this.jobId = jobId;
  }
}

export class TransitionRejectedError extends Error {
  override name = 'TransitionRejectedError';
  readonly jobId: string;
  readonly from: JobStatus;
  readonly to: JobStatus;
  constructor(jobId: string, from: JobStatus, to: JobStatus) {
    super(`job ${jobId} cannot move from ${from} to ${to} (allowed: ${ALLOWED_TRANSITIONS[from].join(', ') || 'none'})`);
    this.jobId = jobId;
    this.from = from;
    this.to = to;
  }
}

type Entity = TableEntity<Record<string, unknown>>;

function toEntity(record: JobRecord): Entity {
  const entity: Entity = { partitionKey: record.pipeline, rowKey: record.id };
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined) continue;
    entity[key] = (JSON_FIELDS as readonly string[]).includes(key) ? JSON.stringify(value) : value;
  }
  return entity;
}

function fromEntity(entity: Record<string, unknown>): JobRecord {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entity)) {
    if (key === 'partitionKey' || key === 'rowKey' || key === 'etag' || key === 'timestamp' || key.startsWith('odata')) continue;
    plain[key] = (JSON_FIELDS as readonly string[]).includes(key) && typeof value === 'string' ? JSON.parse(value) : value;
  }
  return JobRecord.parse(plain);
}

function isStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}

export interface Transition {
  to: JobStatus;
  /** Only move when the job is in one of these states (defaults to every state the move is allowed from). */
  from?: readonly JobStatus[];
  patch?: Partial<Omit<JobRecord, 'id' | 'pipeline' | 'status'>>;
}

export class JobRecords {
  private readonly table: TableClient;
  private readonly clock: Clock;
  private ensured: Promise<void> | undefined;

  constructor(table: TableClient, clock: Clock = systemClock) {
    this.table = table;
    this.clock = clock;
  }

  /** Creates the table once per process; safe to call on every request. */
  async ensureTable(): Promise<void> {
    this.ensured ??= this.table.createTable().catch((error: unknown) => {
      this.ensured = undefined;
      throw error;
    });
    await this.ensured;
  }

  async ping(): Promise<void> {
    await this.ensureTable();
    const iterator = this.table.listEntities({ queryOptions: { filter: "PartitionKey eq '~ping'" } }).byPage({ maxPageSize: 1 });
    await iterator.next();
  }

  async create(record: JobRecord): Promise<JobRecord> {
    await this.ensureTable();
    const valid = this.withWebhook(JobRecord.parse(record));
    if (valid.webhook) {
      // Born finished (a cache hit) with a webhook: the record and its outbox row, or neither.
      await this.table.submitTransaction([
        ['create', toEntity(valid)],
        ['upsert', outboxEntity(valid, valid.updatedAt), 'Replace'],
      ]);
    } else await this.table.createEntity(toEntity(valid));
    return valid;
  }

  async get(pipeline: string, jobId: string): Promise<JobRecord | undefined> {
    const found = await this.getWithEtag(pipeline, jobId);
    return found?.record;
  }

  private async getWithEtag(pipeline: string, jobId: string): Promise<{ record: JobRecord; etag: string } | undefined> {
    await this.ensureTable();
    try {
      const entity = await this.table.getEntity<Record<string, unknown>>(pipeline, jobId);
      return { record: fromEntity(entity), etag: entity.etag };
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /**
   * Moves a job to a new status if, and only if, it is still in an allowed state when the
   * write lands. Returns the new record, or `undefined` when the job was already elsewhere
   * (someone else moved it first) and the move no longer applies.
   */
  async transition(pipeline: string, jobId: string, transition: Transition): Promise<JobRecord | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.getWithEtag(pipeline, jobId);
      if (!current) throw new JobNotFoundError(jobId);
      const { record, etag } = current;
      const from = transition.from ?? (Object.keys(ALLOWED_TRANSITIONS) as JobStatus[]);
      if (!from.includes(record.status)) return undefined;
      if (!canTransition(record.status, transition.to)) throw new TransitionRejectedError(jobId, record.status, transition.to);
      const next = this.withWebhook(
        JobRecord.parse({ ...record, ...transition.patch, status: transition.to, updatedAt: new Date(this.clock()).toISOString() }),
      );
      try {
        if (next.webhook) {
          await this.table.submitTransaction([
            ['update', toEntity(next), 'Replace', { etag }],
            ['upsert', outboxEntity(next, next.updatedAt), 'Replace'],
          ]);
        } else await this.table.updateEntity(toEntity(next), 'Replace', { etag });
        return next;
      } catch (error) {
        if (!isStatus(error, 412)) throw error;
        // Someone else wrote in between: read again and re-check the move.
      }
    }
    throw new Error(`job ${jobId}: gave up after repeated concurrent updates`);
  }

  /** A terminal record with a webhook URL starts its webhook as pending (its outbox row is written with it). */
  private withWebhook(record: JobRecord): JobRecord {
    if (!record.webhookUrl || !isTerminal(record.status) || record.webhook) return record;
    return { ...record, webhook: { state: 'pending', attempts: 0 } };
  }

  /** Deletes a record that never became a job (used to leave no half-made job behind). */
  async remove(pipeline: string, jobId: string): Promise<void> {
    try {
      await this.table.deleteEntity(pipeline, jobId);
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }

  /** Remembers which job answers a dedupe key. First writer wins. */
  async rememberResult(pipeline: string, key: string, jobId: string): Promise<void> {
    await this.ensureTable();
    try {
      await this.table.createEntity({ partitionKey: DEDUPE_PARTITION_PREFIX + pipeline, rowKey: key, jobId });
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
    }
  }

  /**
   * Up to `limit` jobs of the partition in one of `statuses` whose updatedAt is before `updatedBefore` (ISO 8601,
   * compared as text: every timestamp is toISOString(), so text order is time order). One bounded page per call:
   * recovery takes at most `limit` per pass and the next pass takes the rest.
   */
  async findStale(pipeline: string, statuses: readonly JobStatus[], updatedBefore: string, limit: number): Promise<JobRecord[]> {
    await this.ensureTable();
    const byStatus = statuses.map((status) => odata`status eq ${status}`).join(' or ');
    const filter = `${odata`PartitionKey eq ${pipeline} and updatedAt lt ${updatedBefore}`} and (${byStatus})`;
    const page = await this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: limit }).next();
    const entities: Record<string, unknown>[] = page.done ? [] : page.value;
    return entities.slice(0, limit).map(fromEntity);
  }

  /**
   * Deletes a job's record whatever its state, and its webhook outbox row (DELETE /v1/jobs/{id}, retention): the row
   * first, so no webhook is delivered for a job that no longer exists. Missing rows are fine.
   */
  async delete(pipeline: string, jobId: string): Promise<void> {
    await this.remove(pipeline, outboxRowKey(jobId));
    await this.remove(pipeline, jobId);
  }

  /** Up to `limit` dedupe entries of the partition written before `before` (the row's server Timestamp). */
  async findResultsBefore(pipeline: string, before: Date, limit: number): Promise<{ key: string; jobId: string }[]> {
    await this.ensureTable();
    const filter = odata`PartitionKey eq ${DEDUPE_PARTITION_PREFIX + pipeline} and Timestamp lt ${before}`;
    const page = await this.table.listEntities<{ jobId: string }>({ queryOptions: { filter } }).byPage({ maxPageSize: limit }).next();
    const entities: { rowKey?: string; jobId: string }[] = page.done ? [] : page.value;
    return entities.slice(0, limit).map((entity) => ({ key: entity.rowKey ?? '', jobId: entity.jobId }));
  }

  /** Forgets a dedupe entry, but only while it still names `jobId` (the entry of a deleted or retired job). */
  async forgetResult(pipeline: string, key: string, jobId: string): Promise<void> {
    await this.ensureTable();
    try {
      const entity = await this.table.getEntity<{ jobId: string }>(DEDUPE_PARTITION_PREFIX + pipeline, key);
      if (entity.jobId !== jobId) return;
      await this.table.deleteEntity(DEDUPE_PARTITION_PREFIX + pipeline, key, { etag: entity.etag });
    } catch (error) {
      if (!isStatus(error, 404) && !isStatus(error, 412)) throw error;
    }
  }

  /** The finished job that answers this dedupe key, if any. */
  async findResult(pipeline: string, key: string): Promise<string | undefined> {
    await this.ensureTable();
    try {
      const entity = await this.table.getEntity<{ jobId: string }>(DEDUPE_PARTITION_PREFIX + pipeline, key);
      return entity.jobId;
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }
}
