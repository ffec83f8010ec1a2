// The two egress policies as modules: the webhook policy at delivery, after DNS (a public
// looking name that resolves inside the network; docs/api.md "Where webhooks may go"), and
// the operator's Service Bus policy (docs/ocrpipeline-reference.md, README troubleshooting:
// NamespaceNotAllowed, EmulatorNotAllowed). Both are pure, so no process is involved.
import { EgressPolicy } from '../../src/jobs/egress.ts';
import { checkEgress, DEFAULT_EGRESS_POLICY } from '../../src/operator/scaling/egress.ts';
import type { QueueCredential } from '../../src/operator/scaling/client.ts';
import type { Case } from './runner.ts';

const webhook = new EgressPolicy({ allowHttp: false, allowedHosts: [] });

function judged(url: string, addresses: string[]): string {
  const verdict = webhook.judge(url, addresses);
  return verdict.allowed ? 'allowed' : `refused ${verdict.reason}`;
}

/** A name that passes at submit, then resolves to `addresses` at delivery (DNS rebinding, internal names). */
const RESOLVED: [id: string, addresses: string[], reason: string][] = [
  ['to-loopback', ['127.0.0.1'], 'loopback'],
  ['to-metadata', ['169.254.169.254'], 'link_local'],
  ['to-mapped-private', ['::ffff:10.0.0.1'], 'private'],
  ['public-and-private', ['93.184.216.34', '10.1.2.3'], 'private'],
  ['to-cluster-ip', ['10.96.0.1'], 'private'],
  ['to-nat64-loopback', ['64:ff9b::7f00:1'], 'loopback'],
  ['to-nothing', [], 'no_address'],
];

export function webhookDeliveryCases(): Case[] {
  return RESOLVED.map(([id, addresses, reason]) => ({
    id: `delivery-${id}`,
    attack: `https://hooks.example.com/ resolving to ${addresses.join(', ') || 'no address'}`,
    expected: `refused ${reason}`,
    run: async () => judged('https://hooks.example.com/', addresses),
  }));
}

const cs = (endpoint: string, extra = ''): QueueCredential => ({
  kind: 'connectionString',
  connectionString: `Endpoint=${endpoint};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=dGVzdA==${extra}`,
});

function operatorVerdict(cred: QueueCredential): string {
  const problem = checkEgress(cred, DEFAULT_EGRESS_POLICY);
  return problem ? `QueueReachable=False ${problem.reason}` : 'allowed';
}

const NOT_ALLOWED = 'QueueReachable=False NamespaceNotAllowed';

export function operatorEgressCases(): Case[] {
  const rows: [id: string, attack: string, cred: QueueCredential, expected: string][] = [
    [
      'ns-foreign',
      'spec namespace attacker.example.com (the operator token would go there)',
      { kind: 'workloadIdentity', namespace: 'attacker.example.com' },
      NOT_ALLOWED,
    ],
    ['ns-metadata', 'spec namespace 169.254.169.254', { kind: 'workloadIdentity', namespace: '169.254.169.254' }, NOT_ALLOWED],
    [
      'ns-suffix-trick',
      'namespace servicebus.windows.net.attacker.com',
      { kind: 'workloadIdentity', namespace: 'x.servicebus.windows.net.attacker.com' },
      NOT_ALLOWED,
    ],
    ['ns-bare-suffix', 'namespace servicebus.windows.net itself', { kind: 'workloadIdentity', namespace: 'servicebus.windows.net' }, NOT_ALLOWED],
    ['ns-port', 'namespace with a port (port scan)', { kind: 'workloadIdentity', namespace: 'x.servicebus.windows.net:22' }, NOT_ALLOWED],
    ['cs-internal', 'connection string to kubernetes.default.svc', cs('sb://kubernetes.default.svc/'), NOT_ALLOWED],
    ['cs-userinfo', 'Endpoint sb://evil.example\\@x.servicebus.windows.net/', cs('sb://evil.example\\@x.servicebus.windows.net/'), NOT_ALLOWED],
    [
      'cs-emulator',
      'UseDevelopmentEmulator=true to 10.0.0.5:6379',
      cs('sb://10.0.0.5:6379/', ';UseDevelopmentEmulator=true'),
      'QueueReachable=False EmulatorNotAllowed',
    ],
  ];
  return rows.map(([id, attack, cred, expected]) => ({ id: `operator-${id}`, attack, expected, run: async () => operatorVerdict(cred) }));
}
