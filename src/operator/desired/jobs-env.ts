// spec.jobs -> the API pods' environment: the job deadlines, recovery and retention settings the
// API's recovery loop reads (src/api/config.ts recoveryRows, src/api/recovery/).
import type { V1EnvVar } from '@kubernetes/client-node';
import { ENV, JOB_DEFAULTS } from '../../contract/container.ts';
import type { OcrPipelineSpec } from '../../crds/ocrpipeline.ts';

/**
 * spec.jobs as JOB_* / RESULT_CACHE_TTL_HOURS / RECOVERY_INTERVAL_SECONDS, each only when it differs from JOB_DEFAULTS (the API's own
 * default), so pipelines that leave spec.jobs alone keep the same pod template and config hash.
 */
export function jobsEnv(jobs: OcrPipelineSpec['jobs']): V1EnvVar[] {
  const names = {
    uploadDeadlineSeconds: ENV.jobUploadDeadlineSeconds,
    queuedDeadlineSeconds: ENV.jobQueuedDeadlineSeconds,
    processingDeadlineSeconds: ENV.jobProcessingDeadlineSeconds,
    maxRequeues: ENV.jobMaxRequeues,
    retentionHours: ENV.jobRetentionHours,
    resultCacheTtlHours: ENV.resultCacheTtlHours,
    recoveryIntervalSeconds: ENV.recoveryIntervalSeconds,
  } as const satisfies Record<keyof OcrPipelineSpec['jobs'], string>;
  const env: V1EnvVar[] = [];
  for (const [field, name] of Object.entries(names) as [keyof typeof names, string][]) {
    if (jobs[field] !== JOB_DEFAULTS[field]) env.push({ name, value: String(jobs[field]) });
  }
  return env;
}
