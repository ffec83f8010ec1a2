// An API config with defaults, for tests and benchmarks (kept out of src/ so it does not ship in dist).
import { DEFAULTS, RECOVERY_DEFAULTS, type ApiConfig } from '../../src/api/config.ts';
import { ENV } from '../../src/contract/container.ts';

/** Lets webhooks reach a test receiver on http://127.0.0.1 (the egress policy refuses it otherwise). */
export const LOOPBACK_WEBHOOKS = { allowHttp: true, allowedHosts: ['127.0.0.1'] } as const satisfies ApiConfig['webhookEgress'];

/** The same as environment variables, for tests that start the API as a process. */
export const LOOPBACK_WEBHOOKS_ENV = { [ENV.webhookAllowHttp]: 'true', [ENV.webhookAllowedHosts]: '127.0.0.1' };

export function testConfig(overrides: Partial<ApiConfig> = {}): ApiConfig {
  return {
    port: 0,
    adminPort: 0,
    pipeline: 'test',
    namespace: undefined,
    languages: ['eng'],
    maxUploadBytes: DEFAULTS.maxUploadBytes,
    rateLimitPerMinute: 0,
    rateLimitBurst: DEFAULTS.rateLimitBurst,
    authFailuresPerMinute: DEFAULTS.authFailuresPerMinute,
    maxConcurrentUploads: DEFAULTS.maxConcurrentUploads,
    maxConcurrentUploadsPerKey: DEFAULTS.maxConcurrentUploadsPerKey,
    uploadUrlTtlSeconds: DEFAULTS.uploadUrlTtlSeconds,
    syncTimeoutSeconds: DEFAULTS.syncTimeoutSeconds,
    pollIntervalMs: 50,
    podIp: undefined,
    internalPort: 0,
    maxBacklog: undefined,
    backlogUrl: undefined,
    webhookSecret: undefined,
    jobTokenSecret: undefined,
    webhookAttempts: 3,
    webhookBaseDelayMs: 50,
    webhookMaxDelayMs: 1_000,
    // Fast outbox reads, so tests see deliveries at once; a production-size attempt timeout, so a loaded machine does not
    // turn an answered attempt into a retry. Tests of takeovers set a short lease themselves.
    webhookPollIntervalMs: 50,
    webhookLeaseMs: 10_000,
    webhookTimeoutMs: 5_000,
    // As in production: https to public addresses only. Tests with a loopback receiver pass LOOPBACK_WEBHOOKS.
    webhookEgress: { allowHttp: false, allowedHosts: [] },
    webhookMaxConcurrent: DEFAULTS.webhookMaxConcurrent,
    readyCacheMs: 0,
    logLevel: 'silent',
    recovery: RECOVERY_DEFAULTS,
    ...overrides,
  };
}
