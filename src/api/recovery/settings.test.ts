// The recovery settings as the API reads them from its environment (src/api/config.ts): defaults,
// overrides, and the combinations it refuses at start-up with a message naming the variables.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RECOVERY_DEFAULTS, configFromEnv } from '../config.ts';
import { ConfigError } from '../../shared/config.ts';

const BASE = {
  OCR_PIPELINE: 'receipts',
  SERVICEBUS_CONNECTION_STRING: 'Endpoint=sb://localhost/;SharedAccessKeyName=k;SharedAccessKey=a2V5;UseDevelopmentEmulator=true',
  BLOB_CONNECTION_STRING: 'UseDevelopmentStorage=true',
  API_AUTH: 'disabled',
};

void describe('the recovery settings of the API', () => {
  void it('are the shared defaults when no variable is set', () => {
    assert.deepEqual(configFromEnv(BASE).recovery, RECOVERY_DEFAULTS);
  });

  const overrides: { name: string; env: Record<string, string>; expect: Partial<typeof RECOVERY_DEFAULTS> }[] = [
    { name: 'RECOVERY_ENABLED=false turns the loop off', env: { RECOVERY_ENABLED: 'false' }, expect: { enabled: false } },
    { name: 'JOB_QUEUED_DEADLINE_SECONDS sets the queued deadline', env: { JOB_QUEUED_DEADLINE_SECONDS: '120' }, expect: { queuedDeadlineSeconds: 120 } },
    { name: 'JOB_RETENTION_HOURS sets the retention', env: { JOB_RETENTION_HOURS: '720' }, expect: { retentionHours: 720 } },
    { name: 'RECOVERY_BATCH_SIZE sets the jobs per step and pass', env: { RECOVERY_BATCH_SIZE: '10' }, expect: { batchSize: 10 } },
    {
      name: 'an interval at or above the lease is allowed when the loop is off',
      env: { RECOVERY_ENABLED: 'false', RECOVERY_INTERVAL_SECONDS: '60' },
      expect: { enabled: false, intervalSeconds: 60 },
    },
  ];
  for (const c of overrides) {
    void it(c.name, () => {
      assert.deepEqual(configFromEnv({ ...BASE, ...c.env }).recovery, { ...RECOVERY_DEFAULTS, ...c.expect });
    });
  }

  const refused: { name: string; env: Record<string, string>; message: RegExp }[] = [
    {
      name: 'an interval not below the lease (the lease would lapse between renewals)',
      env: { RECOVERY_INTERVAL_SECONDS: '60', RECOVERY_LEASE_SECONDS: '60' },
      message: /RECOVERY_INTERVAL_SECONDS=60 must be below RECOVERY_LEASE_SECONDS=60/,
    },
    {
      name: 'an upload deadline shorter than the upload URL lifetime',
      env: { JOB_UPLOAD_DEADLINE_SECONDS: '600', UPLOAD_URL_TTL_SECONDS: '900' },
      message: /JOB_UPLOAD_DEADLINE_SECONDS=600 is below UPLOAD_URL_TTL_SECONDS=900/,
    },
    { name: 'a lease Blob Storage does not grant (over 60 s)', env: { RECOVERY_LEASE_SECONDS: '61' }, message: /RECOVERY_LEASE_SECONDS/ },
    { name: 'a zero interval', env: { RECOVERY_INTERVAL_SECONDS: '0' }, message: /RECOVERY_INTERVAL_SECONDS/ },
  ];
  for (const c of refused) {
    void it(`refuses ${c.name}`, () => {
      assert.throws(
        () => configFromEnv({ ...BASE, ...c.env }),
        (error: unknown) => error instanceof ConfigError && c.message.test(error.message),
      );
    });
  }
});
