// The API settings of the sync push and admission by backlog: what start-up accepts and what it refuses, with the variable named.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../shared/config.ts';
import { configFromEnv } from './config.ts';

const BASE = {
  SERVICEBUS_CONNECTION_STRING: 'Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=v',
  BLOB_CONNECTION_STRING: 'UseDevelopmentStorage=true',
  API_AUTH: 'disabled',
};

void describe('API settings for sync notices and admission by backlog', () => {
  const accepted: [string, Record<string, string>, Partial<ReturnType<typeof configFromEnv>>][] = [
    ['without them: no pod IP (sync waits poll), internal port 8081, no backlog limit', {}, { podIp: undefined, internalPort: 8081, maxBacklog: undefined }],
    ['a pod IP and an internal port of its own', { API_POD_IP: '10.1.2.3', API_INTERNAL_PORT: '8181' }, { podIp: '10.1.2.3', internalPort: 8181 }],
    [
      'a backlog limit with the URL to read the backlog from',
      { API_MAX_BACKLOG: '500', API_BACKLOG_URL: 'http://op.ocr-system.svc:8080/v1/backlog?namespace=a&pipeline=b' },
      { maxBacklog: 500, backlogUrl: 'http://op.ocr-system.svc:8080/v1/backlog?namespace=a&pipeline=b' },
    ],
  ];
  for (const [name, env, expected] of accepted) {
    void it(`accepts ${name}`, () => {
      const config = configFromEnv({ ...BASE, ...env });
      for (const [key, value] of Object.entries(expected)) assert.equal(config[key as keyof typeof config], value, key);
    });
  }

  const refused: [string, Record<string, string>, RegExp][] = [
    ['an internal port equal to the public port', { PORT: '8081', API_INTERNAL_PORT: '8081' }, /API_INTERNAL_PORT=8081 equals PORT/],
    ['an internal port equal to the admin port', { API_ADMIN_PORT: '9191', API_INTERNAL_PORT: '9191' }, /API_INTERNAL_PORT=9191/],
    ['a backlog limit without the URL to read it from', { API_MAX_BACKLOG: '500' }, /API_MAX_BACKLOG=500 needs API_BACKLOG_URL/],
    [
      'a backlog URL that is not http(s)',
      { API_MAX_BACKLOG: '500', API_BACKLOG_URL: 'operator:8080' },
      /API_BACKLOG_URL=operator:8080 is not an http\(s\) URL/,
    ],
    ['a backlog limit of 0', { API_MAX_BACKLOG: '0', API_BACKLOG_URL: 'http://op/v1/backlog' }, /API_MAX_BACKLOG/],
  ];
  for (const [name, env, message] of refused) {
    void it(`refuses ${name}`, () => {
      assert.throws(
        () => configFromEnv({ ...BASE, ...env }),
        (error: unknown) => error instanceof ConfigError && message.test(error.message),
      );
    });
  }
});
