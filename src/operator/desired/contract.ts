// The container contract between the operator and the image it runs. The API and worker
// code read exactly these environment variables, ports, paths and files; this file is the
// one place they are named, so the builders and the processes cannot drift apart.
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
  /** API HTTP (jobs, probes and metrics). */
  api: 8080,
  /** Worker HTTP (probes and metrics only). */
  worker: 9090,
} as const;

export const PORT_NAMES = { api: 'http', worker: 'http' } as const;

export const PROBE_PATHS = { live: '/live', ready: '/ready' } as const;
export const METRICS_PATH = '/metrics';

/** Where the API keys Secret is mounted; API_KEYS_FILE points at the key inside it. */
export const API_KEYS_DIR = '/etc/ocr/api-keys';

/** Writable scratch space; the root filesystem is read-only. */
export const TMP_DIR = '/tmp';

export const ENV = {
  pipeline: 'OCR_PIPELINE',
  namespace: 'OCR_NAMESPACE',
  languages: 'OCR_LANGUAGES',
  queueName: 'OCR_QUEUE_NAME',
  serviceBusNamespace: 'SERVICEBUS_NAMESPACE',
  serviceBusConnectionString: 'SERVICEBUS_CONNECTION_STRING',
  blobAccountUrl: 'BLOB_ACCOUNT_URL',
  blobConnectionString: 'BLOB_CONNECTION_STRING',
  blobContainer: 'BLOB_CONTAINER',
  workerConcurrency: 'WORKER_CONCURRENCY',
  workerMaxJobSeconds: 'WORKER_MAX_JOB_SECONDS',
  apiMaxUploadBytes: 'API_MAX_UPLOAD_BYTES',
  apiRateLimitPerMinute: 'API_RATE_LIMIT_PER_MINUTE',
  apiKeysFile: 'API_KEYS_FILE',
  webhookSecret: 'WEBHOOK_SECRET',
  port: 'PORT',
  metricsPort: 'METRICS_PORT',
} as const;

/** Seconds a draining worker gets beyond maxJobSeconds to settle its messages and exit. */
export const WORKER_GRACE_MARGIN_SECONDS = 30;

/** External metric served by prometheus-adapter (or KEDA) for the worker HPA. */
export const QUEUE_BACKLOG_METRIC = 'ocr_queue_backlog';
