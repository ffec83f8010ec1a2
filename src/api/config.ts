// API settings from the environment the operator gives the API pod. Every variable is a row
// of SETTINGS, which also prints `node src/api/main.ts --help`; a wrong value stops start-up
// with a message that names the variable and the allowed range.
import { readFileSync } from 'node:fs';
import { API_AUTH_DISABLED, ENV, JOB_DEFAULTS, PORTS } from '../contract/container.ts';
import { unknownEngines, type OcrEngineName } from '../contract/image.ts';
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
  /** OCR_REQUEST_ENGINES: the engines a job may ask for, the pipeline engine first; undefined = any, jobs without one left without. */
  requestEngines?: OcrEngineName[] | undefined;
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
  /** How often the sync endpoint re-reads a job record, in ms. */
  pollIntervalMs: number;
  webhookSecret: string | undefined;
  /** Keys of the job tokens of upload URLs, comma-separated, first signs (src/api/jobs/token.ts); unset = derived. */
  jobTokenSecret: string | undefined;
  /** Attempts per webhook before it is `failed`, and the backoff between them (ms, doubled from base up to max, with jitter). */
  webhookAttempts: number;
  webhookBaseDelayMs: number;
  webhookMaxDelayMs: number;
  /** How often each replica reads the webhook outbox, how long a claim holds a row, one attempt's timeout; all in ms. */
  webhookPollIntervalMs: number;
  webhookLeaseMs: number;
  webhookTimeoutMs: number;
  /** Which webhook targets may be contacted (src/jobs/egress.ts); default https to public addresses only. */
  webhookEgress: EgressSettings;
  /** Webhook attempts on the wire at once per replica; more wait in a bounded FIFO. */
  webhookMaxConcurrent: number;
  /** How long /ready reuses a dependency check, in ms. */
  readyCacheMs: number;
  /** This pod's IP (downward API status.podIP); undefined = no push: sync waits poll. */
  podIp: string | undefined;
  /** Port of the internal app (workers' "job finished" notices); never in the Service. 0 = any free port. */
  internalPort: number;
  /** Largest queue backlog (messages) at which new jobs are still accepted; undefined = no limit. */
  maxBacklog: number | undefined;
  /** Where the backlog is read (the operator's GET /v1/backlog/<namespace>/<pipeline>); needed with maxBacklog. */
  backlogUrl: string | undefined;
  logLevel: string;
  /** Deadlines, recovery and retention (src/api/recovery/, docs/job-states.md). */
  recovery: RecoverySettings;
}

/** What the recovery loop needs to know, all in seconds or hours as named. */
export interface RecoverySettings {
  /** false: this replica never runs the loop (RECOVERY_ENABLED=false). */
  enabled: boolean;
  uploadDeadlineSeconds: number;
  queuedDeadlineSeconds: number;
  processingDeadlineSeconds: number;
  maxRequeues: number;
  retentionHours: number;
  resultCacheTtlHours: number;
  intervalSeconds: number;
  leaseSeconds: number;
  batchSize: number;
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
  // 10 attempts over about an hour: retries after ~10 s, 20 s, 40 s, ... capped at 20 min (jitter: half to all of each).
  webhookAttempts: 10,
  webhookBaseDelayMs: 10_000,
  webhookMaxDelayMs: 1_200_000,
  webhookPollIntervalMs: 1_000,
  webhookLeaseMs: 60_000,
  webhookTimeoutMs: 5_000,
  webhookMaxConcurrent: 16,
  readyCacheMs: 5_000,
  internalPort: PORTS.apiInternal,
} as const;

/** The recovery settings when no variable is set (JOB_DEFAULTS). */
export const RECOVERY_DEFAULTS: RecoverySettings = {
  enabled: true,
  uploadDeadlineSeconds: JOB_DEFAULTS.uploadDeadlineSeconds,
  queuedDeadlineSeconds: JOB_DEFAULTS.queuedDeadlineSeconds,
  processingDeadlineSeconds: JOB_DEFAULTS.processingDeadlineSeconds,
  maxRequeues: JOB_DEFAULTS.maxRequeues,
  retentionHours: JOB_DEFAULTS.retentionHours,
  resultCacheTtlHours: JOB_DEFAULTS.resultCacheTtlHours,
  intervalSeconds: JOB_DEFAULTS.recoveryIntervalSeconds,
  leaseSeconds: JOB_DEFAULTS.recoveryLeaseSeconds,
  batchSize: JOB_DEFAULTS.recoveryBatchSize,
};

/** The deadline, recovery and retention rows (CRD spec.jobs; docs/job-states.md). */
function recoveryRows() {
  const seconds = <const N extends string>(name: N, env: string, dflt: number, min: number, max: number, help: string) =>
    ({ name, env, type: 'integer', default: dflt, min, max, unit: 'seconds', help }) as const;
  const hours = <const N extends string>(name: N, env: string, dflt: number, help: string) =>
    ({ name, env, type: 'integer', default: dflt, min: 1, max: 24 * 3650, unit: 'hours', help }) as const;
  const d = JOB_DEFAULTS;
  return [
    { name: 'recoveryEnabled', env: ENV.recoveryEnabled, type: 'boolean', default: true, help: 'Run the recovery loop (one active runner per pipeline).' },
    seconds(
      'uploadDeadlineSeconds',
      ENV.jobUploadDeadlineSeconds,
      d.uploadDeadlineSeconds,
      60,
      30 * 86400,
      'awaiting_upload longer -> expired, upload deleted.',
    ),
    seconds('queuedDeadlineSeconds', ENV.jobQueuedDeadlineSeconds, d.queuedDeadlineSeconds, 1, 7 * 86400, 'queued unchanged longer -> message sent again.'),
    seconds(
      'processingDeadlineSeconds',
      ENV.jobProcessingDeadlineSeconds,
      d.processingDeadlineSeconds,
      1,
      7 * 86400,
      'processing unchanged longer -> sent again.',
    ),
    {
      name: 'maxRequeues',
      env: ENV.jobMaxRequeues,
      type: 'integer',
      default: d.maxRequeues,
      min: 0,
      max: 100,
      help: 'Sends by recovery per job before a stale job is failed.',
    },
    hours('retentionHours', ENV.jobRetentionHours, d.retentionHours, 'Finished jobs older than this are deleted (record and blobs).'),
    hours('resultCacheTtlHours', ENV.resultCacheTtlHours, d.resultCacheTtlHours, 'Dedupe entries older than this stop answering repeats.'),
    seconds('recoveryIntervalSeconds', ENV.recoveryIntervalSeconds, d.recoveryIntervalSeconds, 1, 3600, 'Time between recovery passes.'),
    seconds('recoveryLeaseSeconds', ENV.recoveryLeaseSeconds, d.recoveryLeaseSeconds, 15, 60, 'Blob lease of the active recovery runner.'),
    {
      name: 'recoveryBatchSize',
      env: ENV.recoveryBatchSize,
      type: 'integer',
      default: d.recoveryBatchSize,
      min: 1,
      max: 1000,
      help: 'Jobs handled per kind and recovery pass.',
    },
  ] as const;
}

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
    name: 'requestEngines',
    env: ENV.requestEngines,
    type: 'list',
    help:
      'Comma-separated OCR engines (tesseract, paddle) a job may ask for, the pipeline engine first: a job naming another is refused ' +
      '(ENGINE_NOT_ALLOWED); a job naming none is read by the first, which its dedupe key names. Unset: any engine.',
  },
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
    name: 'jobTokenSecret',
    env: ENV.jobTokenSecret,
    type: 'string',
    help:
      'Keys of the job tokens of upload URLs, comma-separated: the first signs, all verify (rotate: new,old for one UPLOAD_URL_TTL_SECONDS, then new). ' +
      'Unset: derived from WEBHOOK_SECRET, else from the API key file, else random per process (one replica only).',
  },
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
    help: 'Attempts per webhook before its state is failed (each attempt is recorded in the outbox).',
  },
  {
    name: 'webhookBaseDelayMs',
    env: ENV.webhookBaseDelayMs,
    type: 'integer',
    default: DEFAULTS.webhookBaseDelayMs,
    min: 1,
    max: 600_000,
    unit: 'ms',
    help: 'First webhook retry delay; doubled per attempt up to WEBHOOK_MAX_DELAY_MS, each delay drawn between half and all of it.',
  },
  {
    name: 'webhookMaxDelayMs',
    env: ENV.webhookMaxDelayMs,
    type: 'integer',
    default: DEFAULTS.webhookMaxDelayMs,
    min: 1,
    max: 86_400_000,
    unit: 'ms',
    help: 'Longest delay between two webhook attempts.',
  },
  {
    name: 'webhookPollIntervalMs',
    env: ENV.webhookPollIntervalMs,
    type: 'integer',
    default: DEFAULTS.webhookPollIntervalMs,
    min: 10,
    max: 60_000,
    unit: 'ms',
    help: "How often each replica reads the pipeline's webhook outbox for due webhooks.",
  },
  {
    name: 'webhookLeaseMs',
    env: ENV.webhookLeaseMs,
    type: 'integer',
    default: DEFAULTS.webhookLeaseMs,
    min: 100,
    max: 3_600_000,
    unit: 'ms',
    help:
      'How long a replica holds a webhook it claimed; if it dies, another replica retries after this. Must exceed WEBHOOK_TIMEOUT_MS; ' +
      'a claim with less than WEBHOOK_TIMEOUT_MS + 2 s left is renewed before its attempt.',
  },
  {
    name: 'webhookTimeoutMs',
    env: ENV.webhookTimeoutMs,
    type: 'integer',
    default: DEFAULTS.webhookTimeoutMs,
    min: 100,
    max: 120_000,
    unit: 'ms',
    help: 'Timeout of one webhook attempt.',
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
  ...recoveryRows(),
  {
    name: 'podIp',
    env: ENV.apiPodIp,
    type: 'string',
    help: `This pod's IP (downward API status.podIP): workers send "job finished" notices to it on ${ENV.apiInternalPort}; unset = sync waits poll.`,
  },
  {
    name: 'internalPort',
    env: ENV.apiInternalPort,
    type: 'integer',
    default: DEFAULTS.internalPort,
    min: 0,
    max: 65535,
    help: 'Internal HTTP port for the workers\' "job finished" notices; keep it out of the Service. 0 = any free port.',
  },
  {
    name: 'maxBacklog',
    env: ENV.apiMaxBacklog,
    type: 'integer',
    min: 1,
    help: `Largest queue backlog (messages) at which new jobs are accepted; above it 503 QUEUE_BACKLOG_FULL. Unset = no limit. Needs ${ENV.apiBacklogUrl}.`,
  },
  {
    name: 'backlogUrl',
    env: ENV.apiBacklogUrl,
    type: 'string',
    help: 'URL that answers {"backlog": <messages>} for this pipeline (the operator serves it); read every few seconds, fail open.',
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

/** The internal port is a port of its own, and a backlog limit comes with the place the backlog is read from. */
function checkInternalPorts(v: { port: number; adminPort: number; internalPort: number; maxBacklog?: number; backlogUrl?: string }): void {
  if (v.internalPort !== 0 && (v.internalPort === v.port || v.internalPort === v.adminPort)) {
    throw new ConfigError(`${ENV.apiInternalPort}=${v.internalPort} equals ${ENV.port} or ${ENV.apiAdminPort}: the internal port must be a port of its own`);
  }
  if (v.maxBacklog !== undefined && !v.backlogUrl) {
    throw new ConfigError(`${ENV.apiMaxBacklog}=${v.maxBacklog} needs ${ENV.apiBacklogUrl}: the API learns the backlog from there (the operator sets both)`);
  }
  if (v.backlogUrl !== undefined && !(URL.canParse(v.backlogUrl) && /^https?:$/.test(new URL(v.backlogUrl).protocol))) {
    throw new ConfigError(`${ENV.apiBacklogUrl}=${v.backlogUrl} is not an http(s) URL`);
  }
}

/** Pure: parses `env` (main passes process.env), including the connection settings main reads with settingsFromEnv. */
export function configFromEnv(env: Env): ApiConfig {
  const v = parseSettings(SETTINGS, env);
  const { storage, queue } = connectionSettings(v);
  requireStorage(storage, 'the API stores uploads and job records there');
  requireQueue(queue, 'the API sends jobs to the queue');
  checkLanguages(v.languages);
  const requestEngines = engineList(v.requestEngines);
  if (v.adminPort !== 0 && v.adminPort === v.port) {
    throw new ConfigError(`${ENV.apiAdminPort}=${v.adminPort} equals ${ENV.port}: the admin port must be a port of its own, so the Service can leave it out`);
  }
  checkInternalPorts(v);
  const webhookEgress: EgressSettings = { allowHttp: v.webhookAllowHttp, allowedHosts: v.webhookAllowedHosts };
  try {
    new EgressPolicy(webhookEgress);
  } catch (error) {
    throw new ConfigError(`${ENV.webhookAllowedHosts}: ${(error as Error).message}`);
  }
  if (v.webhookLeaseMs <= v.webhookTimeoutMs) {
    throw new ConfigError(
      `${ENV.webhookLeaseMs}=${v.webhookLeaseMs} must exceed ${ENV.webhookTimeoutMs}=${v.webhookTimeoutMs}: a claim must outlast its attempt`,
    );
  }
  return {
    port: v.port,
    adminPort: v.adminPort,
    pipeline: v.pipeline,
    namespace: v.namespace,
    languages: v.languages,
    requestEngines,
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
    jobTokenSecret: v.jobTokenSecret,
    webhookAttempts: v.webhookAttempts,
    webhookBaseDelayMs: v.webhookBaseDelayMs,
    webhookMaxDelayMs: v.webhookMaxDelayMs,
    webhookPollIntervalMs: v.webhookPollIntervalMs,
    webhookLeaseMs: v.webhookLeaseMs,
    webhookTimeoutMs: v.webhookTimeoutMs,
    webhookEgress,
    webhookMaxConcurrent: v.webhookMaxConcurrent,
    readyCacheMs: DEFAULTS.readyCacheMs,
    podIp: v.podIp,
    internalPort: v.internalPort,
    maxBacklog: v.maxBacklog,
    backlogUrl: v.backlogUrl,
    logLevel: v.logLevel,
    recovery: recoveryFrom(v),
  };
}

/** The recovery settings, checked against each other: the lease must outlive a pass interval. */
function recoveryFrom(v: ReturnType<typeof parseSettings<typeof SETTINGS>>): RecoverySettings {
  if (v.recoveryEnabled && v.recoveryIntervalSeconds >= v.recoveryLeaseSeconds) {
    throw new ConfigError(
      `${ENV.recoveryIntervalSeconds}=${v.recoveryIntervalSeconds} must be below ${ENV.recoveryLeaseSeconds}=${v.recoveryLeaseSeconds}: the lease is renewed once per pass`,
    );
  }
  if (v.uploadDeadlineSeconds < v.uploadUrlTtlSeconds) {
    throw new ConfigError(
      `${ENV.jobUploadDeadlineSeconds}=${v.uploadDeadlineSeconds} is below ${ENV.uploadUrlTtlSeconds}=${v.uploadUrlTtlSeconds}: a job would expire while its upload URL still works`,
    );
  }
  return {
    enabled: v.recoveryEnabled,
    uploadDeadlineSeconds: v.uploadDeadlineSeconds,
    queuedDeadlineSeconds: v.queuedDeadlineSeconds,
    processingDeadlineSeconds: v.processingDeadlineSeconds,
    maxRequeues: v.maxRequeues,
    retentionHours: v.retentionHours,
    resultCacheTtlHours: v.resultCacheTtlHours,
    intervalSeconds: v.recoveryIntervalSeconds,
    leaseSeconds: v.recoveryLeaseSeconds,
    batchSize: v.recoveryBatchSize,
  };
}

/** OCR_REQUEST_ENGINES: known engines, each once; undefined when unset. */
function engineList(list: string[] | undefined): OcrEngineName[] | undefined {
  if (list === undefined) return undefined;
  const unknown = unknownEngines(list);
  if (unknown.length > 0 || list.length === 0) throw new ConfigError(`${ENV.requestEngines} must list tesseract and/or paddle; got "${list.join(',')}"`);
  return [...new Set(list)] as OcrEngineName[];
}
