import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Deployment, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
// The serializer KubernetesObjectApi.patch uses (not re-exported from the package root).
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { apiReplicas, input, pipeline, scalingProvider, set, workerReplicas } from '../testing/fixtures.ts';
import { ApiKeys } from '../../api/auth.ts';
import type { OcrPipeline } from '../../crds/ocrpipeline.ts';
import { apiDeployment } from './api-deployment.ts';
import { apiKeysSecretRef, generatedKeysSecret, readKeysCommand, type KeysSecretRef } from './api-keys.ts';
import { apiHpa } from './api-hpa.ts';
import { apiService } from './api-service.ts';
import { ENV, PORTS } from '../../contract/container.ts';
import { CONFIG_HASH_ANNOTATION, FIELD_MANAGER, LABELS } from '../../contract/labels.ts';
import { QUEUE_BACKLOG_METRIC } from '../../contract/metrics.ts';
import { desiredChildren } from './index.ts';
import { pdb } from './pdb.ts';
import { workerDeployment } from './worker-deployment.ts';
import { workerHpa } from './worker-hpa.ts';

const container = (d: V1Deployment): V1Container => d.spec?.template.spec?.containers[0] as V1Container;
const env = (d: V1Deployment) => Object.fromEntries((container(d).env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
const hash = (d: V1Deployment) => d.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];

void test('every child of the full sample renders as in the snapshot', (t) => {
  t.assert.snapshot(desiredChildren(input(pipeline('full'), { 'ocr-servicebus/connectionString': 'h1', 'ocr-storage/connectionString': 'h2' })));
});

void test('the minimal sample renders two Deployments, a Service, two HPAs and two PDBs', () => {
  const kinds = desiredChildren(input(pipeline('minimal'))).map((c) => `${c.kind}/${c.metadata?.name}`);
  assert.deepEqual(kinds, [
    'Deployment/receipts-api',
    'Service/receipts-api',
    'HorizontalPodAutoscaler/receipts-api',
    'PodDisruptionBudget/receipts-api',
    'Deployment/receipts-worker',
    'HorizontalPodAutoscaler/receipts-worker',
    'PodDisruptionBudget/receipts-worker',
  ]);
});

void test('rendering twice gives identical output (no clocks, no randomness)', () => {
  const a = JSON.stringify(desiredChildren(input(pipeline('full'), { 'x/y': 'h' })));
  const b = JSON.stringify(desiredChildren(input(pipeline('full'), { 'x/y': 'h' })));
  assert.equal(a, b);
});

void test('every child carries a controller ownerReference and the pipeline labels', () => {
  for (const child of desiredChildren(input(pipeline('full')))) {
    assert.deepEqual(child.metadata?.ownerReferences, [
      {
        apiVersion: 'ocrplatform.io/v1alpha1',
        kind: 'OcrPipeline',
        name: 'invoices',
        uid: '3f1c1e9a-0000-4000-8000-000000000001',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.equal(child.metadata?.labels?.[LABELS.managedBy], FIELD_MANAGER);
    assert.equal(child.metadata?.labels?.[LABELS.pipeline], 'invoices');
    assert.equal(child.metadata?.namespace, 'finance');
  }
});

// spec.replicas is present exactly when no autoscaler owns the Deployment.
const replicaCases: { name: string; build: () => V1Deployment; replicas: number | undefined }[] = [
  {
    name: 'an autoscaled API Deployment leaves replicas to its HPA',
    build: () => apiDeployment(input(pipeline('minimal', apiReplicas(2, 5)))),
    replicas: undefined,
  },
  { name: 'a fixed-size API Deployment sets replicas to min', build: () => apiDeployment(input(pipeline('minimal', apiReplicas(3, 3)))), replicas: 3 },
  {
    name: 'an autoscaled worker Deployment leaves replicas to its HPA',
    build: () => workerDeployment(input(pipeline('minimal', workerReplicas(0, 5)))),
    replicas: undefined,
  },
  {
    name: 'a worker Deployment scaled by KEDA leaves replicas to KEDA',
    build: () => workerDeployment(input(pipeline('minimal', workerReplicas(1, 5), scalingProvider('keda')))),
    replicas: undefined,
  },
  { name: 'a fixed-size worker Deployment sets replicas to min', build: () => workerDeployment(input(pipeline('minimal', workerReplicas(2, 2)))), replicas: 2 },
];
for (const c of replicaCases) {
  void test(c.name, () => assert.equal(c.build().spec?.replicas, c.replicas));
}

const hpaCases: { name: string; build: () => V2HorizontalPodAutoscaler | undefined; present: boolean }[] = [
  { name: 'the API gets a CPU HPA when its replicas can scale', build: () => apiHpa(input(pipeline('minimal'))), present: true },
  { name: 'the API gets no HPA when min equals max', build: () => apiHpa(input(pipeline('minimal', apiReplicas(2, 2)))), present: false },
  { name: 'the workers get an External-metric HPA with prometheus-adapter', build: () => workerHpa(input(pipeline('minimal'))), present: true },
  { name: 'the workers get no HPA when KEDA is the provider', build: () => workerHpa(input(pipeline('minimal', scalingProvider('keda')))), present: false },
  { name: 'the workers get no HPA when min equals max', build: () => workerHpa(input(pipeline('minimal', workerReplicas(4, 4)))), present: false },
];
for (const c of hpaCases) {
  void test(c.name, () => assert.equal(c.build() !== undefined, c.present));
}

void test('the worker HPA targets ocr_queue_backlog for this pipeline with AverageValue = messagesPerReplica', () => {
  const hpa = workerHpa(input(pipeline('minimal', set('worker.scaling.messagesPerReplica', 7), workerReplicas(0, 30))));
  assert.deepEqual(hpa?.spec?.metrics, [
    {
      type: 'External',
      external: {
        metric: { name: QUEUE_BACKLOG_METRIC, selector: { matchLabels: { pipeline: 'receipts' } } },
        target: { type: 'AverageValue', averageValue: '7' },
      },
    },
  ]);
  assert.equal(hpa?.spec?.minReplicas, 0);
  assert.equal(hpa?.spec?.maxReplicas, 30);
  assert.deepEqual(hpa?.spec?.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'receipts-worker' });
});

void test('the API HPA targets CPU utilization with the spec behavior', () => {
  const p = pipeline('full');
  const hpa = apiHpa(input(p));
  assert.equal(hpa?.spec?.metrics?.[0]?.resource?.target.averageUtilization, 60);
  assert.deepEqual(hpa?.spec?.behavior, p.spec.api.autoscaling.behavior);
});

void test('the worker grace period is maxJobSeconds plus a 30 s margin', () => {
  assert.equal(workerDeployment(input(pipeline('minimal', set('worker.maxJobSeconds', 300)))).spec?.template.spec?.terminationGracePeriodSeconds, 330);
});

for (const [name, build] of [
  ['API', () => apiDeployment(input(pipeline('full')))],
  ['worker', () => workerDeployment(input(pipeline('full')))],
] as const) {
  void test(`the ${name} pods run restricted: non-root, read-only root, no capabilities, RuntimeDefault seccomp, writable /tmp`, () => {
    const d = build();
    const pod = d.spec?.template.spec;
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.equal(pod?.automountServiceAccountToken, false);
    const sc = container(d).securityContext;
    assert.equal(sc?.runAsNonRoot, true);
    assert.equal(sc?.readOnlyRootFilesystem, true);
    assert.equal(sc?.allowPrivilegeEscalation, false);
    assert.deepEqual(sc?.capabilities?.drop, ['ALL']);
    assert.equal(sc?.seccompProfile?.type, 'RuntimeDefault');
    assert.ok(container(d).volumeMounts?.some((m) => m.mountPath === '/tmp'));
    assert.ok(pod?.volumes?.some((v) => v.name === 'tmp' && v.emptyDir));
  });

  void test(`the ${name} probes: startup and liveness on /live, readiness on /ready, timings from the spec`, () => {
    const c = container(build());
    assert.equal(c.startupProbe?.httpGet?.path, '/live');
    assert.equal(c.livenessProbe?.httpGet?.path, '/live');
    assert.equal(c.readinessProbe?.httpGet?.path, '/ready');
    assert.equal(c.livenessProbe?.timeoutSeconds, 10);
    assert.equal(c.livenessProbe?.periodSeconds, 60);
    assert.equal(c.readinessProbe?.failureThreshold, 2);
  });
}

void test('the worker start-up probe follows spec.worker.probes.startup', () => {
  const c = container(workerDeployment(input(pipeline('full'))));
  assert.equal(c.startupProbe?.failureThreshold, 60);
  assert.equal(c.startupProbe?.initialDelaySeconds, 5);
});

void test('secrets reach the pods only as secretKeyRefs and a mounted volume, never as values', () => {
  const p = pipeline('full');
  const api = apiDeployment(input(p));
  const e = env(api);
  assert.deepEqual(e[ENV.serviceBusConnectionString], { secretKeyRef: { name: 'ocr-servicebus', key: 'connectionString' } });
  assert.deepEqual(e[ENV.blobConnectionString], { secretKeyRef: { name: 'ocr-storage', key: 'connectionString' } });
  assert.deepEqual(e[ENV.webhookSecret], { secretKeyRef: { name: 'ocr-webhook', key: 'signingKey' } });
  assert.equal(e[ENV.apiKeysFile], '/etc/ocr/api-keys/keys');
  assert.deepEqual(api.spec?.template.spec?.volumes?.find((v) => v.name === 'api-keys')?.secret, {
    secretName: 'ocr-api-keys',
    items: [{ key: 'keys', path: 'keys' }],
    defaultMode: 0o440,
  });
  assert.equal(e[ENV.serviceBusNamespace], undefined);
});

// The API keys Secret the API mounts: the user's, the generated <pipeline>-api-keys, or none with auth disabled.
const keysCases: { name: string; build: () => OcrPipeline; ref: KeysSecretRef | undefined; env: Record<string, unknown> }[] = [
  {
    name: 'a referenced keys Secret is mounted as it is',
    build: () => pipeline('full'),
    ref: { name: 'ocr-api-keys', key: 'keys', generated: false },
    env: { [ENV.apiKeysFile]: '/etc/ocr/api-keys/keys', [ENV.apiAuth]: undefined },
  },
  {
    name: 'without a keys Secret the API mounts the generated <pipeline>-api-keys',
    build: () => pipeline('minimal'),
    ref: { name: 'receipts-api-keys', key: 'keys', generated: true },
    env: { [ENV.apiKeysFile]: '/etc/ocr/api-keys/keys', [ENV.apiAuth]: undefined },
  },
  {
    name: 'auth disabled mounts no keys and sets API_AUTH=disabled',
    build: () => pipeline('minimal', set('api.auth', 'disabled')),
    ref: undefined,
    env: { [ENV.apiKeysFile]: undefined, [ENV.apiAuth]: 'disabled' },
  },
];
for (const c of keysCases) {
  void test(`API keys: ${c.name}`, () => {
    const p = c.build();
    assert.deepEqual(apiKeysSecretRef(p), c.ref);
    const d = apiDeployment(input(p));
    const e = env(d);
    for (const [name, value] of Object.entries(c.env)) assert.equal(e[name], value, name);
    const volume = d.spec?.template.spec?.volumes?.find((v) => v.name === 'api-keys');
    assert.deepEqual(volume?.secret?.secretName, c.ref?.name);
    assert.equal(
      container(d).volumeMounts?.some((m) => m.name === 'api-keys'),
      c.ref !== undefined,
    );
  });
}

void test('the generated keys Secret holds one name:key line the API accepts, owned by and labelled for the pipeline', () => {
  const p = pipeline('minimal');
  const s = generatedKeysSecret(p, 'abc_-123');
  const text = Buffer.from(s.data?.keys ?? '', 'base64').toString('utf8');
  assert.equal(text, 'default:abc_-123\n');
  assert.equal(ApiKeys.parse(text).match('abc_-123'), 'default');
  assert.equal(s.metadata?.name, 'receipts-api-keys');
  assert.equal(s.metadata?.namespace, 'default');
  assert.equal(s.metadata?.labels?.[LABELS.managedBy], FIELD_MANAGER);
  assert.equal(s.metadata?.labels?.[LABELS.pipeline], 'receipts');
  assert.equal(s.metadata?.ownerReferences?.[0]?.uid, p.metadata.uid);
});

void test('the command to read a keys Secret decodes its data key', () => {
  assert.equal(
    readKeysCommand('default', { name: 'receipts-api-keys', key: 'keys' }),
    "kubectl get secret receipts-api-keys -n default -o jsonpath='{.data.keys}' | base64 -d",
  );
});

void test('workload identity pipelines get the namespace and account URL as plain values', () => {
  const e = env(workerDeployment(input(pipeline('minimal'))));
  assert.equal(e[ENV.serviceBusNamespace], 'contoso.servicebus.windows.net');
  assert.equal(e[ENV.blobAccountUrl], 'https://contoso.blob.core.windows.net');
  assert.equal(e[ENV.languages], 'eng');
  assert.equal(e[ENV.port], String(PORTS.worker));
  assert.equal(e[ENV.serviceBusConnectionString], undefined);
});

const hashCases: { name: string; a: () => V1Deployment; b: () => V1Deployment; same: boolean }[] = [
  {
    name: 'a changed Secret value rolls the pods',
    a: () => workerDeployment(input(pipeline('full'), { 's/k': 'v1' })),
    b: () => workerDeployment(input(pipeline('full'), { 's/k': 'v2' })),
    same: false,
  },
  {
    name: 'a changed Secret reference rolls the pods',
    a: () => apiDeployment(input(pipeline('full'))),
    b: () => apiDeployment(input(pipeline('full', set('webhookSecretRef', { name: 'other', key: 'k' })))),
    same: false,
  },
  {
    name: 'a changed concurrency rolls the workers',
    a: () => workerDeployment(input(pipeline('full'))),
    b: () => workerDeployment(input(pipeline('full', set('worker.concurrency', 3)))),
    same: false,
  },
  {
    name: 'a changed replica range does not roll the pods',
    a: () => workerDeployment(input(pipeline('full'))),
    b: () => workerDeployment(input(pipeline('full', workerReplicas(2, 60)))),
    same: true,
  },
];
for (const c of hashCases) {
  void test(`config hash: ${c.name}`, () => assert.equal(hash(c.a()) === hash(c.b()), c.same));
}

void test('user pod labels cannot override the selector labels', () => {
  const d = apiDeployment(input(pipeline('minimal', set('pod.labels', { [LABELS.component]: 'evil', team: 'a' }))));
  assert.equal(d.spec?.template.metadata?.labels?.[LABELS.component], 'api');
  assert.equal(d.spec?.template.metadata?.labels?.team, 'a');
});

void test('the Service forwards its port to the named API container port', () => {
  const s = apiService(input(pipeline('minimal', set('api.service', { type: 'LoadBalancer', port: 8443 }))));
  assert.equal(s.spec?.type, 'LoadBalancer');
  assert.deepEqual(s.spec?.ports, [{ name: 'http', port: 8443, targetPort: 'http', protocol: 'TCP' }]);
});

void test('PodDisruptionBudgets allow one pod down at a time and evict unhealthy pods', () => {
  for (const component of ['api', 'worker'] as const) {
    const b = pdb(input(pipeline('minimal')), component);
    assert.equal(b.spec?.maxUnavailable, 1);
    assert.equal(b.spec?.unhealthyPodEvictionPolicy, 'AlwaysAllow');
    assert.equal(b.spec?.selector?.matchLabels?.[LABELS.component], component);
  }
});

void test('the client library serializes every child without dropping a field (the SSA body is the desired object)', () => {
  for (const child of desiredChildren(input(pipeline('full'), { 'a/b': 'h' }))) {
    const type = `V${child.apiVersion?.includes('autoscaling/v2') ? '2' : '1'}${child.kind ?? ''}`;
    const serialized = ObjectSerializer.serialize(child, type) as unknown;
    assert.deepEqual(JSON.parse(JSON.stringify(serialized)), JSON.parse(JSON.stringify(child)), `${child.kind} lost fields in serialization`);
  }
});

// spec.ocr.engine auto is resolved by the operator: the worker only ever sees a concrete engine (ocr-engine.ts).
const engineCases: { name: string; mods: ((s: Record<string, unknown>) => void)[]; engine: string; model: string }[] = [
  { name: 'an English-only pipeline on engine auto gets paddle workers', mods: [], engine: 'paddle', model: 'auto' },
  { name: 'a pipeline with German on engine auto gets tesseract workers', mods: [set('languages', ['eng', 'deu'])], engine: 'tesseract', model: 'auto' },
  {
    name: 'a pipeline that asks for tesseract with the fast models gets exactly that',
    mods: [set('ocr', { engine: 'tesseract', tesseractModel: 'fast' })],
    engine: 'tesseract',
    model: 'fast',
  },
];
for (const c of engineCases) {
  void test(c.name, () => {
    const worker = env(workerDeployment(input(pipeline('minimal', ...c.mods))));
    assert.deepEqual([worker[ENV.ocrEngine], worker[ENV.tesseractModel]], [c.engine, c.model]);
  });
}
