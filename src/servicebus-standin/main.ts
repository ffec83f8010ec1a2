// CLI: run the Service Bus stand-in on its own (local platform, manual testing).
//   npm run standin:servicebus -- --queue ocr-jobs --port 5672
// Prints the connection strings on stdout; SIGINT/SIGTERM close it cleanly.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createLogger } from '../shared/logger.ts';
import { DEFAULT_KEY_NAME, DEFAULT_MAX_MESSAGES_PER_QUEUE, startServiceBusStandin, type StandinKeyOptions, type StandinQueueOptions } from './index.ts';
import { RIGHTS, type Right } from './sas.ts';
import { QUEUE_STATUSES, type QueueStatus } from './queue-store.ts';

const HELP = `Service Bus stand-in: AMQP 1.0 + ATOM management endpoint for the real @azure/service-bus SDK.

Usage: npm run standin:servicebus -- [options]

Options:
  --queue NAME              Declare a queue (repeatable). More can be created through the admin API.
  --lock-duration SECONDS   Peek-lock duration of the declared queues (default 60, max 300).
  --max-delivery-count N    Deliveries before a message is dead-lettered (default 10).
  --status STATUS           Status of the declared queues: ${QUEUE_STATUSES.join(', ')} (default Active).
  --host HOST               Interface to listen on (default 127.0.0.1).
  --port PORT               AMQP port (default 5672; 0 = any free port).
  --http-port PORT          ATOM management HTTP port (default 5300; 0 = any free port).
  --key-name NAME           SAS key name with all rights (default ${DEFAULT_KEY_NAME}).
  --key KEY                 Its key (default: $SERVICEBUS_STANDIN_KEY, else a random key, printed).
  --extra-key NAME=KEY:RIGHTS
                            Another SAS key with limited rights, e.g. sender=s3cret:Send
                            (rights: comma list of ${RIGHTS.join(', ')}). Repeatable.
  --max-messages N          Messages per queue (queue + DLQ) before sends fail with
                            QuotaExceeded (default ${DEFAULT_MAX_MESSAGES_PER_QUEUE}).
  --log-level LEVEL         pino level (default info).
  --help                    Show this help.

Output: the connection string for ServiceBusClient and the management connection string
for ServiceBusAdministrationClient (add emulatorHttpPolicy() from src/servicebus-standin
to the admin client: SDK 7.9.x otherwise speaks https to the ATOM endpoint).
`;

function fail(message: string): never {
  process.stderr.write(`servicebus-standin: ${message}\nRun with --help for usage.\n`);
  process.exit(2);
}

function port(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`${flag} must be a port number 0-65535, got '${value}'.`);
  return n;
}

function positive(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0)) fail(`${flag} must be a positive number, got '${value}'.`);
  return n;
}

function parseExtraKey(spec: string): [string, StandinKeyOptions] {
  const match = /^([^=]+)=([^:]+):(.+)$/.exec(spec);
  if (match === null) fail(`--extra-key must look like NAME=KEY:Send,Listen, got '${spec}'.`);
  const rights = match[3]!.split(',').map((r) => r.trim());
  for (const right of rights) if (!RIGHTS.includes(right as Right)) fail(`--extra-key ${match[1]}: unknown right '${right}'; use ${RIGHTS.join(', ')}.`);
  return [match[1]!, { key: match[2]!, rights: rights as Right[] }];
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        queue: { type: 'string', multiple: true },
        'lock-duration': { type: 'string' },
        'max-delivery-count': { type: 'string' },
        status: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'http-port': { type: 'string' },
        'key-name': { type: 'string' },
        key: { type: 'string' },
        'extra-key': { type: 'string', multiple: true },
        'max-messages': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const status = values.status as QueueStatus | undefined;
  if (status !== undefined && !QUEUE_STATUSES.includes(status)) fail(`--status must be one of ${QUEUE_STATUSES.join(', ')}, got '${status}'.`);
  const queues: StandinQueueOptions[] = (values.queue ?? []).map((name) => ({
    name,
    lockDurationSeconds: positive(values['lock-duration'], '--lock-duration'),
    maxDeliveryCount: positive(values['max-delivery-count'], '--max-delivery-count'),
    status,
  }));
  const keyName = values['key-name'] ?? DEFAULT_KEY_NAME;
  const keys: Record<string, StandinKeyOptions> = {
    [keyName]: { key: values.key ?? process.env.SERVICEBUS_STANDIN_KEY ?? randomBytes(32).toString('base64') },
  };
  for (const spec of values['extra-key'] ?? []) {
    const [name, rule] = parseExtraKey(spec);
    keys[name] = rule;
  }
  const logger = createLogger('servicebus-standin', values['log-level'] ?? process.env.LOG_LEVEL ?? 'info');
  const maxMessages = positive(values['max-messages'], '--max-messages');

  let standin;
  try {
    standin = await startServiceBusStandin({
      host: values.host ?? '127.0.0.1',
      port: port(values.port, 5672, '--port'),
      httpPort: port(values['http-port'], 5300, '--http-port'),
      keys,
      queues,
      maxMessagesPerQueue: maxMessages,
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
        .filter((name) => name !== keyName)
        .map((name) => `# key ${name}: ${standin.connectionStringsFor(name).connectionString}`),
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Stopping the Service Bus stand-in');
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    standin.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'Close failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

await main();
