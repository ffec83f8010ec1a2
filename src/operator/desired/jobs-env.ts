// spec.jobs -> the pods' environment: the job deadlines, recovery and retention settings the API's recovery loop
// reads (src/api/config.ts recoveryRows, src/api/recovery/), and the worker's stage timeouts (src/worker/stage-timeout.ts).
import type { V1EnvVar } from '@kubernetes/client-node';
import { ENV, JOB_DEFAULTS, STAGE_TIMEOUT_DEFAULTS } from '../../contract/container.ts';
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
  } as const satisfies Record<Exclude<keyof OcrPipelineSpec['jobs'], 'stageTimeouts'>, string>;
  const env: V1EnvVar[] = [];
  for (const [field, name] of Object.entries(names) as [keyof typeof names, string][]) {
    if (jobs[field] !== JOB_DEFAULTS[field]) env.push({ name, value: String(jobs[field]) });
  }
  return env;
}

/**
 * spec.jobs.stageTimeouts as the worker's WORKER_*_TIMEOUT_SECONDS, each only when it differs from STAGE_TIMEOUT_DEFAULTS
 * (the worker's own default), so pipelines that leave them alone keep the same pod template and config hash.
 */
export function stageTimeoutsEnv(timeouts: OcrPipelineSpec['jobs']['stageTimeouts']): V1EnvVar[] {
  const names = {
    downloadSeconds: ENV.workerDownloadTimeoutSeconds,
    preprocessSeconds: ENV.workerPreprocessTimeoutSeconds,
    storeSeconds: ENV.workerStoreTimeoutSeconds,
  } as const satisfies Record<keyof OcrPipelineSpec['jobs']['stageTimeouts'], string>;
  const env: V1EnvVar[] = [];
  for (const [field, name] of Object.entries(names) as [keyof typeof names, string][]) {
    if (timeouts[field] !== STAGE_TIMEOUT_DEFAULTS[field]) env.push({ name, value: String(timeouts[field]) });
  }
  return env;
}
