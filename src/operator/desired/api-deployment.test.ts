// spec.api.webhooks -> the API's WEBHOOK_* variables: each option reaches the pod only when it
// differs from the API's default, and the API's own config reader reads back what the spec says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment } from '@kubernetes/client-node';
import { input, pipeline, set, type SpecMod } from '../testing/fixtures.ts';
import { DEFAULTS as API_DEFAULTS, SETTINGS as API_SETTINGS, configFromEnv } from '../../api/config.ts';
import { ENV } from '../../contract/container.ts';
import { CONFIG_HASH_ANNOTATION } from '../../contract/labels.ts';
import { WEBHOOK_DEFAULTS, WEBHOOK_MAX_CONCURRENT_RANGE } from '../../crds/ocrpipeline.ts';
import { apiDeployment } from './api-deployment.ts';

const WEBHOOK_ENV = [
  ENV.webhookAllowHttp,
  ENV.webhookAllowedHosts,
  ENV.webhookMaxConcurrent,
  ENV.webhookAttempts,
  ENV.webhookBaseDelayMs,
  ENV.webhookMaxDelayMs,
] as const;

/** The API container's env as name -> value; secretKeyRef entries as their reference. */
const env = (d: V1Deployment) => Object.fromEntries((d.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
const hash = (d: V1Deployment) => d.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
const render = (...mods: SpecMod[]) => apiDeployment(input(pipeline('minimal', ...mods)));

const optionCases: { name: string; mod: SpecMod; variable: (typeof WEBHOOK_ENV)[number]; value: string }[] = [
  { name: 'allowHttp true sets WEBHOOK_ALLOW_HTTP=true', mod: set('api.webhooks.allowHttp', true), variable: ENV.webhookAllowHttp, value: 'true' },
  {
    name: 'allowedHosts sets WEBHOOK_ALLOWED_HOSTS to the entries, comma-separated, in order',
    mod: set('api.webhooks.allowedHosts', ['hooks.internal', '*.svc.cluster.local', '10.20.0.0/16', 'fd12::/16']),
    variable: ENV.webhookAllowedHosts,
    value: 'hooks.internal,*.svc.cluster.local,10.20.0.0/16,fd12::/16',
  },
  { name: 'maxConcurrent 4 sets WEBHOOK_MAX_CONCURRENT=4', mod: set('api.webhooks.maxConcurrent', 4), variable: ENV.webhookMaxConcurrent, value: '4' },
  { name: 'attempts 3 sets WEBHOOK_ATTEMPTS=3', mod: set('api.webhooks.attempts', 3), variable: ENV.webhookAttempts, value: '3' },
  {
    name: 'retryBaseDelaySeconds 2 sets WEBHOOK_BASE_DELAY_MS=2000',
    mod: set('api.webhooks.retryBaseDelaySeconds', 2),
    variable: ENV.webhookBaseDelayMs,
    value: '2000',
  },
  {
    name: 'maxRetryDelaySeconds 60 sets WEBHOOK_MAX_DELAY_MS=60000',
    mod: set('api.webhooks.maxRetryDelaySeconds', 60),
    variable: ENV.webhookMaxDelayMs,
    value: '60000',
  },
];
for (const c of optionCases) {
  void test(`webhooks: ${c.name}, and no other webhook variable`, () => {
    const e = env(render(c.mod));
    assert.equal(e[c.variable], c.value);
    for (const other of WEBHOOK_ENV.filter((v) => v !== c.variable)) assert.equal(e[other], undefined, other);
  });
}

void test('webhooks: a pipeline without spec.api.webhooks, or with the defaults written out, sets no webhook variable and keeps its config hash', () => {
  const written = set('api.webhooks', {
    allowHttp: false,
    allowedHosts: [],
    maxConcurrent: 16,
    attempts: 10,
    retryBaseDelaySeconds: 10,
    maxRetryDelaySeconds: 1200,
  });
  for (const [name, d] of [
    ['minimal', render()],
    ['minimal with defaults written out', render(written)],
    ['full', apiDeployment(input(pipeline('full')))],
  ] as const) {
    const e = env(d);
    for (const variable of WEBHOOK_ENV) assert.equal(e[variable], undefined, `${name}: ${variable}`);
  }
  assert.equal(hash(render(written)), hash(render()));
});

void test('webhooks: a changed webhook setting changes the config hash, so the API pods roll', () => {
  assert.notEqual(hash(render(set('api.webhooks.allowedHosts', ['hooks.internal']))), hash(render()));
});

void test("webhooks: the CRD's defaults and bounds are the API's own", () => {
  assert.equal(WEBHOOK_DEFAULTS.maxConcurrent, API_DEFAULTS.webhookMaxConcurrent);
  const row = (name: string) => API_SETTINGS.find((s) => s.name === name) as { default?: unknown; min?: number; max?: number };
  assert.equal(row('webhookAllowHttp').default, WEBHOOK_DEFAULTS.allowHttp);
  assert.deepEqual(row('webhookAllowedHosts').default, WEBHOOK_DEFAULTS.allowedHosts);
  assert.deepEqual({ min: row('webhookMaxConcurrent').min, max: row('webhookMaxConcurrent').max }, WEBHOOK_MAX_CONCURRENT_RANGE);
  assert.equal(WEBHOOK_DEFAULTS.attempts, API_DEFAULTS.webhookAttempts);
  assert.equal(WEBHOOK_DEFAULTS.retryBaseDelaySeconds * 1000, API_DEFAULTS.webhookBaseDelayMs);
  assert.equal(WEBHOOK_DEFAULTS.maxRetryDelaySeconds * 1000, API_DEFAULTS.webhookMaxDelayMs);
  // Every value the CRD accepts is one the API accepts.
  assert.ok(row('webhookAttempts').max! >= 50 && row('webhookAttempts').min! <= 1);
  assert.ok(row('webhookBaseDelayMs').max! >= 600_000 && row('webhookMaxDelayMs').max! >= 86_400_000);
});

void test("webhooks: the API's config reader reads the rendered variables back as the spec says", () => {
  const d = render(
    set('api.webhooks', {
      allowHttp: true,
      allowedHosts: ['hooks.internal', '*.svc.cluster.local', '10.20.0.0/16', 'fd12::/16'],
      maxConcurrent: 4,
      attempts: 3,
      retryBaseDelaySeconds: 2,
      maxRetryDelaySeconds: 60,
    }),
  );
  const values = Object.fromEntries(Object.entries(env(d)).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  const config = configFromEnv(values);
  assert.deepEqual(config.webhookEgress, { allowHttp: true, allowedHosts: ['hooks.internal', '*.svc.cluster.local', '10.20.0.0/16', 'fd12::/16'] });
  assert.equal(config.webhookMaxConcurrent, 4);
  assert.deepEqual([config.webhookAttempts, config.webhookBaseDelayMs, config.webhookMaxDelayMs], [3, 2_000, 60_000]);
  const defaults = configFromEnv(Object.fromEntries(Object.entries(env(render())).filter((entry): entry is [string, string] => typeof entry[1] === 'string')));
  assert.deepEqual(defaults.webhookEgress, { allowHttp: WEBHOOK_DEFAULTS.allowHttp, allowedHosts: WEBHOOK_DEFAULTS.allowedHosts });
  assert.equal(defaults.webhookMaxConcurrent, WEBHOOK_DEFAULTS.maxConcurrent);
});

const BACKLOG_URL = 'http://ocr-platform-metrics.ocr-system.svc:8080/v1/backlog';
const admissionCases: { name: string; mods: SpecMod[]; backlogUrl?: string; expected: Record<string, string | undefined> }[] = [
  {
    name: 'maxBacklog with the operator offering the backlog sets API_MAX_BACKLOG and this pipeline’s API_BACKLOG_URL',
    mods: [set('api.maxBacklog', 500)],
    backlogUrl: BACKLOG_URL,
    expected: { [ENV.apiMaxBacklog]: '500', [ENV.apiBacklogUrl]: `${BACKLOG_URL}?namespace=default&pipeline=receipts` },
  },
  {
    name: 'maxBacklog without --backlog-url on the operator sets neither (the API could not learn the backlog)',
    mods: [set('api.maxBacklog', 500)],
    expected: { [ENV.apiMaxBacklog]: undefined, [ENV.apiBacklogUrl]: undefined },
  },
  { name: 'no maxBacklog sets neither', mods: [], backlogUrl: BACKLOG_URL, expected: { [ENV.apiMaxBacklog]: undefined, [ENV.apiBacklogUrl]: undefined } },
];
for (const c of admissionCases) {
  void test(`admission: ${c.name}, and the API reads it back`, () => {
    const offer = c.backlogUrl ? { backlog: { url: c.backlogUrl, namespace: 'ocr-system', port: 8080 } } : {};
    const d = apiDeployment({ ...input(pipeline('minimal', ...c.mods)), ...offer });
    const e = env(d);
    for (const [name, value] of Object.entries(c.expected)) assert.equal(e[name], value, name);
    const config = configFromEnv({
      ...(e as Record<string, string>),
      SERVICEBUS_CONNECTION_STRING: 'Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=v',
      BLOB_CONNECTION_STRING: 'UseDevelopmentStorage=true',
      API_AUTH: 'disabled',
    });
    assert.equal(config.maxBacklog, c.expected[ENV.apiMaxBacklog] === undefined ? undefined : Number(c.expected[ENV.apiMaxBacklog]));
  });
}

// spec.api.jobTokenSecretRef -> JOB_TOKEN_SECRET from the Secret (issue 16); without it the API derives its key, so no variable.
test('api.jobTokenSecretRef sets JOB_TOKEN_SECRET from that Secret key, and its absence sets nothing', () => {
  assert.deepEqual(env(render(set('api.jobTokenSecretRef', { name: 'ocr-job-tokens', key: 'keys' })))[ENV.jobTokenSecret], {
    secretKeyRef: { name: 'ocr-job-tokens', key: 'keys' },
  });
  assert.equal(ENV.jobTokenSecret in env(render()), false);
});
