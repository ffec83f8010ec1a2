// The API process: read the environment, wire real clients, listen. All behaviour
// lives in app.ts; this file only connects it to the world and shuts it down.
import type { FastifyInstance } from 'fastify';
import {
  JobBlobs,
  JobRecords,
  WebhookOutbox,
  blobServiceClient,
  pipelinePartition,
  serviceBusClient,
  settingsFromEnv,
  sharedKeyCredential,
  tableClient,
} from '../jobs/index.ts';
import { ConfigError } from '../shared/config.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { handleShutdown } from '../shared/shutdown.ts';
import { buildApp } from './app.ts';
import { HELP, configFromEnv, loadApiKeys } from './config.ts';
import { listenAccepting, type Listening } from './listen.ts';
import { ApiMetrics } from './metrics.ts';
import { ServiceBusJobQueue } from './queue.ts';
import { RecoveryRunner } from './recovery/runner.ts';

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(HELP);
    return;
  }
  const log = createLogger('api');
  let config;
  let keys;
  let settings;
  try {
    settings = settingsFromEnv(process.env);
    config = configFromEnv(process.env);
    keys = loadApiKeys(process.env);
    log.level = config.logLevel;
  } catch (error) {
    if (error instanceof ConfigError) {
      log.fatal(`Configuration error: ${error.message} (see --help)`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }

  const records = new JobRecords(tableClient(settings.storage));
  const blobs = new JobBlobs(blobServiceClient(settings.storage), settings.storage.container, sharedKeyCredential(settings.storage));
  const sb = serviceBusClient(settings.queue);
  const queue = new ServiceBusJobQueue(sb, settings.queue.queueName);
  const outbox = new WebhookOutbox(tableClient(settings.storage));
  const metrics = new ApiMetrics();
  const app = await buildApp({ config, records, blobs, queue, keys, outbox, metrics, logger: log });
  // The recovery loop (src/api/recovery/): every replica runs a runner, the one holding the pipeline's lease works.
  const recovery = config.recovery.enabled
    ? new RecoveryRunner({
        partition: pipelinePartition(config.pipeline, config.namespace),
        settings: config.recovery,
        records,
        blobs,
        queue,
        deadLetters: sb.createReceiver(settings.queue.queueName, { subQueueType: 'deadLetter', receiveMode: 'peekLock' }),
        metrics,
        log,
      })
    : undefined;

  // Set once listening; the shutdown handler is in place before, for a signal during start-up.
  const accepting: { listening?: Listening } = {};
  handleShutdown({
    log,
    // within the default 30 s terminationGracePeriodSeconds of the API pods
    forceExitAfterMs: 25_000,
    stop: async () => {
      log.info('Closing: no new connections, finishing in-flight requests');
      await recovery?.stop();
      await accepting.listening?.close();
      await app.close();
      await queue.close();
    },
  });

  // A deep accept backlog: bursts of thousands of connections queue in the kernel instead of being refused;
  // several accepting sockets (listen.ts): a saturated server still accepts them in a few passes, not one per pass.
  accepting.listening = await listenAccepting(app, { port: config.port, host: '0.0.0.0', backlog: 4096 });
  const adminPort = await listenAdmin(app.admin, config.adminPort, log);
  recovery?.start();
  const internalPort = await listenInternal(app, config.podIp, config.internalPort, log);
  log.info(
    {
      port: config.port,
      adminPort,
      internalPort,
      pipeline: config.pipeline,
      namespace: config.namespace,
      languages: config.languages,
      auth: keys ? `${keys.size} keys` : 'disabled',
      webhooks: Boolean(config.webhookSecret),
    },
    'Started listening',
  );
  // Warm the storage clients (table and container creation) so the first request is not slow.
  void Promise.allSettled([records.ping(), blobs.ping()]);
}

/**
 * Listens on the admin port (/metrics, /openapi.json, /health detail). A failure there is
 * logged, not fatal: jobs on the main port matter more than scraping, and a host that runs
 * several API processes side by side (the local platform, until its pods declare the admin
 * port) has only one 9090. Returns the port listened on, or undefined.
 */
async function listenAdmin(admin: FastifyInstance, port: number, log: Logger): Promise<number | undefined> {
  try {
    await admin.listen({ port, host: '0.0.0.0' });
    const address = admin.server.address();
    return typeof address === 'object' && address ? address.port : port;
  } catch (err) {
    log.error({ err, port }, 'Failed to listen on the admin port; /metrics, /openapi.json and the /health detail are unavailable');
    return undefined;
  }
}

/**
 * Listens on the internal port for the workers' "job finished" notices and names this replica's address in sync
 * jobs' messages. Only with API_POD_IP (the address workers reach this pod at); without it, or when the port is
 * taken, sync waits poll (logged, not fatal). Returns the port listened on, or undefined.
 */
async function listenInternal(app: FastifyInstance, podIp: string | undefined, port: number, log: Logger): Promise<number | undefined> {
  if (!podIp) {
    log.info('Taking no job-finished notices (API_POD_IP unset): sync waits poll the job record');
    return undefined;
  }
  try {
    await app.internal.listen({ port, host: '0.0.0.0' });
    const address = app.internal.server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    app.notices.listening(podIp, bound);
    return bound;
  } catch (err) {
    log.error({ err, port }, 'Failed to listen on the internal port; sync waits poll the job record');
    return undefined;
  }
}

await main();
