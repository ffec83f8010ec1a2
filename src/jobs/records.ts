// Job records in Azure Table Storage: one table, one partition per pipeline (see
// pipelinePartition: the namespace is part of it), one row per job. Every status change is conditional on the ETag read before it, so two
// workers can never both move the same job; the move itself is checked against
// ALLOWED_TRANSITIONS.
import { RestError, type TableClient, type TableEntity } from '@azure/data-tables';
import { systemClock, type Clock } from '../shared/clock.ts';
import { ALLOWED_TRANSITIONS, JobRecord, canTransition, type JobStatus } from './schema.ts';

const JSON_FIELDS = ['languages', 'options'] as const;
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
    const valid = JobRecord.parse(record);
    await this.table.createEntity(toEntity(valid));
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
      const next: JobRecord = JobRecord.parse({ ...record, ...transition.patch, status: transition.to, updatedAt: new Date(this.clock()).toISOString() });
      try {
        await this.table.updateEntity(toEntity(next), 'Replace', { etag });
        return next;
      } catch (error) {
        if (!isStatus(error, 412)) throw error;
        // Someone else wrote in between: read again and re-check the move.
      }
    }
    throw new Error(`job ${jobId}: gave up after repeated concurrent updates`);
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
