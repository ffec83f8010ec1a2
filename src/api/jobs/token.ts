// Job tokens: what makes upload URLs stateless. POST /v1/jobs (JSON) writes nothing to
// storage; it hands the client a token that carries, signed, everything the record needs
// (job id, owner, records partition, upload blob name, declared size and type, languages,
// options, webhook, issue time, expiry). POST /v1/jobs/{id}/submit verifies the token before
// anything else and only then creates the record. An upload URL that is never submitted
// leaves no record, only its upload blob (removed by retention).
//
// Format: `v1.<base64url(JSON payload)>.<base64url(HMAC-SHA256(key, "v1." + payload part))>`.
// Keys (see docs/api.md "Job tokens"): JOB_TOKEN_SECRET, one or more secrets separated by
// commas; the first signs, every one verifies, so a key is rotated by putting the new one
// first, waiting one upload-URL lifetime (UPLOAD_URL_TTL_SECONDS), then dropping the old one.
// Without JOB_TOKEN_SECRET the key is derived (HKDF-SHA256) from a secret the API already
// holds: WEBHOOK_SECRET when set, else the API key file; with neither (API_AUTH=disabled and
// no webhooks) a random key per process, which only works with a single API replica.
import { createHmac, createSecretKey, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { JobId, Language, OcrOptions } from '../../jobs/index.ts';
import { ApiError } from '../errors.ts';

/** What a token says about its job; every field is covered by the signature. */
export const JobTokenClaims = z
  .object({
    /** The job id (`job-<uuid>`). */
    id: JobId,
    /** The key name that created the job (Principal.name). */
    owner: z.string().min(1).max(200),
    /** The records partition (`<namespace>.<pipeline>`): a token of another pipeline is refused. */
    pipeline: z.string().min(1).max(200),
    /** The one blob the upload URL can write (`uploads/<jobId>`). */
    blob: z.string().min(1).max(200),
    /** Declared image size in bytes, when the client declared one. */
    size: z.number().int().positive().optional(),
    /** Declared media type (image/png, ...), when the client declared one. */
    type: z.string().max(100).optional(),
    languages: z.array(Language).min(1).max(8),
    options: OcrOptions,
    webhookUrl: z.string().max(2048).optional(),
    fileName: z.string().max(255).optional(),
    /** Issued at, ms since the epoch (the job's createdAt). */
    iat: z.number().int().nonnegative(),
    /** Expires at, ms since the epoch (the upload URL's expiry). */
    exp: z.number().int().nonnegative(),
  })
  .strict();
export type JobTokenClaims = z.infer<typeof JobTokenClaims>;

const VERSION = 'v1';
const HKDF_INFO = 'ocr-platform job token v1';

/** Where the signing key came from; main logs it at start (never the key). */
export type JobTokenKeySource = 'JOB_TOKEN_SECRET' | 'WEBHOOK_SECRET' | 'API_KEYS_FILE' | 'per-process';

export interface JobTokenKeys {
  /** Signing key first, then keys that still verify (rotation). */
  keys: Buffer[];
  source: JobTokenKeySource;
}

/** Derives a 32-byte key from secret material the API already holds (HKDF-SHA256; salt fixed, info names the purpose). */
function derive(material: Buffer | string): Buffer {
  return Buffer.from(hkdfSync('sha256', material, 'ocr-platform', HKDF_INFO, 32));
}

/**
 * The token keys from the API's secrets, in the order of the file comment: JOB_TOKEN_SECRET
 * (comma-separated, first signs), else derived from WEBHOOK_SECRET, else from the API key
 * file's key digests (`apiKeyMaterial`), else random per process.
 */
export function jobTokenKeys(settings: {
  jobTokenSecret?: string | undefined;
  webhookSecret?: string | undefined;
  apiKeyMaterial?: Buffer | undefined;
}): JobTokenKeys {
  const listed = (settings.jobTokenSecret ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (listed.length > 0) return { keys: listed.map((s) => derive(s)), source: 'JOB_TOKEN_SECRET' };
  if (settings.webhookSecret) return { keys: [derive(settings.webhookSecret)], source: 'WEBHOOK_SECRET' };
  if (settings.apiKeyMaterial && settings.apiKeyMaterial.length > 0) return { keys: [derive(settings.apiKeyMaterial)], source: 'API_KEYS_FILE' };
  PROCESS_KEY ??= randomBytes(32);
  return { keys: [PROCESS_KEY], source: 'per-process' };
}

/** The last resort key, one per process (so several apps in one process, as in tests, agree). */
let PROCESS_KEY: Buffer | undefined;

function mac(key: KeyObject, signed: string): Buffer {
  return createHmac('sha256', key).update(signed).digest();
}

function invalid(reason: string): ApiError {
  return new ApiError('JOB_TOKEN_INVALID', `The job token is not valid: ${reason}.`, { reason });
}

/**
 * JOB_TOKEN_EXPIRED once `nowMs` reaches the token's expiry. Separate from verify so that submit can
 * return a job already recorded (a repeated submit) even after its upload URL expired.
 */
export function checkNotExpired(claims: JobTokenClaims, nowMs: number): void {
  if (nowMs < claims.exp) return;
  throw new ApiError('JOB_TOKEN_EXPIRED', `The upload URL and job token expired at ${new Date(claims.exp).toISOString()}; create a new job.`, {
    expiredAt: new Date(claims.exp).toISOString(),
  });
}

export class JobTokens {
  /** Imported once: createHmac with a KeyObject skips the per-call key import a Buffer costs. */
  private readonly keys: readonly KeyObject[];

  constructor(keys: JobTokenKeys) {
    if (keys.keys.length === 0) throw new Error('JobTokens needs at least one key');
    this.keys = keys.keys.map((k) => createSecretKey(k));
  }

  /** Signs the claims with the first key. */
  sign(claims: JobTokenClaims): string {
    const body = `${VERSION}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${body}.${mac(this.keys[0] as KeyObject, body).toString('base64url')}`;
  }

  /**
   * The claims of a token this API signed (any of its keys; compared in constant time), or
   * JOB_TOKEN_INVALID (malformed, forged, another job, another pipeline) / JOB_TOKEN_EXPIRED.
   * The owner is checked by the caller (a token of another key answers JOB_NOT_FOUND there).
   */
  verify(token: string, expected: { id: string; pipeline: string; nowMs: number | undefined }): JobTokenClaims {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION) throw invalid('not a v1 token');
    const body = `${parts[0]}.${parts[1]}`;
    const presented = Buffer.from(parts[2] ?? '', 'base64url');
    let matched = false;
    for (const key of this.keys) {
      const computed = mac(key, body);
      // timingSafeEqual needs equal lengths; a wrong length is a forgery either way.
      if (presented.length === computed.length && timingSafeEqual(presented, computed)) matched = true;
    }
    if (!matched) throw invalid('signature mismatch');
    let claims: JobTokenClaims;
    try {
      claims = JobTokenClaims.parse(JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')));
    } catch {
      throw invalid('unreadable claims');
    }
    if (claims.id !== expected.id) throw invalid('issued for another job');
    if (claims.pipeline !== expected.pipeline) throw invalid('issued for another pipeline');
    if (expected.nowMs !== undefined) checkNotExpired(claims, expected.nowMs);
    return claims;
  }

  /**
   * A keyed, deterministic job id for `parts` (`job-<uuid-shaped hex>`): the same caller, image and
   * options get the same id on every replica, so repeated cache hits reuse one record.
   */
  derivedJobId(parts: readonly string[]): string {
    const hex = mac(this.keys[0] as KeyObject, JSON.stringify(parts)).toString('hex');
    return `job-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  }
}
