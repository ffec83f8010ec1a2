// The API process: read the environment, wire real clients, listen. All behaviour
// lives in app.ts; this file only connects it to the world and shuts it down.
import type { FastifyInstance } from 'fastify';
import { JobBlobs, JobRecords, blobServiceClient, serviceBusClient, settingsFromEnv, sharedKeyCredential, tableClient } from '../jobs/index.ts';
import { ConfigError } from '../shared/config.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { handleShutdown } from '../shared/shutdown.ts';
import { buildApp } from './app.ts';
import { HELP, configFromEnv, loadApiKeys } from './config.ts';
import { ServiceBusJobQueue } from './queue.ts';

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
  const app = await buildApp({ config, records, blobs, queue, keys, logger: log });

  handleShutdown({
    log,
    // within the default 30 s terminationGracePeriodSeconds of the API pods
    forceExitAfterMs: 25_000,
    stop: async () => {
      log.info('Closing: no new connections, finishing in-flight requests');
      await app.close();
      await queue.close();
    },
  });

  // A deep accept backlog: bursts of thousands of connections queue in the kernel instead of being refused.
  await app.listen({ port: config.port, host: '0.0.0.0', backlog: 4096 });
  const adminPort = await listenAdmin(app.admin, config.adminPort, log);
  log.info(
    {
      port: config.port,
      adminPort,
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

await main();
