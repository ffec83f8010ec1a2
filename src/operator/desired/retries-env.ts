// spec.retries -> the worker pods' environment: the retry policy of transient job failures (src/worker/retries.ts).
import type { V1EnvVar } from '@kubernetes/client-node';
import { ENV, RETRY_DEFAULTS } from '../../contract/container.ts';
import type { OcrPipelineSpec } from '../../crds/ocrpipeline.ts';

/**
 * spec.retries as WORKER_RETRY_*, each only when it differs from RETRY_DEFAULTS (the worker's own default), so
 * pipelines that leave spec.retries alone keep the same pod template and config hash.
 */
export function retriesEnv(retries: OcrPipelineSpec['retries']): V1EnvVar[] {
  const names = {
    maxAttempts: ENV.workerRetryMaxAttempts,
    baseDelaySeconds: ENV.workerRetryBaseDelaySeconds,
    maxDelaySeconds: ENV.workerRetryMaxDelaySeconds,
    maxTimeouts: ENV.workerRetryMaxTimeouts,
  } as const satisfies Record<keyof OcrPipelineSpec['retries'], string>;
  const env: V1EnvVar[] = [];
  for (const [field, name] of Object.entries(names) as [keyof typeof names, string][]) {
    if (retries[field] !== RETRY_DEFAULTS[field]) env.push({ name, value: String(retries[field]) });
  }
  return env;
}
