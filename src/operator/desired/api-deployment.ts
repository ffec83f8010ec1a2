// The API Deployment: the HTTP front door. Replicas are left to the HPA when it scales.
import type { V1Deployment, V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { API_AUTH_DISABLED, API_KEYS_DIR, ENV, PORTS } from '../../contract/container.ts';
import { apiKeysSecretRef } from './api-keys.ts';
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
  sharedEnv,
} from './common.ts';
import type { DesiredInput } from './input.ts';

/** The API container's second port: in-cluster scraping and diagnostics, never in the pipeline's Service. */
export const API_ADMIN_PORT_NAME = 'admin';

export function apiEnv(input: DesiredInput): V1EnvVar[] {
  const { spec } = input.pipeline;
  const env = [
    ...sharedEnv(input.pipeline, 'api'),
    ...portEnv('api'),
    // /metrics, /openapi.json and /health detail listen here; the pipeline's Service leaves this port out (api-service.ts).
    { name: ENV.apiAdminPort, value: String(PORTS.apiAdmin) },
    { name: ENV.apiMaxUploadBytes, value: String(spec.api.maxUploadBytes) },
    { name: ENV.apiRateLimitPerMinute, value: String(spec.api.rateLimitPerMinute) },
  ];
  // The user's keys Secret or the generated one; API_AUTH=disabled only when the spec says auth: disabled.
  const keys = apiKeysSecretRef(input.pipeline);
  env.push(keys ? { name: ENV.apiKeysFile, value: `${API_KEYS_DIR}/${keys.key}` } : { name: ENV.apiAuth, value: API_AUTH_DISABLED });
  return env;
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
  container.ports = [...(container.ports ?? []), { name: API_ADMIN_PORT_NAME, containerPort: PORTS.apiAdmin, protocol: 'TCP' }];
  return deployment(p, 'api', spec.api.replicas, hash, {
    ...basePodSpec(spec, 'api'),
    containers: [container],
    volumes,
  });
}
