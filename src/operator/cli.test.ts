import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLAGS, helpText, parseConfig } from './cli.ts';

void test('defaults: all namespaces, leader election 15/10/2 s, metrics on :8080, resync 10 h', () => {
  const c = parseConfig([], {});
  assert.equal(c.namespaces, undefined);
  assert.equal(c.leaderElect, true);
  assert.deepEqual([c.leaseDurationMs, c.renewDeadlineMs, c.retryPeriodMs], [15_000, 10_000, 2_000]);
  assert.deepEqual([c.metricsHost, c.metricsPort], ['0.0.0.0', 8080]);
  assert.equal(c.resyncMs, 36_000_000);
  assert.equal(c.leaderElectionNamespace, 'default');
});

const cases: { name: string; argv: string[]; env: Record<string, string>; check: (c: ReturnType<typeof parseConfig>) => void }[] = [
  {
    name: 'a flag wins over its environment variable',
    argv: ['--namespaces', 'a,b'],
    env: { OCR_OPERATOR_NAMESPACES: 'c' },
    check: (c) => assert.deepEqual(c.namespaces, ['a', 'b']),
  },
  {
    name: 'the environment fills a flag that is not given',
    argv: [],
    env: { OCR_OPERATOR_NAMESPACES: ' c , d ' },
    check: (c) => assert.deepEqual(c.namespaces, ['c', 'd']),
  },
  { name: 'KUBECONFIG is the kubeconfig default', argv: [], env: { KUBECONFIG: '/tmp/kc' }, check: (c) => assert.equal(c.kubeconfig, '/tmp/kc') },
  { name: 'a bare boolean flag means true and =false turns it off', argv: ['--leader-elect=false'], env: {}, check: (c) => assert.equal(c.leaderElect, false) },
  {
    name: 'the Lease namespace falls back to POD_NAMESPACE',
    argv: [],
    env: { POD_NAMESPACE: 'ocr-system' },
    check: (c) => assert.equal(c.leaderElectionNamespace, 'ocr-system'),
  },
  {
    name: 'lease timings are read in seconds',
    argv: ['--lease-duration', '30', '--renew-deadline', '20', '--retry-period', '0.5'],
    env: {},
    check: (c) => assert.deepEqual([c.leaseDurationMs, c.renewDeadlineMs, c.retryPeriodMs], [30_000, 20_000, 500]),
  },
  {
    name: 'an IPv6 metrics address is split at its last colon',
    argv: ['--metrics-addr', '[::1]:9000'],
    env: {},
    check: (c) => assert.deepEqual([c.metricsHost, c.metricsPort], ['::1', 9000]),
  },
  {
    name: 'by default only the Azure clouds are allowed and the development emulator is not',
    argv: [],
    env: {},
    check: (c) =>
      assert.deepEqual(c.egress, {
        suffixes: ['.servicebus.windows.net', '.servicebus.usgovcloudapi.net', '.servicebus.chinacloudapi.cn'],
        allowDevelopmentEmulator: false,
      }),
  },
  {
    name: '--servicebus-suffixes adds to the Azure clouds',
    argv: ['--servicebus-suffixes', 'servicebus.contoso.example'],
    env: {},
    check: (c) => assert.deepEqual(c.egress.suffixes.slice(3), ['.servicebus.contoso.example']),
  },
  {
    name: '--allow-development-emulator is read from its flag or its environment variable',
    argv: [],
    env: { OCR_OPERATOR_ALLOW_DEVELOPMENT_EMULATOR: 'true' },
    check: (c) => assert.equal(c.egress.allowDevelopmentEmulator, true),
  },
];
for (const c of cases) void test(c.name, () => c.check(parseConfig(c.argv, c.env)));

const errors: { name: string; argv: string[]; message: RegExp }[] = [
  { name: 'an unknown flag is refused with a pointer to --help', argv: ['--bogus'], message: /--help/ },
  { name: 'a renew deadline not shorter than the lease is refused', argv: ['--renew-deadline', '15'], message: /--renew-deadline must be shorter/ },
  { name: 'a retry period not shorter than the renew deadline is refused', argv: ['--retry-period', '10'], message: /--retry-period must be shorter/ },
  { name: 'a non-numeric resync is refused', argv: ['--resync-seconds', 'often'], message: /--resync-seconds must be a number/ },
  { name: 'a bad metrics address is refused', argv: ['--metrics-addr', 'localhost:http'], message: /--metrics-addr must be host:port/ },
  { name: 'an unknown log level is refused', argv: ['--log-level', 'loud'], message: /--log-level/ },
  { name: 'a suffix that is not a DNS suffix is refused', argv: ['--servicebus-suffixes', '*.example.com'], message: /--servicebus-suffixes/ },
];
for (const e of errors) void test(e.name, () => assert.throws(() => parseConfig(e.argv, {}), e.message));

void test('--help documents every flag and its environment variable', () => {
  const help = helpText();
  for (const f of FLAGS) {
    assert.ok(help.includes(`--${f.name}`), f.name);
    if (f.env) assert.ok(help.includes(f.env), f.env);
  }
});
