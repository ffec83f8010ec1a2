// An API config with defaults, for tests and benchmarks (kept out of src/ so it does not ship in dist).
import { DEFAULTS, type ApiConfig } from '../../src/api/config.ts';

export function testConfig(overrides: Partial<ApiConfig> = {}): ApiConfig {
  return {
    port: 0,
    pipeline: 'test',
    namespace: undefined,
    languages: ['eng'],
    maxUploadBytes: DEFAULTS.maxUploadBytes,
    rateLimitPerMinute: 0,
    uploadUrlTtlSeconds: DEFAULTS.uploadUrlTtlSeconds,
    syncTimeoutSeconds: DEFAULTS.syncTimeoutSeconds,
    pollIntervalMs: 50,
    webhookSecret: undefined,
    webhookAttempts: 3,
    webhookBaseDelayMs: 50,
    readyCacheMs: 0,
    logLevel: 'silent',
    ...overrides,
  };
}
