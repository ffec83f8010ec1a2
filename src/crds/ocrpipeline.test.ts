import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { buildOpenApiSchema, type JsonSchema } from './crd.ts';
import { DEFAULT_BEHAVIOR, ocrPipelineSpecSchema, paddleLanguagesRule, parseSpec, formatIssues, PROBE_DEFAULTS } from './ocrpipeline.ts';
import { validateOpenApi } from './testing/openapi-validate.ts';

const sample = (name: string) => parse(readFileSync(new URL(`../../config/samples/${name}`, import.meta.url), 'utf8')) as { spec: Record<string, unknown> };
const minimal = () => structuredClone(sample('ocrpipeline-minimal.yaml').spec);
const crdSpecSchema = (buildOpenApiSchema().properties as Record<string, JsonSchema>).spec as JsonSchema;

/** Sets a dotted path on a copy of the minimal spec: with('worker.replicas.min', 0). */
function with_(path: string, value: unknown, base = minimal()): Record<string, unknown> {
  const keys = path.split('.');
  let node: Record<string, unknown> = base;
  for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
  const last = keys.at(-1) as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return base;
}

for (const file of ['ocrpipeline-minimal.yaml', 'ocrpipeline-full.yaml']) {
  void test(`the ${file} sample validates with the zod schema and the CRD schema`, () => {
    const { spec } = sample(file);
    assert.doesNotThrow(() => parseSpec(spec));
    assert.deepEqual(validateOpenApi(crdSpecSchema, spec), []);
  });
}

void test('the minimal sample gets the documented defaults', () => {
  const spec = parseSpec(minimal());
  assert.deepEqual(spec.languages, ['eng']);
  assert.equal(spec.imagePullPolicy, 'IfNotPresent');
  assert.deepEqual(spec.api.replicas, { min: 2, max: 10 });
  assert.deepEqual(spec.worker.replicas, { min: 1, max: 10 });
  assert.equal(spec.worker.scaling.provider, 'prometheus-adapter');
  assert.equal(spec.worker.scaling.countInFlight, true);
  assert.equal(spec.worker.scaling.messagesPerReplica, 5);
  assert.deepEqual(spec.worker.scaling.behavior, DEFAULT_BEHAVIOR);
  assert.deepEqual(spec.api.autoscaling.behavior, DEFAULT_BEHAVIOR);
  assert.deepEqual(spec.api.probes.liveness, PROBE_DEFAULTS.liveness);
  assert.deepEqual(spec.worker.probes.startup, PROBE_DEFAULTS.startup);
  assert.equal(spec.worker.maxJobSeconds, 120);
  assert.deepEqual([spec.ocr.engine, spec.ocr.tesseractModel, spec.ocr.imageLanguages], ['auto', 'auto', undefined]);
  assert.deepEqual(spec.api.service, { type: 'ClusterIP', port: 80 });
  assert.equal(spec.api.auth, 'apiKeys');
  assert.deepEqual(spec.api.webhooks, {
    allowHttp: false,
    allowedHosts: [],
    maxConcurrent: 16,
    attempts: 10,
    retryBaseDelaySeconds: 10,
    maxRetryDelaySeconds: 1200,
  });
});

// Specs both schemas must accept, and specs both must reject (with the message a user sees).
const accepted: [string, Record<string, unknown>][] = [
  ['workers may scale to zero', with_('worker.replicas', { min: 0, max: 5 })],
  ['KEDA can be the scaling provider', with_('worker.scaling.provider', 'keda')],
  ['a language with a script suffix is a valid code', with_('languages', ['chi_sim', 'eng'])],
  ['engine auto may be asked with any installed language: the operator picks tesseract then', with_('ocr.engine', 'auto', with_('languages', ['eng', 'deu']))],
  ['engine paddle may be asked with the languages it reads', with_('ocr.engine', 'paddle', with_('languages', ['eng', 'chi_sim']))],
  ['requestEngines may name both engines', with_('ocr.requestEngines', ['tesseract', 'paddle'])],
  ['a custom image may declare its own languages', with_('ocr.imageLanguages', ['eng', 'jpn'])],
  ['quantities may be plain integers', with_('api.resources', { requests: { cpu: 1 } })],
  [
    'a connection string Secret can replace the Service Bus namespace',
    with_('queue.serviceBus', { connectionStringSecretRef: { name: 'sb', key: 'cs' }, queueName: 'q' }),
  ],
  ['affinity passes through unchanged', with_('pod.affinity', { nodeAffinity: { anything: [1, 2] } })],
  ['auth disabled without a keys Secret runs the API open, explicitly', with_('api.auth', 'disabled')],
  ['the smallest upload bound the API accepts, 1 KiB', with_('api.maxUploadBytes', 1024)],
  ['the largest upload bound a 512 Mi API pod holds, 64 MiB', with_('api.maxUploadBytes', 64 * 1024 * 1024)],
  [
    'the API and the worker may each name their own Service Bus connection string next to the shared namespace',
    with_(
      'queue.serviceBus.worker',
      { connectionStringSecretRef: { name: 'sb-listen', key: 'cs' } },
      with_('queue.serviceBus.api', { connectionStringSecretRef: { name: 'sb-send', key: 'cs' } }),
    ),
  ],
  [
    'Storage needs no shared reference when both components name their own',
    with_('storage.blob', {
      container: 'ocr',
      api: { connectionStringSecretRef: { name: 'a', key: 'cs' } },
      worker: { connectionStringSecretRef: { name: 'w', key: 'cs' } },
    }),
  ],
  ['each component may run as its own ServiceAccount', with_('worker.serviceAccountName', 'ocr-worker', with_('api.serviceAccountName', 'ocr-api'))],
  [
    'a NetworkPolicy with metrics namespaces and extra IPv4 and IPv6 egress',
    with_('networkPolicy', {
      enabled: true,
      metricsNamespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' },
      egress: [{ cidr: '10.20.0.0/16', except: ['10.20.1.0/24'], ports: [{ port: 8443 }] }, { cidr: 'fd00::/8' }],
    }),
  ],
  [
    'webhooks to internal receivers: http, names, *.domains, IPv4 and IPv6 addresses and CIDRs, a concurrency bound',
    with_('api.webhooks', {
      allowHttp: true,
      allowedHosts: ['hooks.internal', '*.svc.cluster.local', '10.0.0.7', '10.20.0.0/16', '::1', 'fd12::/16', '::ffff:10.0.0.1'],
      maxConcurrent: 1000,
    }),
  ],
];

const rejected: [string, Record<string, unknown>, RegExp][] = [
  ['a spec without an image is rejected', with_('image', undefined), /image/],
  ['an unknown language code is rejected', with_('languages', ['english']), /tesseract language code/],
  ['an empty language list is rejected', with_('languages', []), /languages/],
  ['an unknown tesseract model is rejected', with_('ocr.tesseractModel', 'tiny'), /tesseractModel/],
  ['an empty image language list is rejected', with_('ocr.imageLanguages', []), /imageLanguages/],
  ['an engine the image does not carry is rejected in requestEngines', with_('ocr.requestEngines', ['easyocr']), /requestEngines/],
  ['an empty requestEngines is rejected', with_('ocr.requestEngines', []), /requestEngines/],
  ['API replicas below one are rejected', with_('api.replicas', { min: 0, max: 3 }), /api\.replicas\.min/],
  ['a negative worker minimum is rejected', with_('worker.replicas', { min: -1, max: 3 }), /worker\.replicas\.min/],
  ['an unknown field is rejected', with_('worker.replicaz', 3), /replicaz/],
  ['an unknown scaling provider is rejected', with_('worker.scaling.provider', 'hpa'), /provider/],
  ['a quantity that is not one is rejected', with_('api.resources', { limits: { memory: 'lots' } }), /quantity|memory/],
  ['an inline connection string is rejected: Secrets are referenced only', with_('queue.serviceBus.connectionString', 'Endpoint=sb://x'), /connectionString/],
  ['a Secret reference without a key is rejected', with_('webhookSecretRef', { name: 'hook' }), /webhookSecretRef\.key/],
  ['a storage container with capitals is rejected', with_('storage.blob.container', 'Invoices'), /container/],
  [
    'a scale-up policy period over 1800 s is rejected',
    with_('worker.scaling.behavior', { scaleUp: { policies: [{ type: 'Pods', value: 1, periodSeconds: 3600 }] } }),
    /periodSeconds/,
  ],
  ['a probe with a zero period is rejected', with_('api.probes', { liveness: { periodSeconds: 0 } }), /periodSeconds/],
  ['an unknown auth mode is rejected', with_('api.auth', 'none'), /api\.auth/],
  ['an upload bound below the 1 KiB the API accepts is rejected', with_('api.maxUploadBytes', 1023), /api\.maxUploadBytes/],
  ['an upload bound above 64 MiB is rejected: a 512 Mi API pod cannot buffer it', with_('api.maxUploadBytes', 64 * 1024 * 1024 + 1), /api\.maxUploadBytes/],
  ['an own connection string without its Secret reference is rejected', with_('queue.serviceBus.api', {}), /queue\.serviceBus\.api\.connectionStringSecretRef/],
  ['a NetworkPolicy egress entry that is not a CIDR is rejected', with_('networkPolicy.egress', [{ cidr: 'example.com' }]), /must be a CIDR/],
  ['a NetworkPolicy egress port over 65535 is rejected', with_('networkPolicy.egress', [{ cidr: '10.0.0.0/8', ports: [{ port: 70000 }] }]), /port/],
  ['a webhook allowlist entry that is a URL is rejected', with_('api.webhooks.allowedHosts', ['http://hooks.internal/']), /host name, \*\.domain/],
  ['a webhook allowlist CIDR outside IPv4 is rejected', with_('api.webhooks.allowedHosts', ['300.0.0.0/8']), /api\.webhooks\.allowedHosts/],
  ['a webhook allowlist bare * is rejected', with_('api.webhooks.allowedHosts', ['*']), /api\.webhooks\.allowedHosts/],
  ['a webhook concurrency of 0 is rejected', with_('api.webhooks.maxConcurrent', 0), /api\.webhooks\.maxConcurrent/],
  ['a webhook concurrency above the API bound of 1000 is rejected', with_('api.webhooks.maxConcurrent', 1001), /api\.webhooks\.maxConcurrent/],
  ['a webhook allowHttp that is not a boolean is rejected', with_('api.webhooks.allowHttp', 'yes'), /api\.webhooks\.allowHttp/],
  ['zero webhook attempts are rejected', with_('api.webhooks.attempts', 0), /api\.webhooks\.attempts/],
  ['more than 50 webhook attempts are rejected', with_('api.webhooks.attempts', 51), /api\.webhooks\.attempts/],
  ['a webhook retry delay cap of 0 seconds is rejected', with_('api.webhooks.maxRetryDelaySeconds', 0), /api\.webhooks\.maxRetryDelaySeconds/],
];

for (const [name, spec] of accepted) {
  void test(`zod and the CRD schema both accept: ${name}`, () => {
    const zod = ocrPipelineSpecSchema.safeParse(spec);
    assert.equal(zod.success, true, zod.success ? '' : formatIssues(zod.error).join('\n'));
    assert.deepEqual(validateOpenApi(crdSpecSchema, spec), []);
  });
}

for (const [name, spec, message] of rejected) {
  void test(`zod and the CRD schema both reject: ${name}`, () => {
    const zod = ocrPipelineSpecSchema.safeParse(spec);
    assert.equal(zod.success, false);
    assert.match(formatIssues(zod.error).join('\n'), message);
    assert.notDeepEqual(validateOpenApi(crdSpecSchema, spec), []);
  });
}

// Cross-field rules: zod rejects, and the CRD carries the same rule as CEL (the API server
// evaluates it; the integration tests prove that against a real one).
const crossField: [string, Record<string, unknown>, string][] = [
  ['worker replicas with min above max', with_('worker.replicas', { min: 5, max: 2 }), 'replicas.min must be less than or equal to replicas.max'],
  ['API replicas with min above max', with_('api.replicas', { min: 4, max: 3 }), 'replicas.min must be less than or equal to replicas.max'],
  [
    'Service Bus with both a namespace and a connection string',
    with_('queue.serviceBus.connectionStringSecretRef', { name: 'sb', key: 'cs' }),
    'set exactly one of queue.serviceBus.namespace',
  ],
  [
    'Service Bus with neither a namespace nor a connection string',
    with_('queue.serviceBus.namespace', undefined),
    'set exactly one of queue.serviceBus.namespace',
  ],
  [
    'Blob storage with neither an account URL nor a connection string',
    with_('storage.blob.accountUrl', undefined),
    'set exactly one of storage.blob.accountUrl',
  ],
  [
    'Blob storage with both an account URL and a connection string',
    with_('storage.blob.connectionStringSecretRef', { name: 'st', key: 'cs' }),
    'set exactly one of storage.blob.accountUrl',
  ],
  [
    'Blob storage with neither shared reference and only the API naming its own',
    with_('storage.blob', { container: 'ocr', api: { connectionStringSecretRef: { name: 'a', key: 'cs' } } }),
    'set exactly one of storage.blob.accountUrl',
  ],
  [
    'auth disabled together with a keys Secret',
    with_('api', { auth: 'disabled', apiKeysSecretRef: { name: 'keys', key: 'keys' } }),
    'api.auth disabled runs the API without keys',
  ],
];

for (const [name, spec, message] of crossField) {
  void test(`zod rejects ${name}, with the message its CEL rule also carries`, () => {
    const zod = ocrPipelineSpecSchema.safeParse(spec);
    assert.equal(zod.success, false);
    assert.match(formatIssues(zod.error).join('\n'), new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    // The structural part of the CRD accepts it: only CEL can see across fields.
    assert.deepEqual(validateOpenApi(crdSpecSchema, spec), []);
  });
}

void test('parseSpec names every problem with its path', () => {
  assert.throws(
    () => parseSpec(with_('worker.concurrency', 0, with_('image', undefined))),
    (err: Error) => {
      assert.match(err.message, /spec\.image/);
      assert.match(err.message, /spec\.worker\.concurrency/);
      return true;
    },
  );
});

// The paddle language rule is CEL in the CRD (which the OpenAPI validator above does not run) and the same check in zod.
void test('zod rejects an engine named twice in requestEngines, and the CRD makes the list a set (the API server refuses duplicates)', () => {
  assert.throws(() => parseSpec(with_('ocr.requestEngines', ['paddle', 'paddle'])), /must not name an engine twice/);
  const ocr = (crdSpecSchema.properties as Record<string, JsonSchema>).ocr as JsonSchema;
  assert.equal((ocr.properties as Record<string, JsonSchema>).requestEngines!['x-kubernetes-list-type'], 'set');
});

void test('zod rejects engine paddle with a language paddle cannot read, and the CRD carries the same rule as CEL', () => {
  assert.throws(() => parseSpec(with_('ocr.engine', 'paddle', with_('languages', ['eng', 'deu']))), /paddle reads eng and chi_sim only/);
  const rules = (crdSpecSchema['x-kubernetes-validations'] ?? []) as { rule: string }[];
  assert.ok(rules.some((r) => r.rule === paddleLanguagesRule.rule));
});
