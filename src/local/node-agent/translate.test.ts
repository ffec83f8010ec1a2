import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { ContainerConfigError } from './env.ts';
import { containerMounts, hostPortFor, localEnv, mapPorts, parsePortsAnnotation, rewritePath, volumeFiles } from './translate.ts';

const ports = [
  { container: 'api', name: 'http', containerPort: 8080, hostPort: 41001 },
  { container: 'sidecar', name: 'http', containerPort: 9090, hostPort: 41002 },
];

void test('port references resolve by name or number, per container', () => {
  assert.equal(hostPortFor(ports, 'http', 'api'), 41001);
  assert.equal(hostPortFor(ports, 8080), 41001);
  assert.equal(hostPortFor(ports, '9090'), 41002);
  assert.equal(hostPortFor(ports, 'http', 'sidecar'), 41002);
  assert.equal(hostPortFor(ports, 'metrics', 'api'), undefined);
});

void test('every declared container port gets its own host port', async () => {
  let next = 50000;
  const pod: V1Pod = { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80, name: 'web' }, { containerPort: 81 }] }, { name: 'b' }] } };
  assert.deepEqual(await mapPorts(pod, async () => next++), [
    { container: 'a', name: 'web', containerPort: 80, hostPort: 50000 },
    { container: 'a', containerPort: 81, hostPort: 50001 },
  ]);
});

void test('the ports annotation round-trips and garbage reads as no ports', () => {
  assert.deepEqual(parsePortsAnnotation(JSON.stringify(ports)), ports);
  assert.deepEqual(parsePortsAnnotation('not json'), []);
  assert.deepEqual(parsePortsAnnotation(undefined), []);
});

void test('paths under a mount move under the pod directory; the longest mount wins', () => {
  const mounts = [
    { mountPath: '/etc/ocr', hostPath: '/p/v/a' },
    { mountPath: '/etc/ocr/api-keys', hostPath: '/p/v/keys' },
  ];
  assert.equal(rewritePath('/etc/ocr/api-keys/keys', mounts), '/p/v/keys/keys');
  assert.equal(rewritePath('/etc/ocr/other', mounts), '/p/v/a/other');
  assert.equal(rewritePath('/etc/ocr', mounts), '/p/v/a');
  assert.equal(rewritePath('/etc/ocrx', mounts), '/etc/ocrx');
  assert.equal(rewritePath('Endpoint=sb://x', mounts), 'Endpoint=sb://x');
});

void test('the local environment maps listen ports, mount paths, /tmp, binds to loopback and lets notices reach remapped ports', () => {
  const resolved = new Map([
    ['PORT', '8080'],
    ['METRICS_PORT', '8080'],
    ['OTHER_PORT', '1234'],
    ['API_KEYS_FILE', '/etc/ocr/api-keys/keys'],
    ['COUNT', '8080'],
  ]);
  const env = localEnv(resolved, 'api', ports, [
    { mountPath: '/etc/ocr/api-keys', hostPath: '/p/keys' },
    { mountPath: '/tmp', hostPath: '/p/tmp' },
  ]);
  assert.deepEqual(Object.fromEntries(env), {
    PORT: '41001',
    METRICS_PORT: '41001',
    OTHER_PORT: '1234',
    API_KEYS_FILE: '/p/keys/keys',
    COUNT: '8080',
    TMPDIR: '/p/tmp',
    HOST: '127.0.0.1',
    WORKER_NOTIFY_PORT: '0',
  });
});

const lookup = {
  secret: (_ns: string, name: string) => (name === 'keys' ? { keys: 'h1\nh2\n', other: 'x' } : undefined),
  configMap: () => undefined,
};

void test('a Secret volume projects the selected items with their modes', () => {
  const files = volumeFiles({ name: 'api-keys', secret: { secretName: 'keys', items: [{ key: 'keys', path: 'keys' }], defaultMode: 0o440 } }, 'ns', lookup);
  assert.deepEqual(files, [{ path: 'keys', content: 'h1\nh2\n', mode: 0o440 }]);
  assert.equal(volumeFiles({ name: 'all', secret: { secretName: 'keys' } }, 'ns', lookup).length, 2);
  assert.deepEqual(volumeFiles({ name: 'tmp', emptyDir: {} }, 'ns', lookup), []);
});

void test('missing sources and unsupported volume types are config errors', () => {
  assert.throws(() => volumeFiles({ name: 'k', secret: { secretName: 'nope' } }, 'ns', lookup), /secret "nope" not found in namespace ns/);
  assert.throws(() => volumeFiles({ name: 'k', secret: { secretName: 'keys', items: [{ key: 'nope', path: 'x' }] } }, 'ns', lookup), /couldn't find key nope/);
  assert.throws(() => volumeFiles({ name: 'h', hostPath: { path: '/' } }, 'ns', lookup), ContainerConfigError);
  assert.deepEqual(volumeFiles({ name: 'k', secret: { secretName: 'nope', optional: true } }, 'ns', lookup), []);
});

void test('mounts get a directory per volume, and a mount of an undeclared volume is an error', () => {
  const pod: V1Pod = { spec: { volumes: [{ name: 'tmp', emptyDir: {} }], containers: [] } };
  assert.deepEqual(containerMounts(pod, { name: 'c', volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }] }, '/pods/u'), [
    { mountPath: '/tmp', hostPath: '/pods/u/volumes/tmp' },
  ]);
  assert.throws(() => containerMounts(pod, { name: 'c', volumeMounts: [{ name: 'x', mountPath: '/x' }] }, '/pods/u'), /names no volume/);
});

void test('a projected ServiceAccount volume gets its ConfigMap files and no token', () => {
  const withCa = { ...lookup, configMap: (_ns: string, name: string) => (name === 'kube-root-ca.crt' ? { 'ca.crt': 'PEM' } : undefined) };
  const files = volumeFiles(
    {
      name: 'kube-api-access-x',
      projected: {
        sources: [
          { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        ],
      },
    },
    'ns',
    withCa,
  );
  assert.deepEqual(files, [{ path: 'ca.crt', content: 'PEM', mode: 0o644 }]);
});
