// Flags of the stand-alone Service Bus stand-in (`npm run standin:servicebus -- [flags]`). One
// table (FLAGS) drives --help and the pure parser in src/shared/config.ts; main.ts does the I/O.
import { ConfigError, helpText as renderHelp, logLevelSetting, parseSettings, type Env, type Setting } from '../shared/config.ts';
import { DEFAULT_KEY_NAME, DEFAULT_MAX_MESSAGES_PER_QUEUE, type StandinKeyOptions, type StandinQueueOptions } from './index.ts';
import { QUEUE_STATUSES, type QueueStatus } from './queue-store.ts';
import { RIGHTS, type Right } from './sas.ts';

export const FLAGS = [
  { name: 'queue', env: '', type: 'string', repeatable: true, help: 'Declare a queue. More can be created through the admin API.' },
  {
    // The queue store refuses a lock that rounds to 0 ms; 300 s is Service Bus's own maximum.
    name: 'lock-duration',
    env: '',
    type: 'number',
    min: 0.001,
    max: 300,
    unit: 'seconds',
    defaultHelp: '60 seconds',
    help: 'Peek-lock duration of the declared queues.',
  },
  { name: 'max-delivery-count', env: '', type: 'integer', min: 1, defaultHelp: '10', help: 'Deliveries before a message is dead-lettered.' },
  { name: 'status', env: '', type: 'string', choices: QUEUE_STATUSES, defaultHelp: 'Active', help: 'Status of the declared queues.' },
  { name: 'host', env: '', type: 'string', default: '127.0.0.1', help: 'Interface to listen on.' },
  { name: 'port', env: '', type: 'integer', default: 5672, min: 0, max: 65535, help: 'AMQP port; 0 = any free port.' },
  { name: 'http-port', env: '', type: 'integer', default: 5300, min: 0, max: 65535, help: 'ATOM management HTTP port; 0 = any free port.' },
  { name: 'key-name', env: '', type: 'string', default: DEFAULT_KEY_NAME, help: 'SAS key name with all rights.' },
  { name: 'key', env: 'SERVICEBUS_STANDIN_KEY', type: 'string', defaultHelp: 'a random key, printed', help: 'Its key.' },
  {
    name: 'extra-key',
    env: '',
    type: 'string',
    repeatable: true,
    help: `Another SAS key with limited rights, NAME=KEY:RIGHTS, e.g. sender=s3cret:Send (RIGHTS: comma list of ${RIGHTS.join(', ')}).`,
  },
  {
    name: 'max-messages',
    env: '',
    type: 'integer',
    default: DEFAULT_MAX_MESSAGES_PER_QUEUE,
    min: 1,
    help: 'Messages per queue (queue + DLQ) before sends fail with QuotaExceeded.',
  },
  { ...logLevelSetting(), name: 'log-level' },
  { name: 'help', env: '', type: 'boolean', default: false, help: 'Print this help and exit.' },
] as const satisfies readonly Setting[];

export function helpText(): string {
  return renderHelp(FLAGS, {
    intro: [
      'Service Bus stand-in: AMQP 1.0 + ATOM management endpoint for the real @azure/service-bus SDK.',
      '',
      'Usage: npm run standin:servicebus -- [flags]',
    ],
    flags: true,
    footer: [
      'Output: the connection string for ServiceBusClient and the management connection string',
      'for ServiceBusAdministrationClient (add emulatorHttpPolicy() from src/servicebus-standin',
      'to the admin client: SDK 7.9.x otherwise speaks https to the ATOM endpoint).',
    ],
  });
}

export interface StandinCliConfig {
  host: string;
  port: number;
  httpPort: number;
  queues: StandinQueueOptions[];
  keyName: string;
  /** The key of keyName; undefined: main makes a random one (and prints it in the connection string). */
  key: string | undefined;
  /** Keys with limited rights, by name. */
  extraKeys: Record<string, StandinKeyOptions>;
  maxMessagesPerQueue: number;
  logLevel: string;
  help: boolean;
}

/** Pure: parses argv and `env` (main passes process.argv and process.env); throws ConfigError naming the flag. */
export function parseConfig(argv: readonly string[], env: Env): StandinCliConfig {
  const v = parseSettings(FLAGS, env, argv);
  const status = v.status as QueueStatus | undefined;
  const queues = v.queue.map((name) => ({ name, lockDurationSeconds: v['lock-duration'], maxDeliveryCount: v['max-delivery-count'], status }));
  return {
    host: v.host,
    port: v.port,
    httpPort: v['http-port'],
    queues,
    keyName: v['key-name'],
    key: v.key,
    extraKeys: Object.fromEntries(v['extra-key'].map(parseExtraKey)),
    maxMessagesPerQueue: v['max-messages'],
    logLevel: v['log-level'],
    help: v.help,
  };
}

function parseExtraKey(spec: string): [string, StandinKeyOptions] {
  const match = /^([^=]+)=([^:]+):(.+)$/.exec(spec);
  if (match === null) throw new ConfigError(`--extra-key must look like NAME=KEY:Send,Listen, got '${spec}'.`);
  const rights = match[3]!.split(',').map((r) => r.trim());
  for (const right of rights)
    if (!RIGHTS.includes(right as Right)) throw new ConfigError(`--extra-key ${match[1]}: unknown right '${right}'; use ${RIGHTS.join(', ')}.`);
  return [match[1]!, { key: match[2]!, rights: rights as Right[] }];
}
