import { after, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { KubeconfigError, TOKEN_REREAD_MS, inClusterAccess, kubeconfigAccess, loadClusterAccess, tokenFromFile, type ClusterAccess } from './kubeconfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (s: string) => Buffer.from(s).toString('base64');
let n = 0;
/** Writes a kubeconfig with one context "x" of cluster "c" and user "u"; returns its path. */
function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `config-${++n}`);
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'x',
    clusters: [{ name: 'c', cluster }],
    users: user ? [{ name: 'u', user }] : [],
    contexts: [{ name: 'x', context: { cluster: 'c', ...(user ? { user: 'u' } : {}) } }],
    ...extra,
  };
  writeFileSync(path, stringify(doc));
  return path;
}

writeFileSync(join(dir, 'ca.crt'), 'CA FROM FILE');
writeFileSync(join(dir, 'client.crt'), 'CERT FROM FILE');
writeFileSync(join(dir, 'client.key'), 'KEY FROM FILE');
writeFileSync(join(dir, 'token-file'), 'token-from-file\n');

const text = (b: Buffer | undefined) => b?.toString('utf8');
const summary = (a: ClusterAccess) => ({
  server: a.server,
  ca: text(a.tls.ca),
  cert: text(a.tls.cert),
  key: text(a.tls.key),
  insecure: a.tls.insecureSkipVerify,
  servername: a.tls.servername,
  token: a.token(),
  basic: a.basic,
});

void describe('a kubeconfig file', () => {
  const cases: { name: string; cluster: Record<string, unknown>; user?: Record<string, unknown>; expected: Partial<ReturnType<typeof summary>> }[] = [
    {
      name: 'certificate authority, client certificate and key as data are decoded',
      cluster: { server: 'https://k:6443', 'certificate-authority-data': b64('CA') },
      user: { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') },
      expected: { server: 'https://k:6443', ca: 'CA', cert: 'CERT', key: 'KEY', insecure: false, token: undefined },
    },
    {
      name: 'files are read relative to the kubeconfig directory',
      cluster: { server: 'https://k:6443', 'certificate-authority': 'ca.crt' },
      user: { 'client-certificate': 'client.crt', 'client-key': join(dir, 'client.key') },
      expected: { ca: 'CA FROM FILE', cert: 'CERT FROM FILE', key: 'KEY FROM FILE' },
    },
    { name: 'a bearer token is sent as it is', cluster: { server: 'https://k' }, user: { token: 'abc' }, expected: { token: 'abc' } },
    { name: 'a token file is read', cluster: { server: 'https://k' }, user: { tokenFile: 'token-file' }, expected: { token: 'token-from-file' } },
    {
      name: 'basic auth keeps username and password',
      cluster: { server: 'https://k' },
      user: { username: 'me', password: 'pw' },
      expected: { basic: { username: 'me', password: 'pw' }, token: undefined },
    },
    {
      name: 'insecure-skip-tls-verify and tls-server-name are honoured',
      cluster: { server: 'https://10.0.0.1/', 'insecure-skip-tls-verify': true, 'tls-server-name': 'kubernetes' },
      expected: { server: 'https://10.0.0.1', insecure: true, servername: 'kubernetes' },
    },
    { name: 'a context without a user connects anonymously', cluster: { server: 'http://127.0.0.1:8080' }, expected: { token: undefined, basic: undefined } },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const got = summary(kubeconfigAccess([kubeconfig(c.cluster, c.user)]));
      for (const [k, v] of Object.entries(c.expected)) assert.deepEqual(got[k as keyof typeof got], v, k);
    });
  }
});

void describe('kubeconfigs the operator refuses, saying why', () => {
  const cases: { name: string; path: () => string[]; message: RegExp }[] = [
    {
      name: 'a user with an exec plugin',
      path: () => [kubeconfig({ server: 'https://k' }, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'kubelogin' } })],
      message: /user "u" needs an exec plugin, which the operator does not run/,
    },
    {
      name: 'a user with an auth-provider',
      path: () => [kubeconfig({ server: 'https://k' }, { 'auth-provider': { name: 'oidc' } })],
      message: /user "u" needs an auth-provider/,
    },
    {
      name: 'a current context that is not defined',
      path: () => [kubeconfig({ server: 'https://k' }, undefined, { 'current-context': 'y' })],
      message: /context "y" is not defined/,
    },
    { name: 'a cluster without a server', path: () => [kubeconfig({}, undefined)], message: /cluster "c" has no server/ },
    { name: 'a path where there is no file', path: () => [join(dir, 'missing')], message: /No kubeconfig file at/ },
  ];
  for (const c of cases)
    void it(c.name, () =>
      assert.throws(
        () => kubeconfigAccess(c.path()),
        (err: Error) => err instanceof KubeconfigError && c.message.test(err.message),
      ),
    );
});

void test('a KUBECONFIG list merges its files, the first current-context and the first entry of a name winning', () => {
  const first = join(dir, 'first');
  writeFileSync(first, stringify({ 'current-context': 'x', clusters: [{ name: 'c', cluster: { server: 'https://first' } }], users: [], contexts: [] }));
  const second = kubeconfig({ server: 'https://second' }, { token: 't2' }, { 'current-context': 'other' });
  const access = loadClusterAccess(`${first}${delimiter}${second}`, {});
  assert.equal(access.server, 'https://first');
  assert.equal(access.token(), 't2');
});

void describe('in a pod', () => {
  const sa = join(dir, 'serviceaccount');
  mkdirSync(sa);
  writeFileSync(join(sa, 'ca.crt'), 'POD CA');
  writeFileSync(join(sa, 'token'), 'pod-token');
  const home = join(dir, 'empty-home');

  void it('the service account is used when no kubeconfig is given or found', () => {
    const access = loadClusterAccess(undefined, { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, home, sa);
    assert.deepEqual(summary(access), { ...summary(access), server: 'https://10.96.0.1:443', ca: 'POD CA', token: 'pod-token', insecure: false });
  });
  void it('an IPv6 service host is bracketed', () =>
    assert.equal(inClusterAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa).server, 'https://[fd00::1]:443'));
  void it('without KUBERNETES_SERVICE_HOST the in-cluster configuration is refused', () =>
    assert.throws(() => inClusterAccess({}, sa), /needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT/));
  void it('no kubeconfig and no service account is an error that lists the ways', () =>
    assert.throws(() => loadClusterAccess(undefined, {}, home, join(dir, 'no-sa')), /pass --kubeconfig or set KUBECONFIG/));
});

void test('a rotated token file is read again after TOKEN_REREAD_MS, not before', () => {
  const path = join(dir, 'rotating');
  writeFileSync(path, 'one');
  let now = 0;
  const token = tokenFromFile(path, () => now);
  writeFileSync(path, 'two');
  now = TOKEN_REREAD_MS - 1;
  assert.equal(token(), 'one');
  now = TOKEN_REREAD_MS;
  assert.equal(token(), 'two');
  rmSync(path);
  now = 3 * TOKEN_REREAD_MS;
  assert.equal(token(), 'two', 'a briefly missing file keeps the last token');
});
