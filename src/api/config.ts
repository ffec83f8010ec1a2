// API settings from the environment the operator gives the API pod. Every variable is a row
// of SETTINGS, which also prints `node src/api/main.ts --help`; a wrong value stops start-up
// with a message that names the variable and the allowed range.
import { readFileSync } from 'node:fs';
import { API_AUTH_DISABLED, ENV, PORTS } from '../contract/container.ts';
import { checkLanguages, connectionSettings, languagesSetting, POD_SETTINGS, requireQueue, requireStorage } from '../jobs/connections.ts';
import { EgressPolicy, type EgressSettings } from '../jobs/egress.ts';
import { ConfigError, helpText, logLevelSetting, parseSettings, type Env, type Setting } from '../shared/config.ts';
import { ApiKeys } from './auth.ts';

export interface ApiConfig {
  /** Jobs, /live, /ready and the /health summary; the pipeline's Service exposes it. */
  port: number;
  /** /metrics, /openapi.json and /health with detail; scraped inside the cluster, never exposed by the Service. 0 = any free port. */
  adminPort: number;
  pipeline: string;
  namespace: string | undefined;
  /** Languages this pipeline's workers have loaded; requests for others are refused. */
  languages: string[];
  /** Largest image accepted, in bytes (multipart, raw body, or uploaded blob). */
  maxUploadBytes: number;
  /** Requests per minute per API key (or per client address when auth is disabled); 0 = no limit. */
  rateLimitPerMinute: number;
  /** Size of each key's bucket: requests admitted at once before the refill (perMinute/60 per second) paces them. */
  rateLimitBurst: number;
  /** Failed authentications per minute per client address before 429 AUTH_RATE_LIMITED; 0 = no limit. */
  authFailuresPerMinute: number;
  /** Image uploads (multipart, raw body) streaming at once per replica before 503 API_BUSY. */
  maxConcurrentUploads: number;
  /** Image uploads streaming at once per API key (per client address with auth off) before 429 UPLOADS_PER_KEY_LIMITED. */
  maxConcurrentUploadsPerKey: number;
  uploadUrlTtlSeconds: number;
  syncTimeoutSeconds: number;
  /** How often the sync endpoint and the webhook watcher re-read a job record, in ms. */
  pollIntervalMs: number;
  webhookSecret: string | undefined;
  /** Attempts and backoff for webhook delivery. */
  webhookAttempts: number;
  webhookBaseDelayMs: number;
  /** Which webhook targets may be contacted (src/jobs/egress.ts); default https to public addresses only. */
  webhookEgress: EgressSettings;
  /** Webhook attempts on the wire at once per replica; more wait in a bounded FIFO. */
  webhookMaxConcurrent: number;
  /** How long /ready reuses a dependency check, in ms. */
  readyCacheMs: number;
  logLevel: string;
}

export const DEFAULTS = {
  port: PORTS.api,
  adminPort: PORTS.apiAdmin,
  maxUploadBytes: 10 * 1024 * 1024,
  rateLimitPerMinute: 600,
  rateLimitBurst: 20,
  authFailuresPerMinute: 30,
  maxConcurrentUploads: 8,
  maxConcurrentUploadsPerKey: 4,
  uploadUrlTtlSeconds: 900,
  syncTimeoutSeconds: 30,
  pollIntervalMs: 250,
  webhookAttempts: 6,
  webhookBaseDelayMs: 1_000,
  webhookMaxConcurrent: 16,
  readyCacheMs: 5_000,
} as const;

export const SETTINGS = [
  { name: 'port', env: ENV.port, type: 'integer', default: DEFAULTS.port, min: 0, max: 65535, help: 'HTTP port (jobs, /live, /ready, /health summary).' },
  {
    name: 'adminPort',
    env: ENV.apiAdminPort,
    type: 'integer',
    default: DEFAULTS.adminPort,
    min: 0,
    max: 65535,
    help: 'Admin HTTP port (/metrics, /openapi.json, /health with detail); keep it out of the Service. 0 = any free port.',
  },
  ...POD_SETTINGS,
  languagesSetting('Comma-separated languages the workers serve; requests for others are refused.'),
  {
    name: 'maxUploadBytes',
    env: ENV.apiMaxUploadBytes,
    type: 'integer',
    default: DEFAULTS.maxUploadBytes,
    min: 1024,
    max: 512 * 1024 * 1024,
    unit: 'bytes',
    help: 'Largest image accepted (multipart, raw body or uploaded blob).',
  },
  {
    name: 'rateLimitPerMinute',
    env: ENV.apiRateLimitPerMinute,
    type: 'integer',
    default: DEFAULTS.rateLimitPerMinute,
    min: 0,
    help: 'Requests per minute per API key, per replica; 0 = off.',
  },
  {
    name: 'rateLimitBurst',
    env: ENV.apiRateLimitBurst,
    type: 'integer',
    default: DEFAULTS.rateLimitBurst,
    min: 1,
    help: `Requests a key may send at once before the refill paces it (at most ${ENV.apiRateLimitPerMinute}).`,
  },
  {
    name: 'authFailuresPerMinute',
    env: ENV.apiAuthFailuresPerMinute,
    type: 'integer',
    default: DEFAULTS.authFailuresPerMinute,
    min: 0,
    help: 'Failed authentications per minute per client address, per replica, before 429; 0 = off.',
  },
  {
    name: 'maxConcurrentUploads',
    env: ENV.apiMaxConcurrentUploads,
    type: 'integer',
    default: DEFAULTS.maxConcurrentUploads,
    min: 1,
    max: 10_000,
    help: 'Image uploads (multipart or raw body) streaming at once per replica; more get 503 with Retry-After.',
  },
  {
    name: 'maxConcurrentUploadsPerKey',
    env: ENV.apiMaxConcurrentUploadsPerKey,
    type: 'integer',
    default: DEFAULTS.maxConcurrentUploadsPerKey,
    min: 1,
    max: 10_000,
    help: 'Image uploads streaming at once per API key, per replica; more get 429 with Retry-After.',
  },
  { name: 'apiKeysFile', env: ENV.apiKeysFile, type: 'string', help: 'File with one API key per line, or name:key (mounted from a Secret).' },
  { name: 'apiAuth', env: ENV.apiAuth, type: 'string', help: `Set to "${API_AUTH_DISABLED}" to run without API keys (only when ${ENV.apiKeysFile} is unset).` },
  { name: 'webhookSecret', env: ENV.webhookSecret, type: 'string', help: 'HMAC-SHA256 secret for webhook signatures; unset = webhooks refused.' },
  {
    name: 'uploadUrlTtlSeconds',
    env: ENV.uploadUrlTtlSeconds,
    type: 'integer',
    default: DEFAULTS.uploadUrlTtlSeconds,
    min: 30,
    max: 7 * 24 * 3600,
    unit: 'seconds',
    help: 'Lifetime of upload URLs.',
  },
  {
    name: 'syncTimeoutSeconds',
    env: ENV.syncTimeoutSeconds,
    type: 'integer',
    default: DEFAULTS.syncTimeoutSeconds,
    min: 0,
    max: 600,
    unit: 'seconds',
    help: 'How long POST /v1/ocr waits before answering 202.',
  },
  {
    name: 'pollIntervalMs',
    env: ENV.apiPollIntervalMs,
    type: 'integer',
    default: DEFAULTS.pollIntervalMs,
    min: 10,
    max: 60_000,
    unit: 'ms',
    help: 'How often waiters re-read a job record.',
  },
  {
    name: 'webhookAttempts',
    env: ENV.webhookAttempts,
    type: 'integer',
    default: DEFAULTS.webhookAttempts,
    min: 1,
    max: 50,
    help: 'Webhook delivery attempts.',
  },
  {
    name: 'webhookBaseDelayMs',
    env: ENV.webhookBaseDelayMs,
    type: 'integer',
    default: DEFAULTS.webhookBaseDelayMs,
    min: 1,
    max: 60_000,
    unit: 'ms',
    help: 'First webhook retry delay, doubled up to 30 s.',
  },
  {
    name: 'webhookAllowHttp',
    env: ENV.webhookAllowHttp,
    type: 'boolean',
    default: false,
    help: 'Allow http:// webhook URLs; otherwise only https.',
  },
  {
    name: 'webhookAllowedHosts',
    env: ENV.webhookAllowedHosts,
    type: 'list',
    default: [],
    help: 'Comma-separated host names, *.domains, IPs or CIDRs that webhooks may reach although internal (loopback, private, *.svc, ...).',
  },
  {
    name: 'webhookMaxConcurrent',
    env: ENV.webhookMaxConcurrent,
    type: 'integer',
    default: DEFAULTS.webhookMaxConcurrent,
    min: 1,
    max: 1000,
    help: 'Webhook requests on the wire at once per replica; more wait in a bounded queue.',
  },
  logLevelSetting(),
] as const satisfies readonly Setting[];

export const HELP = `${helpText(SETTINGS, {
  intro: [
    'ocr-platform API: upload URLs, jobs, results, webhooks.',
    '',
    'Usage: node src/api/main.ts            (dist/api/main.js in the image)',
    '       node src/api/main.ts --help',
  ],
  flags: false,
})}\n`;

/** Loads API keys, or decides that auth is off. Refuses to guess: no file and no explicit opt-out is an error. */
export function loadApiKeys(env: Env, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): ApiKeys | undefined {
  const { apiKeysFile: file, apiAuth: auth } = parseSettings(SETTINGS, env);
  if (file) {
    let text: string;
    try {
      text = read(file);
    } catch (error) {
      throw new ConfigError(`${ENV.apiKeysFile}=${file} cannot be read (${(error as Error).message}); mount the API key Secret there`);
    }
    const keys = ApiKeys.parse(text);
    if (keys.size === 0) throw new ConfigError(`${ENV.apiKeysFile}=${file} holds no keys; add one key per line (or name:key)`);
    return keys;
  }
  if (auth === API_AUTH_DISABLED) return undefined;
  throw new ConfigError(
    `${ENV.apiKeysFile} is not set: mount an API key Secret and point ${ENV.apiKeysFile} at it, or set ${ENV.apiAuth}=${API_AUTH_DISABLED} to run without authentication`,
  );
}

/** Pure: parses `env` (main passes process.env), including the connection settings main reads with settingsFromEnv. */
export function configFromEnv(env: Env): ApiConfig {
  const v = parseSettings(SETTINGS, env);
  const { storage, queue } = connectionSettings(v);
  requireStorage(storage, 'the API stores uploads and job records there');
  requireQueue(queue, 'the API sends jobs to the queue');
  checkLanguages(v.languages);
  if (v.adminPort !== 0 && v.adminPort === v.port) {
    throw new ConfigError(`${ENV.apiAdminPort}=${v.adminPort} equals ${ENV.port}: the admin port must be a port of its own, so the Service can leave it out`);
  }
  const webhookEgress: EgressSettings = { allowHttp: v.webhookAllowHttp, allowedHosts: v.webhookAllowedHosts };
  try {
    new EgressPolicy(webhookEgress);
  } catch (error) {
    throw new ConfigError(`${ENV.webhookAllowedHosts}: ${(error as Error).message}`);
  }
  return {
    port: v.port,
    adminPort: v.adminPort,
    pipeline: v.pipeline,
    namespace: v.namespace,
    languages: v.languages,
    maxUploadBytes: v.maxUploadBytes,
    rateLimitPerMinute: v.rateLimitPerMinute,
    rateLimitBurst: v.rateLimitBurst,
    authFailuresPerMinute: v.authFailuresPerMinute,
    maxConcurrentUploads: v.maxConcurrentUploads,
    maxConcurrentUploadsPerKey: v.maxConcurrentUploadsPerKey,
    uploadUrlTtlSeconds: v.uploadUrlTtlSeconds,
    syncTimeoutSeconds: v.syncTimeoutSeconds,
    pollIntervalMs: v.pollIntervalMs,
    webhookSecret: v.webhookSecret,
    webhookAttempts: v.webhookAttempts,
    webhookBaseDelayMs: v.webhookBaseDelayMs,
    webhookEgress,
    webhookMaxConcurrent: v.webhookMaxConcurrent,
    readyCacheMs: DEFAULTS.readyCacheMs,
    logLevel: v.logLevel,
  };
}
