// The Service in front of the API pods.
import type { V1Service } from '@kubernetes/client-node';
import { PORT_NAMES } from '../../contract/container.ts';
import { childMetadata, selectorLabels } from './common.ts';
import type { DesiredInput } from './input.ts';

export function apiService({ pipeline: p }: DesiredInput): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(p, 'api'),
    spec: {
      type: p.spec.api.service.type,
      selector: selectorLabels(p.metadata.name, 'api'),
      ports: [{ name: 'http', port: p.spec.api.service.port, targetPort: PORT_NAMES.api, protocol: 'TCP' }],
    },
  };
}
