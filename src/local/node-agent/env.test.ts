import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ContainerConfigError, expandReferences, resolveEnv, type ConfigLookup } from './env.ts';

const pod: V1Pod = {
  metadata: { name: 'receipts-api-abc', namespace: 'shop', uid: 'u-1', labels: { app: 'api' } },
  spec: { nodeName: 'ocr-local-agent', containers: [] },
};
const lookup: ConfigLookup = {
  secret: (ns, name) => (ns === 'shop' && name === 'sb' ? { connectionString: 'Endpoint=sb://127.0.0.1:5672/' } : undefined),
  configMap: (ns, name) => (ns === 'shop' && name === 'cfg' ? { LOG_LEVEL: 'debug', 'bad name': 'x' } : undefined),
};
const container = (c: Partial<V1Container>): V1Container => ({ name: 'api', ...c });

void test('values, secretKeyRef, configMapKeyRef and fieldRefs resolve in order', () => {
  const env = resolveEnv(
    pod,
    container({
      env: [
        { name: 'PLAIN', value: 'a' },
        { name: 'SB', valueFrom: { secretKeyRef: { name: 'sb', key: 'connectionString' } } },
        { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'LOG_LEVEL' } } },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      ],
    }),
    lookup,
  );
  assert.deepEqual(Object.fromEntries(env), {
    PLAIN: 'a',
    SB: 'Endpoint=sb://127.0.0.1:5672/',
    LEVEL: 'debug',
    POD: 'receipts-api-abc',
    NS: 'shop',
    APP: 'api',
    IP: '127.0.0.1',
  });
});

void test('envFrom comes first, gets its prefix, skips invalid names, and env overrides it', () => {
  const env = resolveEnv(
    pod,
    container({ envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'APP_' }], env: [{ name: 'APP_LOG_LEVEL', value: 'info' }] }),
    lookup,
  );
  assert.deepEqual(Object.fromEntries(env), { APP_LOG_LEVEL: 'info' });
});

void test('$(VAR) expands to earlier variables, $$ escapes, unknown references stay', () => {
  const defined = new Map([
    ['HOST', 'h'],
    ['PORT', '1'],
  ]);
  assert.equal(expandReferences('$(HOST):$(PORT)/$(NOPE)/$$(HOST)', defined), 'h:1/$(NOPE)/$(HOST)');
  const env = resolveEnv(
    pod,
    container({
      env: [
        { name: 'A', value: 'x' },
        { name: 'B', value: '$(A)-y' },
      ],
    }),
    lookup,
  );
  assert.equal(env.get('B'), 'x-y');
});

const failures: { name: string; c: Partial<V1Container>; message: RegExp }[] = [
  {
    name: 'a missing Secret is a CreateContainerConfigError naming it',
    c: { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] },
    message: /secret "nope" not found in namespace shop/,
  },
  {
    name: 'a missing key names the key and the Secret',
    c: { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'sb', key: 'k' } } }] },
    message: /couldn't find key k in Secret shop\/sb/,
  },
  { name: 'a missing envFrom ConfigMap is an error', c: { envFrom: [{ configMapRef: { name: 'nope' } }] }, message: /configmap "nope" not found/ },
  {
    name: 'an unsupported fieldPath lists the supported ones',
    c: { env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.hostname' } } }] },
    message: /unsupported fieldRef.fieldPath "spec.hostname"/,
  },
];
for (const f of failures) {
  void test(f.name, () => {
    assert.throws(
      () => resolveEnv(pod, container(f.c), lookup),
      (e: unknown) => e instanceof ContainerConfigError && e.reason === 'CreateContainerConfigError' && f.message.test(e.message),
    );
  });
}

void test('optional references that are missing are skipped', () => {
  const env = resolveEnv(
    pod,
    container({
      envFrom: [{ secretRef: { name: 'nope', optional: true } }],
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'sb', key: 'nope', optional: true } } }],
    }),
    lookup,
  );
  assert.equal(env.size, 0);
});
