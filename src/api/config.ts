// API settings from the environment the operator gives the API pod. Every variable
// is listed in HELP (printed by `node src/api/main.ts --help`); a wrong value stops
// start-up with a message that names the variable.
import { readFileSync } from 'node:fs';
import { ConfigError, envInt, envList, envOptional, envString } from '../shared/env.ts';
import { LANGUAGE_PATTERN } from '../jobs/schema.ts';
import { ApiKeys } from './auth.ts';

export interface ApiConfig {
  port: number;
  pipeline: string;
  namespace: string | undefined;
  /** Languages this pipeline's workers have loaded; requests for others are refused. */
  languages: string[];
  /** Largest image accepted, in bytes (multipart, raw body, or uploaded blob). */
  maxUploadBytes: number;
  /** Requests per minute per API key (or per client address when auth is disabled); 0 = no limit. */
  rateLimitPerMinute: number;
  uploadUrlTtlSeconds: number;
  syncTimeoutSeconds: number;
  /** How often the sync endpoint and the webhook watcher re-read a job record, in ms. */
  pollIntervalMs: number;
  webhookSecret: string | undefined;
  /** Attempts and backoff for webhook delivery. */
  webhookAttempts: number;
  webhookBaseDelayMs: number;
  /** How long /ready reuses a dependency check, in ms. */
  readyCacheMs: number;
}

export const DEFAULTS = {
  port: 8080,
  maxUploadBytes: 10 * 1024 * 1024,
  rateLimitPerMinute: 600,
  uploadUrlTtlSeconds: 900,
  syncTimeoutSeconds: 30,
  pollIntervalMs: 250,
  webhookAttempts: 6,
  webhookBaseDelayMs: 1_000,
  readyCacheMs: 5_000,
} as const;

export const HELP = `ocr-platform API: upload URLs, jobs, results, webhooks.

Usage: node src/api/main.ts            (dist/api/main.js in the image)
       node src/api/main.ts --help

Environment:
  PORT                          HTTP port (default ${DEFAULTS.port})
  OCR_PIPELINE                  pipeline name; partitions job records (default "default")
  OCR_NAMESPACE                 Kubernetes namespace, for logs
  OCR_LANGUAGES                 comma-separated languages the workers serve (default "eng")
  OCR_QUEUE_NAME                Service Bus queue (default "ocr-jobs")
  SERVICEBUS_CONNECTION_STRING  Service Bus connection string, or
  SERVICEBUS_NAMESPACE          fully qualified namespace, with workload identity
  BLOB_CONNECTION_STRING        storage connection string (Blob + Table), or
  BLOB_ACCOUNT_URL              https://<account>.blob.core.windows.net, with workload identity
  BLOB_CONTAINER                container for uploads and results (default "ocr")
  JOBS_TABLE                    table for job records (default "ocrjobs")
  API_MAX_UPLOAD_BYTES          largest image in bytes (default ${DEFAULTS.maxUploadBytes})
  API_RATE_LIMIT_PER_MINUTE     requests per minute per API key, per replica; 0 = off (default ${DEFAULTS.rateLimitPerMinute})
  API_KEYS_FILE                 file with one API key per line, or name:key (mounted from a Secret)
  API_AUTH                      set to "disabled" to run without API keys (only when API_KEYS_FILE is unset)
  WEBHOOK_SECRET                HMAC-SHA256 secret for webhook signatures; unset = webhooks refused
  UPLOAD_URL_TTL_SECONDS        lifetime of upload URLs (default ${DEFAULTS.uploadUrlTtlSeconds})
  SYNC_TIMEOUT_SECONDS          how long POST /v1/ocr waits before answering 202 (default ${DEFAULTS.syncTimeoutSeconds})
  API_POLL_INTERVAL_MS          how often waiters re-read a job record (default ${DEFAULTS.pollIntervalMs})
  WEBHOOK_ATTEMPTS              webhook delivery attempts (default ${DEFAULTS.webhookAttempts})
  WEBHOOK_BASE_DELAY_MS         first webhook retry delay, doubled up to 30 s (default ${DEFAULTS.webhookBaseDelayMs})
  LOG_LEVEL                     pino level (default info)
`;

/** Loads API keys, or decides that auth is off. Refuses to guess: no file and no explicit opt-out is an error. */
export function loadApiKeys(env: NodeJS.ProcessEnv = process.env, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): ApiKeys | undefined {
  const file = env.API_KEYS_FILE || undefined;
  const auth = env.API_AUTH || undefined;
  if (file) {
    let text: string;
    try {
      text = read(file);
    } catch (error) {
      throw new ConfigError(`API_KEYS_FILE=${file} cannot be read (${(error as Error).message}); mount the API key Secret there`);
    }
    const keys = ApiKeys.parse(text);
    if (keys.size === 0) throw new ConfigError(`API_KEYS_FILE=${file} holds no keys; add one key per line (or name:key)`);
    return keys;
  }
  if (auth === 'disabled') return undefined;
  throw new ConfigError('API_KEYS_FILE is not set: mount an API key Secret and point API_KEYS_FILE at it, or set API_AUTH=disabled to run without authentication');
}

export function configFromEnv(): ApiConfig {
  const languages = envList('OCR_LANGUAGES', ['eng']);
  for (const language of languages) {
    if (!LANGUAGE_PATTERN.test(language)) throw new ConfigError(`OCR_LANGUAGES has "${language}", which is not a tesseract language code such as eng or chi_sim`);
  }
  return {
    port: envInt('PORT', DEFAULTS.port, { min: 0, max: 65535 }),
    pipeline: envString('OCR_PIPELINE', 'default'),
    namespace: envOptional('OCR_NAMESPACE'),
    languages,
    maxUploadBytes: envInt('API_MAX_UPLOAD_BYTES', DEFAULTS.maxUploadBytes, { min: 1024, max: 512 * 1024 * 1024 }),
    rateLimitPerMinute: envInt('API_RATE_LIMIT_PER_MINUTE', DEFAULTS.rateLimitPerMinute, { min: 0 }),
    uploadUrlTtlSeconds: envInt('UPLOAD_URL_TTL_SECONDS', DEFAULTS.uploadUrlTtlSeconds, { min: 30, max: 7 * 24 * 3600 }),
    syncTimeoutSeconds: envInt('SYNC_TIMEOUT_SECONDS', DEFAULTS.syncTimeoutSeconds, { min: 0, max: 600 }),
    pollIntervalMs: envInt('API_POLL_INTERVAL_MS', DEFAULTS.pollIntervalMs, { min: 10, max: 60_000 }),
    webhookSecret: envOptional('WEBHOOK_SECRET'),
    webhookAttempts: envInt('WEBHOOK_ATTEMPTS', DEFAULTS.webhookAttempts, { min: 1, max: 50 }),
    webhookBaseDelayMs: envInt('WEBHOOK_BASE_DELAY_MS', DEFAULTS.webhookBaseDelayMs, { min: 1, max: 60_000 }),
    readyCacheMs: DEFAULTS.readyCacheMs,
  };
}

/** A config with defaults, for tests and benchmarks. */
export function testConfig(overrides: Partial<ApiConfig> = {}): ApiConfig {
  return {
    port: 0,
    pipeline: 'test',
    namespace: undefined,
    languages: ['eng'],
    maxUploadBytes: DEFAULTS.maxUploadBytes,
    rateLimitPerMinute: 0,
    uploadUrlTtlSeconds: DEFAULTS.uploadUrlTtlSeconds,
    syncTimeoutSeconds: DEFAULTS.syncTimeoutSeconds,
    pollIntervalMs: 50,
    webhookSecret: undefined,
    webhookAttempts: 3,
    webhookBaseDelayMs: 50,
    readyCacheMs: 0,
    ...overrides,
  };
}
