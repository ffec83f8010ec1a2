// In-process implementations of the API's storage and queue interfaces, used ONLY
// for the benchmark figure labelled "API overhead without storage": they show what
// the API itself costs per request when the record write is free. They are our own
// implementations of RecordStore / ImageStore / JobQueue (same validation, same SAS
// signing done locally), not mocks of the Azure SDK.
import type { Readable } from 'node:stream';
import { CachedKeyCredential, sharedKeyBlobSas } from '../../src/jobs/index.ts';
import { JobRecord, canTransition, type JobMessage, type OcrResult, type Transition } from '../../src/jobs/index.ts';
import { TransitionRejectedError, JobNotFoundError, uploadBlobPath } from '../../src/jobs/index.ts';
import type { ImageStore, JobQueue, RecordStore } from '../../src/api/deps.ts';

export class MemoryRecords implements RecordStore {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly answers = new Map<string, string>();

  async ping(): Promise<void> {}

  async create(record: JobRecord): Promise<JobRecord> {
    const valid = JobRecord.parse(record);
    const key = `${valid.pipeline}/${valid.id}`;
    // As Table Storage answers a second create of the same row (commands treat 409 as a concurrent submit).
    if (this.jobs.has(key)) throw Object.assign(new Error(`job ${valid.id} exists`), { statusCode: 409 });
    this.jobs.set(key, valid);
    return valid;
  }

  async get(pipeline: string, jobId: string): Promise<JobRecord | undefined> {
    return this.jobs.get(`${pipeline}/${jobId}`);
  }

  async transition(pipeline: string, jobId: string, transition: Transition): Promise<JobRecord | undefined> {
    const record = this.jobs.get(`${pipeline}/${jobId}`);
    if (!record) throw new JobNotFoundError(jobId);
    if (transition.from && !transition.from.includes(record.status)) return undefined;
    if (!canTransition(record.status, transition.to)) throw new TransitionRejectedError(jobId, record.status, transition.to);
    const next = JobRecord.parse({ ...record, ...transition.patch, status: transition.to, updatedAt: new Date().toISOString() });
    this.jobs.set(`${pipeline}/${jobId}`, next);
    return next;
  }

  async remove(pipeline: string, jobId: string): Promise<void> {
    this.jobs.delete(`${pipeline}/${jobId}`);
  }

  async rememberResult(pipeline: string, key: string, jobId: string): Promise<void> {
    if (!this.answers.has(`${pipeline}/${key}`)) this.answers.set(`${pipeline}/${key}`, jobId);
  }

  async findResult(pipeline: string, key: string): Promise<string | undefined> {
    return this.answers.get(`${pipeline}/${key}`);
  }

  async delete(pipeline: string, jobId: string): Promise<void> {
    this.jobs.delete(`${pipeline}/${jobId}`);
  }

  async forgetResult(pipeline: string, key: string, jobId: string): Promise<void> {
    if (this.answers.get(`${pipeline}/${key}`) === jobId) this.answers.delete(`${pipeline}/${key}`);
  }
}

export class MemoryBlobs implements ImageStore {
  private readonly uploads = new Map<string, Uint8Array>();
  private readonly metadata = new Map<string, Record<string, string>>();
  private readonly results = new Map<string, OcrResult>();
  // The API's own credential class (key imported once), as production builds it from a connection string.
  private readonly key = new CachedKeyCredential('benchaccount', Buffer.alloc(64, 7).toString('base64'));

  async ping(): Promise<void> {}

  async uploadUrl(jobId: string, ttlSeconds: number): Promise<{ url: string; expiresAt: string; method: 'PUT'; headers: Record<string, string> }> {
    const now = Date.now();
    const expiresOn = new Date(now + ttlSeconds * 1000);
    // The API's own shared-key signer (src/jobs/blobs.ts), as JobBlobs.uploadUrl uses it.
    const sas = sharedKeyBlobSas(this.key, 'ocr', uploadBlobPath(jobId), new Date(now - 60_000), expiresOn);
    return {
      url: `http://127.0.0.1/benchaccount/ocr/${uploadBlobPath(jobId)}?${sas}`,
      expiresAt: expiresOn.toISOString(),
      method: 'PUT',
      headers: { 'x-ms-blob-type': 'BlockBlob' },
    };
  }

  async uploadInfo(jobId: string): Promise<{ sizeBytes: number; metadata: Record<string, string> } | undefined> {
    const data = this.uploads.get(jobId);
    return data && { sizeBytes: data.length, metadata: this.metadata.get(jobId) ?? {} };
  }

  async uploadSize(jobId: string): Promise<number | undefined> {
    return this.uploads.get(jobId)?.length;
  }

  async readUpload(blobPath: string): Promise<Buffer> {
    return Buffer.from(this.uploads.get(blobPath.replace(/^uploads\//, '')) ?? new Uint8Array(0));
  }

  /** A client's PUT through the upload URL; `metadata` as Blob Storage keeps the x-ms-meta-* headers (lower-case names). */
  async putUpload(jobId: string, data: Uint8Array, metadata: Record<string, string> = {}): Promise<void> {
    this.uploads.set(jobId, data);
    this.metadata.set(jobId, metadata);
  }

  /** The worker's input; one map with uploads is enough here (nothing in the benchmark PUTs after submit). */
  async putInput(jobId: string, data: Uint8Array): Promise<void> {
    this.uploads.set(jobId, data);
  }

  /** The streamed input, gathered in memory (this store holds everything in memory anyway). */
  async putInputStream(jobId: string, stream: Readable): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    this.uploads.set(jobId, Buffer.concat(chunks));
  }

  async deleteInput(jobId: string): Promise<void> {
    this.uploads.delete(jobId);
  }

  async readResult(jobId: string): Promise<OcrResult | undefined> {
    return this.results.get(jobId);
  }

  async deleteJobBlobs(jobId: string): Promise<void> {
    this.uploads.delete(jobId);
    this.results.delete(jobId);
  }

  writeResult(result: OcrResult): void {
    this.results.set(result.jobId, result);
  }
}

export class MemoryQueue implements JobQueue {
  sent = 0;
  async send(_message: JobMessage): Promise<void> {
    this.sent++;
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}
