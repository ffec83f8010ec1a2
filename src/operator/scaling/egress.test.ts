// The egress policy: which Service Bus namespaces the queue poller may contact, decided before any request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REASON } from '../conditions/reasons.ts';
import type { QueueCredential } from './client.ts';
import { checkEgress, DEFAULT_EGRESS_POLICY, DEFAULT_SERVICEBUS_SUFFIXES, egressPolicy, normalizeSuffix, type EgressPolicy } from './egress.ts';

const wi = (namespace: string): QueueCredential => ({ kind: 'workloadIdentity', namespace });
const cs = (endpoint: string, extra = ''): QueueCredential => ({
  kind: 'connectionString',
  connectionString: `Endpoint=${endpoint};SharedAccessKeyName=manage;SharedAccessKey=c2VjcmV0${extra}`,
});
const EMULATOR = ';UseDevelopmentEmulator=true';
const withEmulator = egressPolicy([], true);
const withPrivateCloud = egressPolicy(['servicebus.contoso.example'], false);

const cases: { name: string; cred: QueueCredential; policy?: EgressPolicy; reason: string | undefined }[] = [
  { name: 'a namespace in the Azure public cloud is allowed', cred: wi('contoso.servicebus.windows.net'), reason: undefined },
  { name: 'a namespace in the US Government cloud is allowed', cred: wi('contoso.servicebus.usgovcloudapi.net'), reason: undefined },
  { name: 'a namespace in the China cloud is allowed', cred: wi('contoso.servicebus.chinacloudapi.cn'), reason: undefined },
  { name: 'a namespace in upper case is compared in lower case', cred: wi('Contoso.ServiceBus.Windows.NET'), reason: undefined },
  { name: 'a namespace elsewhere is refused', cred: wi('evil.example.com'), reason: REASON.namespaceNotAllowed },
  { name: 'the bare suffix without a namespace label is refused', cred: wi('servicebus.windows.net'), reason: REASON.namespaceNotAllowed },
  { name: 'a lookalike that only contains the suffix is refused', cred: wi('contoso.servicebus.windows.net.evil.example'), reason: REASON.namespaceNotAllowed },
  { name: 'a suffix glued to another label is refused', cred: wi('evilservicebus.windows.net'), reason: REASON.namespaceNotAllowed },
  { name: 'a namespace under an extra suffix from the flag is allowed', cred: wi('a.servicebus.contoso.example'), policy: withPrivateCloud, reason: undefined },
  { name: 'a connection string to an Azure namespace is allowed', cred: cs('sb://contoso.servicebus.windows.net/'), reason: undefined },
  { name: 'a connection string naming port 443 is allowed', cred: cs('sb://contoso.servicebus.windows.net:443/'), reason: undefined },
  { name: 'a connection string naming another port is refused', cred: cs('sb://contoso.servicebus.windows.net:8080/'), reason: REASON.namespaceNotAllowed },
  { name: 'a connection string to evil.example.com is refused', cred: cs('sb://evil.example.com/'), reason: REASON.namespaceNotAllowed },
  { name: 'a connection string to a loopback address is refused', cred: cs('sb://127.0.0.1:5300/'), reason: REASON.namespaceNotAllowed },
  { name: 'a connection string to an IPv6 address is refused', cred: cs('sb://[::1]/'), reason: REASON.namespaceNotAllowed },
  {
    name: 'user info before an allowed host is refused',
    cred: cs('sb://evil.example.com@contoso.servicebus.windows.net/'),
    reason: REASON.namespaceNotAllowed,
  },
  {
    name: 'a backslash trick that an https parser would read as another host is refused',
    cred: cs('sb://evil.example.com\\@contoso.servicebus.windows.net/'),
    reason: REASON.namespaceNotAllowed,
  },
  { name: 'a percent-encoded host is refused', cred: cs('sb://evil.example.com%2f.servicebus.windows.net/'), reason: REASON.namespaceNotAllowed },
  { name: 'a development-emulator string is refused without the flag', cred: cs('sb://127.0.0.1:5300/', EMULATOR), reason: REASON.emulatorNotAllowed },
  {
    name: 'a development-emulator string to an Azure host is refused without the flag too',
    cred: cs('sb://contoso.servicebus.windows.net/', EMULATOR),
    reason: REASON.emulatorNotAllowed,
  },
  { name: 'a development-emulator string is allowed with the flag', cred: cs('sb://127.0.0.1:5300/', EMULATOR), policy: withEmulator, reason: undefined },
  {
    name: 'the emulator flag does not open other hosts to plain strings',
    cred: cs('sb://evil.example.com/'),
    policy: withEmulator,
    reason: REASON.namespaceNotAllowed,
  },
];
for (const c of cases) {
  void test(c.name, () => assert.equal(checkEgress(c.cred, c.policy ?? DEFAULT_EGRESS_POLICY)?.reason, c.reason));
}

void test('the refusal names the host, the allowed suffixes and the flag that adds more', () => {
  const problem = checkEgress(wi('evil.example.com'), DEFAULT_EGRESS_POLICY);
  assert.ok(problem);
  assert.match(problem.message, /evil\.example\.com/);
  for (const s of DEFAULT_SERVICEBUS_SUFFIXES) assert.ok(problem.message.includes(s), s);
  assert.match(problem.message, /--servicebus-suffixes/);
});

void test('the emulator refusal names the flag that allows it', () => {
  assert.match(checkEgress(cs('sb://127.0.0.1:5300/', EMULATOR), DEFAULT_EGRESS_POLICY)?.message ?? '', /--allow-development-emulator/);
});

void test('the refusal never repeats the shared access key', () => {
  assert.doesNotMatch(checkEgress(cs('sb://evil.example.com/'), DEFAULT_EGRESS_POLICY)?.message ?? '', /c2VjcmV0/);
});

const suffixes: { name: string; raw: string; out: string | RegExp }[] = [
  { name: 'a suffix gets a leading dot', raw: 'servicebus.contoso.example', out: '.servicebus.contoso.example' },
  { name: 'a suffix is lower-cased and trimmed', raw: ' .ServiceBus.Contoso.Example ', out: '.servicebus.contoso.example' },
  { name: 'a single-label suffix is refused', raw: 'com', out: /not a DNS suffix/ },
  { name: 'a suffix with a wildcard is refused', raw: '*.example.com', out: /not a DNS suffix/ },
  { name: 'a suffix with a port is refused', raw: 'example.com:443', out: /not a DNS suffix/ },
];
for (const s of suffixes) {
  void test(s.name, () => (typeof s.out === 'string' ? assert.equal(normalizeSuffix(s.raw), s.out) : assert.throws(() => normalizeSuffix(s.raw), s.out)));
}

void test('extra suffixes add to the defaults without duplicates', () => {
  assert.deepEqual(egressPolicy(['.servicebus.windows.net', 'sb.example.org'], false).suffixes, [...DEFAULT_SERVICEBUS_SUFFIXES, '.sb.example.org']);
});
