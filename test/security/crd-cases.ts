// Invalid OcrPipeline specs against a real API server with the generated CRD installed
// (test/integration/operator/harness.ts): refused with 422 and the CRD's own message
// (OpenAPI schema and CEL rules from src/crds/). Needs OCR_TEST_KUBECONFIG.
import type { KubeConfig } from '@kubernetes/client-node';
import { apply, pipeline, type PipelineManifest } from '../integration/operator/harness.ts';
import type { Case } from './runner.ts';

type Spec = Record<string, unknown>;

export function crdCases(get: () => { kc: KubeConfig; namespace: string }): Case[] {
  const base = (): Spec => pipeline('x', 'x').spec;
  const rows: [id: string, attack: string, spec: () => Spec, message: string][] = [
    [
      'api-min-over-max',
      'api.replicas min 5 > max 2',
      () => ({ ...base(), api: { replicas: { min: 5, max: 2 } } }),
      'replicas.min must be less than or equal to replicas.max',
    ],
    [
      'worker-min-over-max',
      'worker.replicas min 4 > max 1',
      () => ({ ...base(), worker: { replicas: { min: 4, max: 1 } } }),
      'replicas.min must be less than or equal to replicas.max',
    ],
    [
      'ns-and-connection-string',
      'both a Service Bus namespace and a connection string',
      () => ({
        ...base(),
        queue: { serviceBus: { namespace: 'contoso.servicebus.windows.net', connectionStringSecretRef: { name: 's', key: 'k' }, queueName: 'q' } },
      }),
      'set exactly one of queue.serviceBus.namespace (workload identity) or queue.serviceBus.connectionStringSecretRef',
    ],
    [
      'auth-disabled-with-keys',
      'api.auth disabled together with apiKeysSecretRef',
      () => ({ ...base(), api: { replicas: { min: 1, max: 3 }, auth: 'disabled', apiKeysSecretRef: { name: 'keys', key: 'keys' } } }),
      'api.auth disabled runs the API without keys: remove api.apiKeysSecretRef, or set api.auth to apiKeys',
    ],
    ['language-word', 'languages ["English"]', () => ({ ...base(), languages: ['English'] }), "should match '^[a-z]{3}(_[a-z]+)?$'"],
    ['language-traversal', 'languages ["../eng"]', () => ({ ...base(), languages: ['../eng'] }), "should match '^[a-z]{3}(_[a-z]+)?$'"],
    [
      'upload-zero',
      'api.maxUploadBytes 0',
      () => ({ ...base(), api: { replicas: { min: 1, max: 3 }, maxUploadBytes: 0 } }),
      'should be greater than or equal to 1',
    ],
    [
      'port-negative',
      'api.service.port -1',
      () => ({ ...base(), api: { replicas: { min: 1, max: 3 }, service: { port: -1 } } }),
      'should be greater than or equal to 1',
    ],
  ];
  return rows.map(([id, attack, spec, message]) => ({
    id: `crd-${id}`,
    attack,
    expected: `422 "${message}"`,
    run: async () => {
      const { kc, namespace } = get();
      const invalid: PipelineManifest = { ...pipeline(namespace, `invalid-${id}`.slice(0, 50)), spec: spec() };
      const error = await apply(kc, invalid).then(
        () => undefined,
        (e: unknown) => e as { code?: number; body?: string },
      );
      if (!error) return 'accepted';
      const text = (JSON.parse(error.body ?? '{}') as { message?: string }).message ?? String(error.body);
      return text.includes(message) ? `${error.code} "${message}"` : `${error.code} ${text}`;
    },
  }));
}
