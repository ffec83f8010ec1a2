// CLI: run the Service Bus stand-in on its own (local platform, manual testing).
//   npm run standin:servicebus -- --queue ocr-jobs --port 5672
// Flags and --help come from cli.ts. Prints the connection strings on stdout; SIGINT/SIGTERM
// close it cleanly, or exit 1 after 5 s when closing hangs.
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../shared/config.ts';
import { createLogger } from '../shared/logger.ts';
import { handleShutdown } from '../shared/shutdown.ts';
import { helpText, parseConfig } from './cli.ts';
import { startServiceBusStandin, type StandinKeyOptions } from './index.ts';

function fail(message: string): never {
  // Config errors about an unknown flag already point at --help.
  process.stderr.write(`servicebus-standin: ${message}\n${message.includes('--help') ? '' : 'Run with --help for usage.\n'}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let cfg;
  try {
    cfg = parseConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  if (cfg.help) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  const keys: Record<string, StandinKeyOptions> = {
    [cfg.keyName]: { key: cfg.key ?? randomBytes(32).toString('base64') },
    ...cfg.extraKeys,
  };
  const logger = createLogger('servicebus-standin', cfg.logLevel);

  let standin;
  try {
    standin = await startServiceBusStandin({
      host: cfg.host,
      port: cfg.port,
      httpPort: cfg.httpPort,
      keys,
      queues: cfg.queues,
      maxMessagesPerQueue: cfg.maxMessagesPerQueue,
      logger,
    });
  } catch (error) {
    fail((error as Error).message);
  }
  process.stdout.write(
    [
      `SERVICEBUS_CONNECTION_STRING=${standin.connectionString}`,
      `SERVICEBUS_MANAGEMENT_CONNECTION_STRING=${standin.managementConnectionString}`,
      ...Object.keys(keys)
        .filter((name) => name !== cfg.keyName)
        .map((name) => `# key ${name}: ${standin.connectionStringsFor(name).connectionString}`),
      '',
    ].join('\n'),
  );

  // Closing drops connections and timers; 5000 ms bounds a hang before the forced exit 1.
  handleShutdown({ log: logger, stop: () => standin.close(), forceExitAfterMs: 5000 });
}

await main();
