import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../shared/config.ts';
import { FLAGS, helpText, parseConfig } from './cli.ts';

void test('defaults: loopback, AMQP 5672, ATOM 5300, no queues, the root key from SERVICEBUS_STANDIN_KEY', () => {
  const cfg = parseConfig([], { SERVICEBUS_STANDIN_KEY: 'k' });
  assert.deepEqual(cfg, {
    host: '127.0.0.1',
    port: 5672,
    httpPort: 5300,
    queues: [],
    keyName: 'RootManageSharedAccessKey',
    key: 'k',
    extraKeys: {},
    maxMessagesPerQueue: 100_000,
    logLevel: 'info',
    help: false,
  });
  assert.equal(parseConfig([], {}).key, undefined, 'no key: main makes a random one');
  assert.equal(parseConfig(['--key', 'flag'], { SERVICEBUS_STANDIN_KEY: 'env' }).key, 'flag', 'the flag wins');
});

void test('repeated --queue and --extra-key: every occurrence, rights lists kept whole', () => {
  const cfg = parseConfig(
    [
      '--queue',
      'a',
      '--queue',
      'b',
      '--lock-duration',
      '30',
      '--max-delivery-count',
      '3',
      '--status',
      'Disabled',
      '--extra-key',
      'sender=s3cret:Send,Listen',
      '--extra-key=r=x:Listen',
    ],
    {},
  );
  assert.deepEqual(cfg.queues, [
    { name: 'a', lockDurationSeconds: 30, maxDeliveryCount: 3, status: 'Disabled' },
    { name: 'b', lockDurationSeconds: 30, maxDeliveryCount: 3, status: 'Disabled' },
  ]);
  assert.deepEqual(cfg.extraKeys, { sender: { key: 's3cret', rights: ['Send', 'Listen'] }, r: { key: 'x', rights: ['Listen'] } });
});

const errors: { argv: string[]; env?: Record<string, string>; message: RegExp }[] = [
  { argv: ['--port', '70000'], message: /^--port must be an integer between 0 and 65535, got "70000"$/ },
  { argv: ['--lock-duration', '301'], message: /^--lock-duration must be a number between 0.001 and 300 \(seconds\)/ },
  { argv: ['--max-delivery-count', '0'], message: /^--max-delivery-count must be an integer at least 1/ },
  { argv: ['--status', 'Paused'], message: /^--status must be one of Active, Disabled, ReceiveDisabled, SendDisabled; got "Paused"$/ },
  { argv: ['--extra-key', 'sender'], message: /^--extra-key must look like NAME=KEY:Send,Listen, got 'sender'\.$/ },
  { argv: ['--extra-key', 'sender=k:Send,Peek'], message: /^--extra-key sender: unknown right 'Peek'; use Manage, Send, Listen\.$/ },
  { argv: [], env: { LOG_LEVEL: 'loud' }, message: /^LOG_LEVEL must be one of trace/ },
  { argv: ['--bogus'], message: /--bogus[\s\S]*Run with --help/ },
];
for (const e of errors) {
  void test(`refused: ${e.argv.join(' ') || JSON.stringify(e.env)}`, () => {
    assert.throws(
      () => parseConfig(e.argv, e.env ?? {}),
      (err: unknown) => err instanceof ConfigError && e.message.test(err.message),
    );
  });
}

void test('--help lists every flag', () => {
  const help = helpText();
  for (const f of FLAGS) assert.match(help, new RegExp(`^ {2}--${f.name}\\b`, 'm'), f.name);
  assert.match(help, /--key <value> +Its key\. \(env SERVICEBUS_STANDIN_KEY, default a random key, printed\)/);
});
