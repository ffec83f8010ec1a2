// All children of one pipeline, in apply order. Pure: same input, same output.
import type { KubernetesObject } from '@kubernetes/client-node';
import { apiDeployment } from './api-deployment.ts';
import { apiHpa } from './api-hpa.ts';
import { apiService } from './api-service.ts';
import { pdb } from './pdb.ts';
import { workerDeployment } from './worker-deployment.ts';
import { workerHpa } from './worker-hpa.ts';
import { kedaScaledObject } from './keda-scaledobject.ts';
import { networkPolicy } from './network-policy.ts';
import type { DesiredInput } from './input.ts';

export type { DesiredInput } from './input.ts';

export function desiredChildren(input: DesiredInput): KubernetesObject[] {
  const children: (KubernetesObject | undefined)[] = [
    apiDeployment(input),
    apiService(input),
    apiHpa(input),
    pdb(input, 'api'),
    workerDeployment(input),
    workerHpa(input),
    // provider "keda": a ScaledObject instead of the worker HPA (KEDA makes and owns the
    // HPA). It needs the Prometheus URL (--prometheus-url) its trigger queries. It is not
    // in MANAGED_KINDS (src/contract/kinds.ts): clusters without KEDA have no ScaledObject API;
    // the controller watches it as an optional kind (kube.ts sources) when it has the URL.
    input.scaling?.prometheusUrl ? kedaScaledObject(input, { prometheusUrl: input.scaling.prometheusUrl, plan: input.scaling.plan }) : undefined,
    pdb(input, 'worker'),
    // spec.networkPolicy.enabled only; disabling it later prunes both (the kind is in MANAGED_KINDS).
    networkPolicy(input, 'api'),
    networkPolicy(input, 'worker'),
  ];
  return children.filter((c): c is KubernetesObject => c !== undefined);
}

/** Identity of a child for set arithmetic: "apps/v1/Deployment/name". */
export const childKey = (o: KubernetesObject): string => `${o.apiVersion}/${o.kind}/${o.metadata?.name ?? ''}`;
