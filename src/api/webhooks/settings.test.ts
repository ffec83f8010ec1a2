// The webhook settings as the API reads them from its environment (src/api/config.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ENV } from '../../contract/container.ts';
import { ConfigError } from '../../shared/config.ts';
import { DEFAULTS, configFromEnv } from '../config.ts';

const BASE = {
  [ENV.pipeline]: 'test',
  [ENV.blobConnectionString]: 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1',
  [ENV.serviceBusConnectionString]: 'Endpoint=sb://127.0.0.1/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=a2V5;UseDevelopmentEmulator=true',
  [ENV.queueName]: 'ocr-jobs',
};

void describe('webhook settings', () => {
  void it('default to 10 attempts, 10 s doubling up to 20 min, a poll a second, a 60 s lease and a 5 s attempt timeout', () => {
    const config = configFromEnv(BASE);
    assert.deepEqual(
      [
        config.webhookAttempts,
        config.webhookBaseDelayMs,
        config.webhookMaxDelayMs,
        config.webhookPollIntervalMs,
        config.webhookLeaseMs,
        config.webhookTimeoutMs,
      ],
      [10, 10_000, 1_200_000, 1_000, 60_000, 5_000],
    );
    assert.equal(DEFAULTS.webhookAttempts, 10);
  });

  const refused: [name: string, env: Record<string, string>, message: RegExp][] = [
    [
      'a lease no longer than the attempt timeout',
      { [ENV.webhookLeaseMs]: '5000', [ENV.webhookTimeoutMs]: '5000' },
      /WEBHOOK_LEASE_MS=5000 must exceed WEBHOOK_TIMEOUT_MS=5000/,
    ],
    ['zero attempts', { [ENV.webhookAttempts]: '0' }, /WEBHOOK_ATTEMPTS/],
    ['a poll interval under 10 ms', { [ENV.webhookPollIntervalMs]: '5' }, /WEBHOOK_POLL_INTERVAL_MS/],
  ];
  for (const [name, env, message] of refused) {
    void it(`refuse ${name} with a message naming the variable`, () => {
      assert.throws(
        () => configFromEnv({ ...BASE, ...env }),
        (error: unknown) => error instanceof ConfigError && message.test(error.message),
      );
    });
  }
});
