// The API Deployment: the HTTP front door. Replicas are left to the HPA when it scales.
import type { V1Deployment, V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { COMMANDS, ENV, PORT_NAMES, PORTS, API_KEYS_DIR } from './contract.ts';
import {
  API_KEYS_MOUNT,
  API_KEYS_VOLUME,
  RESTRICTED_CONTAINER_SECURITY,
  TMP_MOUNT,
  TMP_VOLUME,
  basePodSpec,
  deployment,
  configHash,
  probes,
  resources,
  sharedEnv,
} from './common.ts';
import type { DesiredInput } from './input.ts';

export function apiEnv(input: DesiredInput): V1EnvVar[] {
  const { spec } = input.pipeline;
  const env = [
    ...sharedEnv(input.pipeline),
    { name: ENV.port, value: String(PORTS.api) },
    { name: ENV.metricsPort, value: String(PORTS.api) },
    { name: ENV.apiMaxUploadBytes, value: String(spec.api.maxUploadBytes) },
    { name: ENV.apiRateLimitPerMinute, value: String(spec.api.rateLimitPerMinute) },
  ];
  if (spec.api.apiKeysSecretRef) env.push({ name: ENV.apiKeysFile, value: `${API_KEYS_DIR}/${spec.api.apiKeysSecretRef.key}` });
  return env;
}

export function apiDeployment(input: DesiredInput): V1Deployment {
  const p = input.pipeline;
  const { spec } = p;
  const env = apiEnv(input);
  const volumes: V1Volume[] = [TMP_VOLUME];
  const mounts: V1VolumeMount[] = [TMP_MOUNT];
  const keys = spec.api.apiKeysSecretRef;
  if (keys) {
    // A Secret volume, not an env var: the file is re-read on change without a restart.
    volumes.push({ name: API_KEYS_VOLUME, secret: { secretName: keys.name, items: [{ key: keys.key, path: keys.key }], defaultMode: 0o440 } });
    mounts.push(API_KEYS_MOUNT);
  }
  const hash = configHash({ env, secrets: input.secretHashes });
  return deployment(p, 'api', spec.api.replicas, hash, {
    ...basePodSpec(spec),
    containers: [
      {
        name: 'api',
        image: spec.image,
        imagePullPolicy: spec.imagePullPolicy,
        command: [...COMMANDS.api],
        ports: [{ name: PORT_NAMES.api, containerPort: PORTS.api, protocol: 'TCP' }],
        env,
        resources: resources(spec.api.resources),
        ...probes(PORT_NAMES.api, spec.api.probes),
        securityContext: RESTRICTED_CONTAINER_SECURITY,
        volumeMounts: mounts,
      },
    ],
    volumes,
  });
}
