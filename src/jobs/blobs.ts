// Images and results in Blob Storage. Uploads go straight from the client to
// `uploads/<jobId>` through a short-lived SAS URL scoped to that one blob. That blob
// stays writable until the URL expires, so the API writes the bytes it checked and
// hashed to `inputs/<jobId>` once (if-none-match) when it queues the job, and the
// worker reads only that. Results are written once to `results/<jobId>.json`
// (if-none-match), so a redelivered message can never replace a result with a different one.
import {
  BlobSASPermissions,
  RestError,
  generateBlobSASQueryParameters,
  type BlobServiceClient,
  type ContainerClient,
  type StorageSharedKeyCredential,
  type UserDelegationKey,
} from '@azure/storage-blob';
import type { Readable } from 'node:stream';
import { buffer as streamBytes } from 'node:stream/consumers';
import { systemClock, type Clock } from '../shared/clock.ts';
import { isoSecond, isoTime } from '../shared/iso-time.ts';
import { OcrResult, inputBlobPath, resultBlobPath, uploadBlobPath } from './schema.ts';

export class BlobTooLargeError extends Error {
  override name = 'BlobTooLargeError';
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super(`image is larger than the limit of ${limitBytes} bytes`);
    this.limitBytes = limitBytes;
  }
}

export class BlobMissingError extends Error {
  override name = 'BlobMissingError';
  readonly path: string;
  constructor(path: string) {
    super(`nothing was uploaded to ${path}`);
    this.path = path;
  }
}

export interface UploadUrl {
  url: string;
  expiresAt: string;
  method: 'PUT';
  headers: Record<string, string>;
}

/** Lifetime of a requested user delegation key, in hours (Azure allows up to 7 days); it must outlive the upload URLs signed with it. */
const DELEGATION_KEY_HOURS = 6;

/** The service version our shared-key SAS is signed for (its string-to-sign format holds from 2020-12-06 on). */
export const SAS_VERSION = '2022-11-02';

/** A date as SAS wants it: ISO 8601 to the second (the SDK's truncatedISO8061Date); formatted once per second (../shared/iso-time.ts). */
function sasDate(date: Date): string {
  return isoSecond(date.getTime());
}

/** The string-to-sign's fields after the canonical resource, all fixed: identifier, IP, protocol, version, resource "b", snapshot, encryption scope, five response headers. */
const SAS_SIGN_TAIL = ['', '', '', SAS_VERSION, 'b', '', '', '', '', '', '', ''].join('\n');

/**
 * A service SAS (shared key) that can create and write one blob: the string-to-sign and query of
 * the SDK's generateBlobSASQueryParameters for versions from 2020-12-06 (16 fields: permissions,
 * start, expiry, canonical resource, identifier, IP, protocol, version, resource "b", snapshot,
 * encryption scope, five response headers), without its per-call parsing and objects, which cost
 * more than the HMAC on the upload-URL path (bench/api/RESULTS.md). Signed on the unencoded values.
 */
export function sharedKeyBlobSas(key: StorageSharedKeyCredential, container: string, blobName: string, startsOn: Date, expiresOn: Date): string {
  const st = sasDate(startsOn);
  const se = sasDate(expiresOn);
  const toSign = `cw\n${st}\n${se}\n/blob/${key.accountName}/${container}/${blobName}\n${SAS_SIGN_TAIL}`;
  const sig = encodeURIComponent(key.computeHMACSHA256(toSign));
  return `sv=${SAS_VERSION}&st=${encodeURIComponent(st)}&se=${encodeURIComponent(se)}&sr=b&sp=cw&sig=${sig}`;
}

function isStatus(error: unknown, ...statuses: number[]): boolean {
  return error instanceof RestError && statuses.includes(error.statusCode ?? 0);
}

export class JobBlobs {
  readonly container: ContainerClient;
  private readonly service: BlobServiceClient;
  private readonly sharedKey: StorageSharedKeyCredential | undefined;
  private readonly clock: Clock;
  private ensured: Promise<void> | undefined;
  private delegation: Promise<UserDelegationKey> | undefined;

  constructor(service: BlobServiceClient, containerName: string, sharedKey?: StorageSharedKeyCredential, clock: Clock = systemClock) {
    this.service = service;
    this.container = service.getContainerClient(containerName);
    this.sharedKey = sharedKey;
    this.clock = clock;
  }

  async ensureContainer(): Promise<void> {
    this.ensured ??= this.container.createIfNotExists().then(
      () => undefined,
      (error: unknown) => {
        this.ensured = undefined;
        throw error;
      },
    );
    await this.ensured;
  }

  async ping(): Promise<void> {
    await this.ensureContainer();
    await this.container.getProperties();
  }

  /**
   * A user delegation key (workload identity) valid past `until`: one is requested for
   * DELEGATION_KEY_HOURS and reused for every URL it outlives, not requested per URL.
   */
  private async delegationKey(until: Date): Promise<UserDelegationKey> {
    const cached = this.delegation;
    if (cached && (await cached).signedExpiresOn.getTime() > until.getTime()) return await cached;
    const now = this.clock();
    const request = this.service.getUserDelegationKey(new Date(now - 60_000), new Date(now + DELEGATION_KEY_HOURS * 3_600_000));
    this.delegation = request;
    request.catch(() => {
      if (this.delegation === request) this.delegation = undefined;
    });
    return await request;
  }

  /** A SAS URL that can create or overwrite exactly `uploads/<jobId>` until it expires, and nothing else. */
  async uploadUrl(jobId: string, ttlSeconds: number): Promise<UploadUrl> {
    await this.ensureContainer();
    // Job ids are [a-z0-9-], so the blob's URL is the container's plus the path: no client object per URL.
    const blobName = uploadBlobPath(jobId);
    const now = this.clock();
    const startsOn = new Date(now - 60_000); // tolerate small clock skew
    const expiresOn = new Date(now + ttlSeconds * 1000);
    let sas: string;
    if (this.sharedKey) {
      sas = sharedKeyBlobSas(this.sharedKey, this.container.containerName, blobName, startsOn, expiresOn);
    } else {
      const key = await this.delegationKey(expiresOn);
      sas = generateBlobSASQueryParameters(
        { containerName: this.container.containerName, blobName, permissions: BlobSASPermissions.parse('cw'), startsOn, expiresOn },
        key,
        this.service.accountName,
      ).toString();
    }
    return {
      url: `${this.container.url}/${blobName}?${sas}`,
      expiresAt: isoTime(expiresOn.getTime()),
      method: 'PUT',
      headers: { 'x-ms-blob-type': 'BlockBlob' },
    };
  }

  /** Size and metadata (lower-case names) of the uploaded image, or undefined when nothing is there yet. */
  async uploadInfo(jobId: string): Promise<{ sizeBytes: number; metadata: Record<string, string> } | undefined> {
    try {
      const props = await this.container.getBlockBlobClient(uploadBlobPath(jobId)).getProperties();
      return { sizeBytes: props.contentLength ?? 0, metadata: props.metadata ?? {} };
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /** Size of the uploaded image, or undefined when nothing is there yet. */
  async uploadSize(jobId: string): Promise<number | undefined> {
    try {
      const props = await this.container.getBlockBlobClient(uploadBlobPath(jobId)).getProperties();
      return props.contentLength ?? 0;
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async putUpload(jobId: string, data: Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    await this.ensureContainer();
    await this.container.getBlockBlobClient(uploadBlobPath(jobId)).uploadData(data, { blobHTTPHeaders: { blobContentType: contentType } });
  }

  /**
   * Writes the job's checked image to `inputs/<jobId>`, the only blob a worker reads. Once:
   * if-none-match fails (409/412) when anything is already there, so an input never changes.
   */
  async putInput(jobId: string, data: Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    await this.ensureContainer();
    await this.container.getBlockBlobClient(inputBlobPath(jobId)).uploadData(data, {
      conditions: { ifNoneMatch: '*' },
      blobHTTPHeaders: { blobContentType: contentType },
    });
  }

  /**
   * Streams a job's input to `inputs/<jobId>` as the bytes arrive (the API's uploads, src/api/uploads.ts), once
   * (if-none-match, as putInput). Blocks of `blockBytes` (default 1 MiB) are staged with at most `maxConcurrency`
   * (default 2) in flight, so one upload holds about blockBytes x maxConcurrency of memory whatever the image's size;
   * the blob exists only once the block list is committed at the end. `abortSignal` stops the upload: nothing is committed.
   */
  async putInputStream(
    jobId: string,
    stream: Readable,
    contentType: string,
    options: { abortSignal?: AbortSignal; blockBytes?: number; maxConcurrency?: number } = {},
  ): Promise<void> {
    await this.ensureContainer();
    await this.container.getBlockBlobClient(inputBlobPath(jobId)).uploadStream(stream, options.blockBytes ?? 1024 * 1024, options.maxConcurrency ?? 2, {
      conditions: { ifNoneMatch: '*' },
      blobHTTPHeaders: { blobContentType: contentType },
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    });
  }

  /** Deletes a job's input (the compensation of a job that was never queued); a missing blob is fine. */
  async deleteInput(jobId: string): Promise<void> {
    await this.container.getBlockBlobClient(inputBlobPath(jobId)).deleteIfExists();
  }

  /** Deletes the client's upload `uploads/<jobId>` (an expired job); a missing blob is fine. */
  async deleteUpload(jobId: string): Promise<void> {
    await this.container.getBlockBlobClient(uploadBlobPath(jobId)).deleteIfExists();
  }

  /** Deletes every blob of a job (upload, input, result): DELETE /v1/jobs/{id} and retention. Missing blobs are fine. */
  async deleteJobBlobs(jobId: string): Promise<void> {
    await Promise.all(
      [uploadBlobPath(jobId), inputBlobPath(jobId), resultBlobPath(jobId)].map((path) => this.container.getBlockBlobClient(path).deleteIfExists()),
    );
  }

  /** Downloads an image (`uploads/<jobId>` or `inputs/<jobId>`), refusing (before reading it) anything over `maxBytes`. */
  async readUpload(blobPath: string, maxBytes: number, abortSignal?: AbortSignal): Promise<Buffer> {
    const blob = this.container.getBlockBlobClient(blobPath);
    const abort = abortSignal ? { abortSignal } : {};
    let size: number;
    try {
      size = (await blob.getProperties(abort)).contentLength ?? 0;
    } catch (error) {
      if (isStatus(error, 404)) throw new BlobMissingError(blobPath);
      throw error;
    }
    if (size > maxBytes) throw new BlobTooLargeError(maxBytes);
    if (size === 0) return Buffer.alloc(0);
    return await blob.downloadToBuffer(0, size, abort);
  }

  /**
   * Writes the result once. When a result is already there (a redelivered message that
   * was processed twice), the stored one wins and is returned: results never change.
   */
  async writeResult(result: OcrResult, abortSignal?: AbortSignal): Promise<{ result: OcrResult; written: boolean }> {
    await this.ensureContainer();
    const blob = this.container.getBlockBlobClient(resultBlobPath(result.jobId));
    const body = JSON.stringify(result);
    try {
      await blob.upload(body, Buffer.byteLength(body), {
        ...(abortSignal ? { abortSignal } : {}),
        conditions: { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/json' },
      });
      return { result, written: true };
    } catch (error) {
      if (!isStatus(error, 409, 412)) throw error;
      const existing = await this.readResult(result.jobId);
      if (!existing) throw error;
      return { result: existing, written: false };
    }
  }

  async readResult(jobId: string): Promise<OcrResult | undefined> {
    try {
      // One GET: downloadToBuffer() without a size asks for the blob's properties first, a second round trip on
      // the sync endpoint's path from a worker's notice to the answer (src/api/jobs/wait.ts).
      const response = await this.container.getBlockBlobClient(resultBlobPath(jobId)).download(0);
      const body = response.readableStreamBody ? await streamBytes(response.readableStreamBody) : Buffer.alloc(0);
      return OcrResult.parse(JSON.parse(body.toString('utf8')));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }
}
