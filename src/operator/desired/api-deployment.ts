// The API Deployment: the HTTP front door. Replicas are left to the HPA when it scales.
import type { V1Deployment, V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { API_AUTH_DISABLED, API_KEYS_DIR, ENV, PORTS } from '../../contract/container.ts';
import { WEBHOOK_DEFAULTS, type OcrPipelineSpec } from '../../crds/ocrpipeline.ts';
import { apiKeysSecretRef } from './api-keys.ts';
import { jobsEnv } from './jobs-env.ts';
import { componentSecretHashes } from './credentials.ts';
import {
  API_KEYS_MOUNT,
  API_KEYS_VOLUME,
  TMP_MOUNT,
  TMP_VOLUME,
  basePodSpec,
  componentContainer,
  configHash,
  deployment,
  portEnv,
  secretEnv,
  sharedEnv,
} from './common.ts';
import type { DesiredInput } from './input.ts';
import { resolveRequestEngines } from './ocr-engine.ts';

/** The API container's second port: in-cluster scraping and diagnostics, never in the pipeline's Service. */
export const API_ADMIN_PORT_NAME = 'admin';
/** The API container's third port: workers' "job finished" notices, by pod IP; never in the pipeline's Service. */
export const API_INTERNAL_PORT_NAME = 'internal';

export function apiEnv(input: DesiredInput): V1EnvVar[] {
  const { spec } = input.pipeline;
  const env = [
    ...sharedEnv(input.pipeline, 'api'),
    ...portEnv('api'),
    // /metrics, /openapi.json and /health detail listen here; the pipeline's Service leaves this port out (api-service.ts).
    { name: ENV.apiAdminPort, value: String(PORTS.apiAdmin) },
    // Workers POST "job finished" notices to <pod IP>:<internal port> (the message property ocrNotify); the Service leaves this port out too.
    { name: ENV.apiInternalPort, value: String(PORTS.apiInternal) },
    { name: ENV.apiPodIp, valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    // The engines a job may ask for, the pipeline engine first (ocr-engine.ts): the API refuses others and keys results of jobs naming none by the first.
    { name: ENV.requestEngines, value: resolveRequestEngines(spec).join(',') },
    { name: ENV.apiMaxUploadBytes, value: String(spec.api.maxUploadBytes) },
    { name: ENV.apiRateLimitPerMinute, value: String(spec.api.rateLimitPerMinute) },
    ...webhookEnv(spec.api.webhooks),
    ...admissionEnv(input),
    ...jobsEnv(spec.jobs),
  ];
  // Keys of the upload URLs' job tokens, when the pipeline names them (the API derives one otherwise; src/api/jobs/token.ts).
  if (spec.api.jobTokenSecretRef) env.push(secretEnv(ENV.jobTokenSecret, spec.api.jobTokenSecretRef));
  // The user's keys Secret or the generated one; API_AUTH=disabled only when the spec says auth: disabled.
  const keys = apiKeysSecretRef(input.pipeline);
  env.push(keys ? { name: ENV.apiKeysFile, value: `${API_KEYS_DIR}/${keys.key}` } : { name: ENV.apiAuth, value: API_AUTH_DISABLED });
  return env;
}

/**
 * WEBHOOK_ALLOW_HTTP, WEBHOOK_ALLOWED_HOSTS, WEBHOOK_MAX_CONCURRENT and the retry schedule (WEBHOOK_ATTEMPTS,
 * WEBHOOK_BASE_DELAY_MS, WEBHOOK_MAX_DELAY_MS), each only when the spec differs from the API's
 * own default (WEBHOOK_DEFAULTS), so pipelines that leave spec.api.webhooks alone keep the same pod template and config hash.
 */
export function webhookEnv(webhooks: OcrPipelineSpec['api']['webhooks']): V1EnvVar[] {
  const env: V1EnvVar[] = [];
  if (webhooks.allowHttp !== WEBHOOK_DEFAULTS.allowHttp) env.push({ name: ENV.webhookAllowHttp, value: String(webhooks.allowHttp) });
  if (webhooks.allowedHosts.length > 0) env.push({ name: ENV.webhookAllowedHosts, value: webhooks.allowedHosts.join(',') });
  if (webhooks.maxConcurrent !== WEBHOOK_DEFAULTS.maxConcurrent) env.push({ name: ENV.webhookMaxConcurrent, value: String(webhooks.maxConcurrent) });
  if (webhooks.attempts !== WEBHOOK_DEFAULTS.attempts) env.push({ name: ENV.webhookAttempts, value: String(webhooks.attempts) });
  if (webhooks.retryBaseDelaySeconds !== WEBHOOK_DEFAULTS.retryBaseDelaySeconds) {
    env.push({ name: ENV.webhookBaseDelayMs, value: String(webhooks.retryBaseDelaySeconds * 1000) });
  }
  if (webhooks.maxRetryDelaySeconds !== WEBHOOK_DEFAULTS.maxRetryDelaySeconds) {
    env.push({ name: ENV.webhookMaxDelayMs, value: String(webhooks.maxRetryDelaySeconds * 1000) });
  }
  return env;
}

/**
 * API_MAX_BACKLOG and API_BACKLOG_URL (this pipeline's GET /v1/backlog on the operator) when spec.api.maxBacklog is set and
 * the operator offers the backlog (--backlog-url); nothing otherwise, so other pipelines keep their pod template.
 */
export function admissionEnv(input: DesiredInput): V1EnvVar[] {
  const { maxBacklog } = input.pipeline.spec.api;
  if (maxBacklog === undefined || input.backlog === undefined) return [];
  const { namespace = '', name = '' } = input.pipeline.metadata;
  return [
    { name: ENV.apiMaxBacklog, value: String(maxBacklog) },
    { name: ENV.apiBacklogUrl, value: pipelineBacklogUrl(input.backlog.url, namespace, name) },
  ];
}

/** The URL an API pod of `namespace`/`pipeline` reads its backlog from, given the operator's --backlog-url. */
export function pipelineBacklogUrl(base: string, namespace: string, pipeline: string): string {
  const url = new URL(base);
  url.searchParams.set('namespace', namespace);
  url.searchParams.set('pipeline', pipeline);
  return url.toString();
}

export function apiDeployment(input: DesiredInput): V1Deployment {
  const p = input.pipeline;
  const { spec } = p;
  const env = apiEnv(input);
  const volumes: V1Volume[] = [TMP_VOLUME];
  const mounts: V1VolumeMount[] = [TMP_MOUNT];
  const keys = apiKeysSecretRef(p);
  if (keys) {
    // A Secret volume, not an env var: the file is re-read on change without a restart.
    volumes.push({ name: API_KEYS_VOLUME, secret: { secretName: keys.name, items: [{ key: keys.key, path: keys.key }], defaultMode: 0o440 } });
    mounts.push(API_KEYS_MOUNT);
  }
  const hash = configHash({ env, secrets: componentSecretHashes(spec, input.secretHashes, 'api') });
  const container = componentContainer(spec, 'api', env, mounts);
  container.ports = [
    ...(container.ports ?? []),
    { name: API_ADMIN_PORT_NAME, containerPort: PORTS.apiAdmin, protocol: 'TCP' },
    { name: API_INTERNAL_PORT_NAME, containerPort: PORTS.apiInternal, protocol: 'TCP' },
  ];
  return deployment(p, 'api', spec.api.replicas, hash, {
    ...basePodSpec(spec, 'api'),
    containers: [container],
    volumes,
  });
}
