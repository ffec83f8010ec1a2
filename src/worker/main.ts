// The worker process. This file only wires the parts together:
// config -> HTTP probes (at once) -> OCR engine (in the background) -> consumer -> drain on SIGTERM.
import { hostname } from 'node:os';
import { ConfigError } from '../shared/config.ts';
import { createLogger } from '../shared/logger.ts';
import { alive, createProbeServer, listen, metrics as metricsRoute, readiness } from '../shared/probe-server.ts';
import { handleShutdown } from '../shared/shutdown.ts';
import { healthRoute } from './health.ts';
import { JobBlobs } from '../jobs/blobs.ts';
import { JobRecords } from '../jobs/records.ts';
import { blobServiceClient, serviceBusAdminClient, serviceBusClient, sharedKeyCredential, tableClient } from '../jobs/connections.ts';
import { helpText, loadConfig, type WorkerConfig } from './config.ts';
import { Consumer } from './consumer.ts';
import { createWorkerMetrics } from './metrics.ts';
import { DEFAULT_TUNING } from './ocr/defaults.ts';
import type { OcrEngine } from './ocr/engine.ts';
import { EngineRouter, engineInfo, openEngine } from './ocr/engines.ts';
import { preprocess } from './ocr/preprocess.ts';
import { splitDocument } from './ocr/documents.ts';
import { createProcessor } from './processor.ts';
import { CompletionNotifier } from './notify.ts';
import { NOTIFY_PROPERTY, scheduleJobRetry } from '../jobs/queue.ts';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(helpText());
  process.exit(0);
}

let config: WorkerConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`worker configuration error: ${error.message}\nrun with --help for every variable`);
  process.exit(2);
}

const logger = createLogger('worker', config.logLevel).child({ pipeline: config.pipeline, namespace: config.namespace });
const metrics = createWorkerMetrics(config.pipeline);
const workerName = `${hostname()}/${process.pid}`;
const maxJobMs = config.maxJobSeconds * 1000;
// The engine and models this worker runs (tesseract's auto model resolved in config.ts): in the start log, /health and every result.
const ocrEngine = engineInfo({ name: config.engine, tesseractModel: config.tesseractModel });

// The pipeline engine loads at start; another engine a job may ask for (OCR_REQUEST_ENGINES) on its first such job.
const router = new EngineRouter({
  engines: config.requestEngines.map((name) => engineInfo({ name, tesseractModel: config.tesseractModel })),
  open: async (name) =>
    await openEngine(
      { name, tesseractModel: config.tesseractModel, languages: config.languages, concurrency: config.concurrency, paddleGraphCache: config.paddleGraphCache },
      logger,
    ),
  log: logger,
});

// Declared before the probe server: /health reads them as soon as it listens.
let engine: OcrEngine | undefined;
let consumer: Consumer | undefined;
const state = { engine: false, receiving: false, stopping: false, error: undefined as string | undefined, loadSeconds: undefined as number | undefined };
// Up before anything slow, so /live answers while the models load; /ready waits for the engine and the receiver.
const detail = () =>
  state.error ?? (state.stopping ? 'shutting down' : `engine ${state.engine ? 'loaded' : 'loading'}, receiving ${state.receiving ? 'started' : 'not started'}`);
const server = createProbeServer(
  {
    '/live': alive,
    '/ready': readiness(
      () => state.engine && state.receiving && !state.stopping,
      (ready) => `${ready ? 'ready' : 'not ready'}: ${detail()}\n`,
    ),
    '/metrics': metricsRoute(metrics.registry),
    '/health': healthRoute(() => ({
      engine: ocrEngine,
      engines: router.engines,
      engineLoaded: state.engine,
      loadSeconds: state.loadSeconds,
      languages: config.languages,
      concurrency: config.concurrency,
      jobsInFlight: consumer?.inFlight ?? 0,
      receiving: state.receiving,
      stopping: state.stopping,
      error: state.error,
    })),
  },
  'not found: try /live, /ready, /metrics or /health\n',
);
const port = await listen(server, config.port);
logger.info(
  { port, engine: ocrEngine.name, model: ocrEngine.model, requestEngines: config.requestEngines, languages: config.languages, concurrency: config.concurrency },
  'Started probes; loading the OCR engine',
);

const sbClient = serviceBusClient(config.queue);
const blobs = new JobBlobs(blobServiceClient(config.storage), config.storage.container, sharedKeyCredential(config.storage));
const records = new JobRecords(tableClient(config.storage));
const retrySender = sbClient.createSender(config.queue.queueName);

async function maxDeliveryCount(): Promise<number> {
  if (config.maxDeliveryCount) return config.maxDeliveryCount;
  try {
    const queue = await serviceBusAdminClient(config.queue).getQueue(config.queue.queueName);
    return queue.maxDeliveryCount;
  } catch (error) {
    logger.warn({ err: error }, 'Failed to read the queue MaxDeliveryCount; assuming 10 (set WORKER_MAX_DELIVERY_COUNT to say otherwise)');
    return 10;
  }
}

async function start(): Promise<void> {
  const loadStarted = performance.now();
  engine = router;
  const [, deliveryLimit] = await Promise.all([router.start(), maxDeliveryCount()]);
  const pool = router;
  if (state.stopping) return;
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  metrics.modelLoadSeconds.set(loadSeconds);
  state.loadSeconds = loadSeconds;
  state.engine = true;
  logger.info({ loadSeconds: Number(loadSeconds.toFixed(2)), maxDeliveryCount: deliveryLimit }, 'OCR engine loaded');

  const notifier = new CompletionNotifier({ port: config.notifyPort, log: logger, onNotice: (outcome) => metrics.notices.inc({ outcome }) });
  const processor = createProcessor({
    records,
    blobs,
    engine: pool,
    prepare: (image) => preprocess(image, { maxPixels: config.maxPixels, timeoutSeconds: config.timeouts.preprocessSeconds, ...DEFAULT_TUNING.preprocess }),
    split: (image) =>
      splitDocument(image, { maxPages: config.maxPages, pdfDpi: config.pdfDpi, maxPixels: config.maxPixels, pdfTextLayer: config.pdfTextLayer }),
    languages: config.languages,
    maxImageBytes: config.maxImageBytes,
    maxJobMs,
    maxDeliveryCount: deliveryLimit,
    workerName,
    engineInfo: ocrEngine,
    dedupeEngine: config.dedupeEngine,
    partition: config.partition,
    onRecognized: (seconds) => metrics.ocrDuration.observe(seconds),
    // Sync jobs name the API replica that waits for them: it hears of the finished job at once (src/worker/notify.ts).
    onFinished: (job, delivery) => notifier.notify(job, delivery.properties),
    // A transient failure schedules the job's next attempt on the same queue: the worker needs Send as well as Listen.
    retries: {
      policy: config.retries,
      schedule: async (job, next, at, properties) => {
        const notifyUrl = properties?.[NOTIFY_PROPERTY];
        return await scheduleJobRetry(retrySender, job, next, at, undefined, typeof notifyUrl === 'string' ? { notifyUrl } : {});
      },
    },
    stageTimeouts: {
      download: config.timeouts.downloadSeconds * 1000,
      preprocess: config.timeouts.preprocessSeconds * 1000,
      store: config.timeouts.storeSeconds * 1000,
    },
  });
  // The SDK's own lock renewal is off (0): the consumer renews, counts and stops at the job budget.
  const receiverOptions = { receiveMode: 'peekLock', maxAutoLockRenewalDurationInMs: 0 } as const;
  const receiver = sbClient.createReceiver(config.queue.queueName, receiverOptions);
  // A receiver on a new connection, for when the current one stops delivering without an error (src/worker/consumer.ts).
  const freshReceiver = () => {
    const client = serviceBusClient(config.queue);
    const fresh = client.createReceiver(config.queue.queueName, receiverOptions);
    return { receiver: fresh, close: async () => await fresh.close().finally(async () => await client.close()) };
  };
  consumer = new Consumer(
    receiver,
    processor,
    {
      concurrency: config.concurrency,
      maxJobMs,
      log: logger,
      hooks: {
        onSettled: (settlement) => metrics.jobs.inc({ outcome: settlement.outcome }),
        onLockRenewed: () => metrics.lockRenewals.inc(),
        onInFlight: (count) => metrics.inFlight.set(count),
        // Unready while the consumer subscribes again after a receive error (the broker went away).
        onReceiving: (receiving) => {
          state.receiving = receiving;
        },
      },
    },
    freshReceiver,
  );
  consumer.start();
  state.receiving = true;
  logger.info({ queue: config.queue.queueName, partition: config.partition }, 'Started receiving');
}

// No forced exit: the drain is bounded by maxJobMs, and the operator gives worker pods
// maxJobSeconds + 30 s of grace (terminationGracePeriodSeconds).
const shutdown = handleShutdown({
  log: logger,
  stop: async () => {
    state.stopping = true;
    logger.info({ inFlight: consumer?.inFlight ?? 0 }, 'Stopping: no new jobs, draining in-flight ones');
    await consumer?.close(maxJobMs);
    await retrySender.close().catch((err: unknown) => logger.warn({ err }, 'Failed to close the retry sender'));
    await engine?.close();
    await sbClient.close().catch((err: unknown) => logger.warn({ err }, 'Failed to close the Service Bus client'));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  },
});

start().catch((err: unknown) => {
  state.error = `start-up failed: ${err instanceof Error ? err.message : String(err)}`;
  logger.fatal({ err }, 'Failed to start the worker');
  void shutdown('start-up failure', 1);
});
