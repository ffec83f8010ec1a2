// The container contract between the operator and the image it runs. The operator's
// builders (src/operator/desired) set exactly these environment variables, ports, paths and
// files, and the API and worker config readers read them from here too, so renaming one is
// a compile error on both sides instead of an e2e failure.
//
// Probes: both processes answer /live as soon as their HTTP server listens, and /ready only
// once they can do useful work (the worker after its tesseract.js models are loaded, the API
// after its clients are connected). The startup probe therefore targets /live with a large
// failureThreshold (minutes): /ready would be wrong for startup, because a worker that is
// still loading models is alive and must not be restarted. Readiness targets /ready.

export const COMMANDS = {
  api: ['node', 'dist/api/main.js'],
  worker: ['node', 'dist/worker/main.js'],
} as const;

export const PORTS = {
  /** API HTTP (jobs, /live, /ready and a /health summary); the pipeline's Service exposes it. */
  api: 8080,
  /** API admin HTTP (/metrics, /openapi.json, /health with detail); for scraping inside the cluster, never in the Service. */
  apiAdmin: 9090,
  /**
   * API internal HTTP: workers POST "job finished" notices here (POST /internal/v1/jobs/<id>/done) so a waiting
   * POST /v1/ocr answers at once; never in the pipeline's Service, reached by pod IP from the pipeline's workers only.
   */
  apiInternal: 8081,
  /** Worker HTTP (probes and metrics only). */
  worker: 9090,
  /** Operator /healthz, /readyz and /metrics (flag --metrics-addr; the chart's operator Deployment). */
  operator: 8080,
} as const;

export const PORT_NAMES = { api: 'http', worker: 'http' } as const;

export const PROBE_PATHS = { live: '/live', ready: '/ready' } as const;
export const METRICS_PATH = '/metrics';

/** Where the API keys Secret is mounted; API_KEYS_FILE points at the key inside it. */
export const API_KEYS_DIR = '/etc/ocr/api-keys';

/** Writable scratch space; the root filesystem is read-only. */
export const TMP_DIR = '/tmp';

/** Every environment variable the API and the worker read (the operator sets the ones a pipeline decides). */
export const ENV = {
  // Identity and connections, read by both processes (src/jobs/*-connection.ts).
  pipeline: 'OCR_PIPELINE',
  namespace: 'OCR_NAMESPACE',
  languages: 'OCR_LANGUAGES',
  /** tesseract | paddle: spec.ocr.engine as the operator resolved it (auto is never passed). */
  ocrEngine: 'OCR_ENGINE',
  /**
   * Comma list, the pipeline engine first: the engines a job may ask for (spec.ocr.requestEngines as resolved). The API refuses
   * others and keys the results of jobs naming none by the first; the worker loads the others on their first job.
   */
  requestEngines: 'OCR_REQUEST_ENGINES',
  /** auto | best | fast (spec.ocr.tesseractModel; the worker resolves auto from the files it finds). */
  tesseractModel: 'OCR_TESSERACT_MODEL',
  queueName: 'OCR_QUEUE_NAME',
  serviceBusNamespace: 'SERVICEBUS_NAMESPACE',
  serviceBusConnectionString: 'SERVICEBUS_CONNECTION_STRING',
  blobAccountUrl: 'BLOB_ACCOUNT_URL',
  blobConnectionString: 'BLOB_CONNECTION_STRING',
  blobContainer: 'BLOB_CONTAINER',
  jobsTable: 'JOBS_TABLE',
  webhookSecret: 'WEBHOOK_SECRET',
  port: 'PORT',
  metricsPort: 'METRICS_PORT',
  logLevel: 'LOG_LEVEL',
  // Worker (src/worker/config.ts).
  workerConcurrency: 'WORKER_CONCURRENCY',
  workerMaxJobSeconds: 'WORKER_MAX_JOB_SECONDS',
  workerMaxImageBytes: 'WORKER_MAX_IMAGE_BYTES',
  workerMaxPixels: 'WORKER_MAX_PIXELS',
  workerMaxPages: 'WORKER_MAX_PAGES',
  workerPdfDpi: 'WORKER_PDF_DPI',
  workerPdfTextLayer: 'WORKER_PDF_TEXT_LAYER',
  /** The paddle engine's fused-graph cache directory (src/worker/ocr/paddle/graph-cache.ts; `off`: none). Not set by the operator: the image has the graphs prefused. */
  paddleGraphCache: 'OCR_PADDLE_GRAPH_CACHE',
  workerMaxDeliveryCount: 'WORKER_MAX_DELIVERY_COUNT',
  // Retries with backoff (src/worker/retries.ts), from spec.retries.
  workerRetryMaxAttempts: 'WORKER_RETRY_MAX_ATTEMPTS',
  workerRetryBaseDelaySeconds: 'WORKER_RETRY_BASE_DELAY_SECONDS',
  workerRetryMaxDelaySeconds: 'WORKER_RETRY_MAX_DELAY_SECONDS',
  workerRetryMaxTimeouts: 'WORKER_RETRY_MAX_TIMEOUTS',
  // Worker stage timeouts (src/worker/stage-timeout.ts; CRD spec.jobs.stageTimeouts); recognition has what is left of WORKER_MAX_JOB_SECONDS.
  workerDownloadTimeoutSeconds: 'WORKER_DOWNLOAD_TIMEOUT_SECONDS',
  workerPreprocessTimeoutSeconds: 'WORKER_PREPROCESS_TIMEOUT_SECONDS',
  workerStoreTimeoutSeconds: 'WORKER_STORE_TIMEOUT_SECONDS',
  // API (src/api/config.ts).
  apiMaxUploadBytes: 'API_MAX_UPLOAD_BYTES',
  apiRateLimitPerMinute: 'API_RATE_LIMIT_PER_MINUTE',
  apiRateLimitBurst: 'API_RATE_LIMIT_BURST',
  apiAuthFailuresPerMinute: 'API_AUTH_FAILURES_PER_MINUTE',
  apiMaxConcurrentUploads: 'API_MAX_CONCURRENT_UPLOADS',
  apiMaxConcurrentUploadsPerKey: 'API_MAX_CONCURRENT_UPLOADS_PER_KEY',
  apiAdminPort: 'API_ADMIN_PORT',
  apiKeysFile: 'API_KEYS_FILE',
  apiAuth: 'API_AUTH',
  uploadUrlTtlSeconds: 'UPLOAD_URL_TTL_SECONDS',
  syncTimeoutSeconds: 'SYNC_TIMEOUT_SECONDS',
  apiPollIntervalMs: 'API_POLL_INTERVAL_MS',
  webhookAttempts: 'WEBHOOK_ATTEMPTS',
  webhookBaseDelayMs: 'WEBHOOK_BASE_DELAY_MS',
  webhookAllowHttp: 'WEBHOOK_ALLOW_HTTP',
  webhookAllowedHosts: 'WEBHOOK_ALLOWED_HOSTS',
  webhookMaxConcurrent: 'WEBHOOK_MAX_CONCURRENT',
  // The webhook outbox dispatcher (src/api/webhooks/dispatcher.ts).
  webhookMaxDelayMs: 'WEBHOOK_MAX_DELAY_MS',
  webhookPollIntervalMs: 'WEBHOOK_POLL_INTERVAL_MS',
  webhookLeaseMs: 'WEBHOOK_LEASE_MS',
  webhookTimeoutMs: 'WEBHOOK_TIMEOUT_MS',
  // Sync answers by push and admission by backlog (src/api/jobs/wait.ts, src/api/admission.ts, src/worker/notify.ts).
  apiPodIp: 'API_POD_IP',
  apiInternalPort: 'API_INTERNAL_PORT',
  workerNotifyPort: 'WORKER_NOTIFY_PORT',
  apiMaxBacklog: 'API_MAX_BACKLOG',
  apiBacklogUrl: 'API_BACKLOG_URL',
  // Job deadlines, recovery and retention (src/api/recovery/, docs/job-states.md; CRD spec.jobs).
  jobUploadDeadlineSeconds: 'JOB_UPLOAD_DEADLINE_SECONDS',
  jobQueuedDeadlineSeconds: 'JOB_QUEUED_DEADLINE_SECONDS',
  jobProcessingDeadlineSeconds: 'JOB_PROCESSING_DEADLINE_SECONDS',
  jobMaxRequeues: 'JOB_MAX_REQUEUES',
  jobRetentionHours: 'JOB_RETENTION_HOURS',
  resultCacheTtlHours: 'RESULT_CACHE_TTL_HOURS',
  recoveryIntervalSeconds: 'RECOVERY_INTERVAL_SECONDS',
  recoveryLeaseSeconds: 'RECOVERY_LEASE_SECONDS',
  recoveryBatchSize: 'RECOVERY_BATCH_SIZE',
  recoveryEnabled: 'RECOVERY_ENABLED',
  // Job tokens of upload URLs (src/api/jobs/token.ts).
  jobTokenSecret: 'JOB_TOKEN_SECRET',
} as const;

/** The value of API_AUTH that runs the API without keys (only when API_KEYS_FILE is unset). */
export const API_AUTH_DISABLED = 'disabled';

/**
 * What a process uses when a variable is unset (the operator always sets them from the
 * pipeline spec; these matter for `npm start`, tests and hand-run processes).
 */
export const CONNECTION_DEFAULTS = {
  pipeline: 'default',
  queueName: 'ocr-jobs',
  blobContainer: 'ocr',
  jobsTable: 'ocrjobs',
  languages: ['eng'],
} as const;

/** Seconds a draining worker gets beyond maxJobSeconds to settle its messages and exit. */
export const WORKER_GRACE_MARGIN_SECONDS = 30;

/**
 * Retries with backoff of transient job failures (src/worker/retries.ts): the CRD's spec.retries defaults and the
 * worker's when a WORKER_RETRY_* variable is unset. The operator sets a variable only when the spec differs.
 */
export const RETRY_DEFAULTS = {
  /** Attempts of a job in all, the first included. */
  maxAttempts: 5,
  /** Shortest delay before a retry (s); the delay after attempt n is drawn between this and min(max, this * 2^(n-1)). */
  baseDelaySeconds: 5,
  /** Longest delay before a retry (s). */
  maxDelaySeconds: 300,
  /** OCR timeouts of one job after which it fails instead of being retried. */
  maxTimeouts: 2,
} as const;

/**
 * Job deadlines, recovery and retention: the CRD's spec.jobs defaults and the API's when a variable is unset
 * (docs/job-states.md). The operator sets a JOB_* / RECOVERY_* variable only when the spec differs from these.
 */
export const JOB_DEFAULTS = {
  /** awaiting_upload longer than this (s) -> expired, upload deleted; at least the upload URL lifetime (900 s). */
  uploadDeadlineSeconds: 3600,
  /** queued without a change for this long (s) -> the message is sent again (a lost send, or a very long backlog). */
  queuedDeadlineSeconds: 1800,
  /** processing without a change for this long (s) -> sent again; well above the worker's 120 s OCR timeout and its redeliveries. */
  processingDeadlineSeconds: 900,
  /** Sends by recovery per job before a stale queued or processing job is failed instead. */
  maxRequeues: 3,
  /** Finished jobs (records, uploads, inputs, results) older than this (h) are deleted: 7 days. */
  retentionHours: 168,
  /** Dedupe entries older than this (h) no longer answer repeated images. */
  resultCacheTtlHours: 24,
  /** Seconds between recovery passes; the lease is renewed each pass. */
  recoveryIntervalSeconds: 30,
  /** Blob lease held by the one active recovery runner of a pipeline (s, 15 to 60). */
  recoveryLeaseSeconds: 60,
  /** Jobs handled per kind and pass (dead letters, stale, expired, retired): bounds one pass's work. */
  recoveryBatchSize: 100,
} as const;

/**
 * Worker stage timeouts, in seconds: the CRD's spec.jobs.stageTimeouts defaults and the worker's when a variable is unset.
 * A stage over its time is stopped and the job retried (transient: STAGE_TIMEOUT); recognition keeps what is left of
 * maxJobSeconds. The operator sets a variable only when the spec differs from these.
 */
export const STAGE_TIMEOUT_DEFAULTS = {
  /** Reading inputs/<jobId> from Blob Storage (at most maxImageBytes). */
  downloadSeconds: 60,
  /** Decoding, rotating, greying and scaling the image (sharp); a slow decode counts as an OCR timeout. */
  preprocessSeconds: 30,
  /** Writing results/<jobId>.json and moving the record to succeeded. */
  storeSeconds: 60,
} as const;
