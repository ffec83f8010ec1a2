// The worker's configuration, all from the environment the operator sets on the pod. One
// settings table documents every variable; `--help` prints it and the parser follows it.
import { ENV, PORTS, RETRY_DEFAULTS, STAGE_TIMEOUT_DEFAULTS } from '../contract/container.ts';
import {
  checkLanguages,
  connectionSettings,
  languagesSetting,
  POD_SETTINGS,
  requireQueue,
  requireStorage,
  type QueueSettings,
  type StorageSettings,
} from '../jobs/connections.ts';
import { OCR_ENGINES, unknownEngines } from '../contract/image.ts';
import { pipelinePartition } from '../jobs/records.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chooseTesseractModel, DEBIAN_TESSDATA, type TesseractModel } from './ocr/defaults.ts';
import { PADDLE_LANGUAGES } from './ocr/paddle/models.ts';
import type { RetryPolicy } from './retries.ts';
import { ConfigError, helpText as renderHelp, logLevelSetting, parseSettings, type Env, type Setting } from '../shared/config.ts';

export const SETTINGS = [
  ...POD_SETTINGS,
  languagesSetting('Comma list of tesseract languages to load; each needs the npm package @tesseract.js-data/<lang> in the image.'),
  {
    name: 'engine',
    env: ENV.ocrEngine,
    type: 'string',
    default: 'tesseract',
    choices: ['tesseract', 'paddle'],
    help: 'OCR engine: tesseract (tesseract.js, every installed language) or paddle (PP-OCRv4 via onnxruntime-node, eng and chi_sim only).',
  },
  {
    name: 'requestEngines',
    env: ENV.requestEngines,
    type: 'list',
    defaultHelp: '(every engine of the image)',
    help:
      'Comma list of the engines a job may ask for (tesseract, paddle); OCR_ENGINE is always one. The others load on the first job ' +
      'that asks for one, once per process; a job asking for an engine not listed, or for paddle with another language, fails (OCR_FAILED).',
  },
  {
    name: 'tesseractModel',
    env: ENV.tesseractModel,
    type: 'string',
    default: 'auto',
    choices: ['auto', 'best', 'fast'],
    help:
      `tesseract models: best (npm @tesseract.js-data, best_int), fast (Debian's tesseract-ocr-<lang> in ${DEBIAN_TESSDATA}; refused when a ` +
      "language's file is missing) or auto (fast when every language's file is there, else best).",
  },
  {
    name: 'maxPages',
    env: ENV.workerMaxPages,
    type: 'integer',
    default: 20,
    min: 1,
    max: 500,
    help: 'Pages of one PDF or multi-page TIFF read at most; a longer document fails as DOCUMENT_TOO_MANY_PAGES.',
  },
  {
    name: 'pdfDpi',
    env: ENV.workerPdfDpi,
    type: 'integer',
    default: 200,
    min: 72,
    max: 600,
    unit: 'dpi',
    help: 'Resolution PDF pages are rendered at; lowered for a page that would exceed WORKER_MAX_PIXELS.',
  },
  {
    name: 'pdfTextLayer',
    env: ENV.workerPdfTextLayer,
    type: 'boolean',
    default: true,
    help: "Read a PDF page's own visible text instead of rendering and OCRing it when it has real text (src/worker/ocr/pdf-text-layer.ts).",
  },
  {
    name: 'concurrency',
    env: ENV.workerConcurrency,
    type: 'integer',
    default: 2,
    min: 1,
    max: 64,
    help: 'Messages processed at once, and tesseract workers loaded (one per job); about one per core.',
  },
  {
    name: 'maxJobSeconds',
    env: ENV.workerMaxJobSeconds,
    type: 'integer',
    default: 120,
    min: 1,
    max: 3600,
    unit: 'seconds',
    help: 'Time budget of one job: locks are renewed this long, OCR is stopped after it, and SIGTERM waits this long to drain.',
  },
  {
    name: 'maxImageBytes',
    env: ENV.workerMaxImageBytes,
    type: 'integer',
    default: 20 * 1024 * 1024,
    min: 1,
    max: 1024 * 1024 * 1024,
    unit: 'bytes',
    help: 'Larger uploads are dead-lettered as IMAGE_TOO_LARGE before download.',
  },
  {
    name: 'maxPixels',
    env: ENV.workerMaxPixels,
    type: 'integer',
    default: 40_000_000,
    min: 1,
    max: 1_000_000_000,
    help: 'Images with more pixels are dead-lettered as IMAGE_TOO_MANY_PIXELS without decoding.',
  },
  {
    name: 'maxDeliveryCount',
    env: ENV.workerMaxDeliveryCount,
    type: 'integer',
    min: 1,
    max: 2000,
    defaultHelp: '(read from the queue, else 10)',
    help: "The queue's MaxDeliveryCount, when the worker may not read queue properties.",
  },
  {
    name: 'retryMaxAttempts',
    env: ENV.workerRetryMaxAttempts,
    type: 'integer',
    default: RETRY_DEFAULTS.maxAttempts,
    min: 1,
    max: 100,
    help: 'Attempts of a job in all (the first included) before a transient failure fails it as DELIVERY_LIMIT_EXCEEDED.',
  },
  {
    name: 'retryBaseDelaySeconds',
    env: ENV.workerRetryBaseDelaySeconds,
    type: 'number',
    default: RETRY_DEFAULTS.baseDelaySeconds,
    min: 0.01,
    max: 3600,
    unit: 'seconds',
    help: 'Shortest delay before a retry; the delay after attempt n is drawn between this and min(max delay, this * 2^(n-1)).',
  },
  {
    name: 'retryMaxDelaySeconds',
    env: ENV.workerRetryMaxDelaySeconds,
    type: 'number',
    default: RETRY_DEFAULTS.maxDelaySeconds,
    min: 0.01,
    max: 86400,
    unit: 'seconds',
    help: 'Longest delay before a retry.',
  },
  {
    name: 'retryMaxTimeouts',
    env: ENV.workerRetryMaxTimeouts,
    type: 'integer',
    default: RETRY_DEFAULTS.maxTimeouts,
    min: 1,
    max: 100,
    help: 'OCR timeouts of one job after which it fails (as OCR_FAILED) instead of being retried again.',
  },
  {
    name: 'downloadTimeoutSeconds',
    env: ENV.workerDownloadTimeoutSeconds,
    type: 'integer',
    default: STAGE_TIMEOUT_DEFAULTS.downloadSeconds,
    min: 1,
    max: 3600,
    unit: 'seconds',
    help: 'Longest read of one image from Blob Storage; over it the job is retried (STAGE_TIMEOUT).',
  },
  {
    name: 'preprocessTimeoutSeconds',
    env: ENV.workerPreprocessTimeoutSeconds,
    type: 'integer',
    default: STAGE_TIMEOUT_DEFAULTS.preprocessSeconds,
    min: 1,
    max: 3600,
    unit: 'seconds',
    help: 'Longest decode and scaling of one image; over it the job is retried and it counts as an OCR timeout.',
  },
  {
    name: 'storeTimeoutSeconds',
    env: ENV.workerStoreTimeoutSeconds,
    type: 'integer',
    default: STAGE_TIMEOUT_DEFAULTS.storeSeconds,
    min: 1,
    max: 3600,
    unit: 'seconds',
    help: 'Longest write of one result to Blob Storage; over it the job is retried (STAGE_TIMEOUT).',
  },
  {
    name: 'notifyPort',
    env: ENV.workerNotifyPort,
    type: 'integer',
    default: PORTS.apiInternal,
    min: 0,
    max: 65535,
    help: "The only port job-finished notices go to (the API's internal port, where a waiting POST /v1/ocr listens); 0 = any port.",
  },
  {
    name: 'port',
    env: ENV.metricsPort,
    fallbackEnv: ENV.port,
    type: 'integer',
    default: PORTS.worker,
    min: 0,
    max: 65535,
    help: 'HTTP port for /live, /ready and /metrics.',
  },
  {
    name: 'paddleGraphCache',
    env: ENV.paddleGraphCache,
    type: 'string',
    defaultHelp: '$XDG_CACHE_HOME/ocr-platform-paddle, else <tmpdir>/ocr-platform-paddle',
    help: "paddle only: directory where the rewritten graphs are kept between starts when the image has none prefused; 'off' for none (src/worker/ocr/paddle/graph-cache.ts).",
  },
  logLevelSetting(),
] as const satisfies readonly Setting[];

export function helpText(): string {
  return renderHelp(SETTINGS, {
    intro: [
      'ocr-platform worker: OCRs jobs from a Service Bus queue with tesseract.js and stores results in Blob Storage.',
      '',
      'Usage: node src/worker/main.ts (development) | node dist/worker/main.js (image)',
    ],
    flags: false,
    footer: [
      'HTTP: /live (200 at once), /ready (200 once the OCR engine is loaded and receiving has started), /metrics (Prometheus), /health (JSON: engine, models loaded, languages, jobs in flight, memory, uptime; always 200).',
      `Signals: SIGTERM/SIGINT stop receiving, let in-flight jobs finish within ${ENV.workerMaxJobSeconds}, abandon the rest, exit 0.`,
      'Adding a language: npm install @tesseract.js-data/<lang>, add tesseract-ocr-<lang> to the Dockerfile and src/contract/image.ts, rebuild the image, list it in spec.languages.',
    ],
  });
}

export type OcrEngineName = 'tesseract' | 'paddle';

/** OCR_REQUEST_ENGINES: the pipeline engine first, then the others listed (default: every engine of the image). */
function requestEnginesOf(engine: OcrEngineName, listed: readonly string[] | undefined): OcrEngineName[] {
  const unknown = unknownEngines(listed ?? []);
  if (unknown.length > 0) throw new ConfigError(`${ENV.requestEngines} must list tesseract and/or paddle; got ${unknown.map((u) => `"${u}"`).join(', ')}`);
  const others = listed ?? OCR_ENGINES;
  return [engine, ...OCR_ENGINES.filter((name) => name !== engine && others.includes(name))];
}

/** The paddle engine's recogniser reads English and simplified Chinese only (src/worker/ocr/paddle/models.ts). */
function checkPaddleLanguages(languages: readonly string[]): void {
  const unsupported = languages.filter((language) => !PADDLE_LANGUAGES.includes(language));
  if (unsupported.length > 0) {
    throw new ConfigError(`${ENV.ocrEngine}=paddle reads ${PADDLE_LANGUAGES.join(' and ')} only; ${ENV.languages} also asks for ${unsupported.join(', ')}`);
  }
}

/**
 * tesseract's models as resolved (defaults.ts chooseTesseractModel): the fast models come from Debian packages, so fast needs
 * each language's file (tesseract-ocr-<lang> in the image); auto falls back to best when one is missing.
 */
function tesseractModelOf(requested: 'auto' | TesseractModel, languages: readonly string[]): TesseractModel {
  const { model, missing } = chooseTesseractModel(requested, languages, (language) => existsSync(join(DEBIAN_TESSDATA, `${language}.traineddata`)));
  if (requested === 'fast' && missing.length > 0) {
    throw new ConfigError(
      `${ENV.tesseractModel}=fast reads ${DEBIAN_TESSDATA}, which has no ${missing.map((l) => `${l}.traineddata`).join(', ')}: ` +
        `install tesseract-ocr-${missing[0]!.replace('_', '-')} in the image, or use the best models`,
    );
  }
  return model;
}

export interface WorkerConfig {
  pipeline: string;
  namespace: string | undefined;
  /**
   * The records partition this worker serves (pipelinePartition: `<namespace>.<pipeline>`, or the pipeline alone without
   * OCR_NAMESPACE). A message for any other partition is dead-lettered as PIPELINE_MISMATCH.
   */
  partition: string;
  languages: string[];
  /** The OCR engine (src/worker/ocr/): tesseract or paddle; it loads at start and reads jobs that name none. */
  engine: OcrEngineName;
  /** The engines a job may ask for, `engine` first (OCR_REQUEST_ENGINES; default every engine of the image); the others load on first use. */
  requestEngines: OcrEngineName[];
  /**
   * The engine the dedupe key of a job naming none names: `engine` when OCR_REQUEST_ENGINES is set, as the API does with its
   * first (the operator sets both the same); undefined when unset, so a hand-run worker and API keep the key without one.
   */
  dedupeEngine: OcrEngineName | undefined;
  /** tesseract's models as resolved from OCR_TESSERACT_MODEL (auto picks one); undefined when tesseract is not among requestEngines. */
  tesseractModel: TesseractModel | undefined;
  storage: StorageSettings;
  queue: QueueSettings;
  concurrency: number;
  /** Time budget of one job, in seconds. */
  maxJobSeconds: number;
  maxImageBytes: number;
  maxPixels: number;
  /** Pages of one document read at most, and the DPI PDF pages are rendered at (src/worker/ocr/documents.ts). */
  maxPages: number;
  pdfDpi: number;
  /** Use a PDF page's embedded text layer when it has real text (WORKER_PDF_TEXT_LAYER, default true). */
  pdfTextLayer: boolean;
  /** undefined: read the queue's MaxDeliveryCount at start-up. */
  maxDeliveryCount: number | undefined;
  /** Retries with backoff (src/worker/retries.ts), delays in ms. */
  retries: RetryPolicy;
  /** Stage timeouts (src/worker/stage-timeout.ts), in seconds; recognition has what is left of maxJobSeconds. */
  timeouts: { downloadSeconds: number; preprocessSeconds: number; storeSeconds: number };
  /** The API's internal port, the only port job-finished notices go to (src/worker/notify.ts); 0 = any. */
  notifyPort: number;
  port: number;
  /** OCR_PADDLE_GRAPH_CACHE: where the paddle engine keeps its fused graphs (undefined: the default directory; `off`: none). */
  paddleGraphCache: string | undefined;
  logLevel: string;
}

/** Pure: parses `env` (main passes process.env); throws ConfigError naming the variable. */
export function loadConfig(env: Env): WorkerConfig {
  const values = parseSettings(SETTINGS, env);
  const { storage, queue, pipeline } = connectionSettings(values);
  requireQueue(queue, 'the worker receives jobs from the queue');
  requireStorage(storage, 'the worker reads images and writes results there');
  const engine = values.engine as OcrEngineName;
  if (engine === 'paddle') checkPaddleLanguages(values.languages);
  else checkLanguages(values.languages);
  const requestEngines = requestEnginesOf(engine, values.requestEngines);
  const tesseractModel = requestEngines.includes('tesseract')
    ? tesseractModelOf(values.tesseractModel as 'auto' | TesseractModel, values.languages)
    : undefined;
  return {
    pipeline,
    namespace: values.namespace,
    partition: partitionOf(pipeline, values.namespace),
    languages: values.languages,
    engine,
    requestEngines,
    dedupeEngine: values.requestEngines === undefined ? undefined : engine,
    tesseractModel,
    storage,
    queue,
    concurrency: values.concurrency,
    maxJobSeconds: values.maxJobSeconds,
    maxImageBytes: values.maxImageBytes,
    maxPixels: values.maxPixels,
    maxPages: values.maxPages,
    pdfDpi: values.pdfDpi,
    pdfTextLayer: values.pdfTextLayer,
    maxDeliveryCount: values.maxDeliveryCount,
    retries: {
      maxAttempts: values.retryMaxAttempts,
      baseDelayMs: Math.round(values.retryBaseDelaySeconds * 1000),
      maxDelayMs: Math.round(values.retryMaxDelaySeconds * 1000),
      maxTimeouts: values.retryMaxTimeouts,
    },
    timeouts: {
      downloadSeconds: values.downloadTimeoutSeconds,
      preprocessSeconds: values.preprocessTimeoutSeconds,
      storeSeconds: values.storeTimeoutSeconds,
    },
    notifyPort: values.notifyPort,
    port: values.port,
    paddleGraphCache: values.paddleGraphCache,
    logLevel: values.logLevel,
  };
}

function partitionOf(pipeline: string, namespace: string | undefined): string {
  try {
    return pipelinePartition(pipeline, namespace);
  } catch (error) {
    throw new ConfigError(`${ENV.namespace}: ${(error as Error).message}`);
  }
}
