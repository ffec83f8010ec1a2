// The worker's configuration, all from the environment the operator sets on the pod.
// One table documents every variable; `--help` prints it and the reader below follows it.
import { ConfigError } from '../shared/env.ts';
import { settingsFromEnv, type QueueSettings, type StorageSettings } from '../jobs/connections.ts';
import { LANGUAGE_PATTERN } from '../jobs/schema.ts';

export const ENVIRONMENT: readonly { name: string; fallback: string; what: string }[] = [
  { name: 'OCR_PIPELINE', fallback: 'default', what: 'pipeline name: the partition of job records and a label on every metric' },
  { name: 'OCR_NAMESPACE', fallback: '(none)', what: 'Kubernetes namespace of the pipeline, for logs' },
  { name: 'OCR_LANGUAGES', fallback: 'eng', what: 'comma list of tesseract languages to load; each needs the npm package @tesseract.js-data/<lang> in the image' },
  { name: 'OCR_QUEUE_NAME', fallback: 'ocr-jobs', what: 'Service Bus queue the jobs arrive on' },
  { name: 'SERVICEBUS_CONNECTION_STRING', fallback: '(none)', what: 'Service Bus connection string (from a Secret); or' },
  { name: 'SERVICEBUS_NAMESPACE', fallback: '(none)', what: 'fully qualified namespace (x.servicebus.windows.net), used with workload identity' },
  { name: 'BLOB_CONNECTION_STRING', fallback: '(none)', what: 'storage connection string for Blob and Table (from a Secret); or' },
  { name: 'BLOB_ACCOUNT_URL', fallback: '(none)', what: 'https://<account>.blob.core.windows.net, used with workload identity' },
  { name: 'BLOB_CONTAINER', fallback: 'ocr', what: 'container holding uploads/<jobId> and results/<jobId>.json' },
  { name: 'JOBS_TABLE', fallback: 'ocrjobs', what: 'Table Storage table of job records' },
  { name: 'WORKER_CONCURRENCY', fallback: '2', what: 'messages processed at once, and tesseract workers loaded (one per job); about one per core' },
  { name: 'WORKER_MAX_JOB_SECONDS', fallback: '120', what: 'time budget of one job: locks are renewed this long, OCR is stopped after it, and SIGTERM waits this long to drain' },
  { name: 'WORKER_MAX_IMAGE_BYTES', fallback: '20971520', what: 'larger uploads are dead-lettered as IMAGE_TOO_LARGE before download' },
  { name: 'WORKER_MAX_PIXELS', fallback: '40000000', what: 'images with more pixels are dead-lettered as IMAGE_TOO_MANY_PIXELS without decoding' },
  { name: 'WORKER_MAX_DELIVERY_COUNT', fallback: '(read from the queue, else 10)', what: "the queue's MaxDeliveryCount, when the worker may not read queue properties" },
  { name: 'METRICS_PORT', fallback: '9090', what: 'HTTP port for /live, /ready and /metrics (PORT is read when METRICS_PORT is unset)' },
  { name: 'LOG_LEVEL', fallback: 'info', what: 'pino log level: fatal, error, warn, info, debug, trace' },
];

export function helpText(): string {
  const width = Math.max(...ENVIRONMENT.map((v) => v.name.length));
  const rows = ENVIRONMENT.map((v) => `  ${v.name.padEnd(width)}  ${v.what} [default: ${v.fallback}]`);
  return [
    'ocr-platform worker: OCRs jobs from a Service Bus queue with tesseract.js and stores results in Blob Storage.',
    '',
    'usage: node src/worker/main.ts (development) | node dist/worker/main.js (image)',
    '',
    'environment:',
    ...rows,
    '',
    'HTTP: /live (200 at once), /ready (200 once the OCR engine is loaded and receiving has started), /metrics (Prometheus).',
    'Signals: SIGTERM/SIGINT stop receiving, let in-flight jobs finish within WORKER_MAX_JOB_SECONDS, abandon the rest, exit 0.',
    'Adding a language: npm install @tesseract.js-data/<lang>, rebuild the image, list it in the pipeline spec.languages.',
  ].join('\n');
}

export interface WorkerConfig {
  pipeline: string;
  namespace: string | undefined;
  languages: string[];
  storage: StorageSettings;
  queue: QueueSettings;
  concurrency: number;
  maxJobSeconds: number;
  maxImageBytes: number;
  maxPixels: number;
  maxDeliveryCount: number | undefined;
  port: number;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const { storage, queue, pipeline } = settingsFromEnv(env);
  if (!queue.connectionString && !queue.namespace) throw new ConfigError('set SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE so the worker can receive jobs');
  if (!storage.connectionString && !storage.accountUrl) throw new ConfigError('set BLOB_CONNECTION_STRING or BLOB_ACCOUNT_URL so the worker can read images and write results');
  const languages = (env.OCR_LANGUAGES ?? 'eng').split(',').map((s) => s.trim()).filter(Boolean);
  if (languages.length === 0) throw new ConfigError('OCR_LANGUAGES must list at least one language, e.g. "eng" or "eng,deu"');
  for (const language of languages) {
    if (!LANGUAGE_PATTERN.test(language)) throw new ConfigError(`OCR_LANGUAGES has "${language}", which is not a tesseract language code such as eng, deu or chi_sim`);
  }
  const portName = env.METRICS_PORT ? 'METRICS_PORT' : 'PORT';
  return {
    pipeline,
    namespace: env.OCR_NAMESPACE || undefined,
    languages,
    storage,
    queue,
    concurrency: int(env, 'WORKER_CONCURRENCY', 2, 1, 64),
    maxJobSeconds: int(env, 'WORKER_MAX_JOB_SECONDS', 120, 1, 3600),
    maxImageBytes: int(env, 'WORKER_MAX_IMAGE_BYTES', 20 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    maxPixels: int(env, 'WORKER_MAX_PIXELS', 40_000_000, 1, 1_000_000_000),
    maxDeliveryCount: env.WORKER_MAX_DELIVERY_COUNT ? int(env, 'WORKER_MAX_DELIVERY_COUNT', 10, 1, 2000) : undefined,
    port: int(env, portName, 9090, 0, 65535),
  };
}
