import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1NetworkPolicy } from '@kubernetes/client-node';
// The serializer KubernetesObjectApi.patch uses (not re-exported from the package root).
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { input, pipeline, set, type SpecMod } from '../testing/fixtures.ts';
import { LABELS } from '../../contract/labels.ts';
import { MANAGED_KINDS } from '../../contract/kinds.ts';
import { desiredChildren } from './index.ts';
import { networkPolicy } from './network-policy.ts';

const enabled = set('networkPolicy.enabled', true);
const policy = (component: 'api' | 'worker', ...mods: SpecMod[]): V1NetworkPolicy => {
  const np = networkPolicy(input(pipeline('full', enabled, ...mods)), component);
  assert.ok(np);
  return np;
};
/** API ingress: job-finished notices on the internal port, from this pipeline's worker pods only. */
const workerNotices = {
  _from: [
    {
      podSelector: {
        matchLabels: { 'app.kubernetes.io/name': 'ocr-platform', 'app.kubernetes.io/instance': 'invoices', 'app.kubernetes.io/component': 'worker' },
      },
    },
  ],
  ports: [{ protocol: 'TCP', port: 8081 }],
};
const kinds = (...mods: SpecMod[]) => desiredChildren(input(pipeline('full', ...mods))).map((c) => `${c.kind}/${c.metadata?.name}`);

void test('by default no NetworkPolicy is rendered (the full sample leaves it off)', () => {
  assert.equal(kinds().filter((k) => k.startsWith('NetworkPolicy/')).length, 0);
});

void test('enabled renders one NetworkPolicy per component, last, named like its Deployment', () => {
  assert.deepEqual(kinds(enabled).slice(-2), ['NetworkPolicy/invoices-api', 'NetworkPolicy/invoices-worker']);
});

void test("each policy selects only its component's pods and limits both directions", () => {
  for (const component of ['api', 'worker'] as const) {
    const np = policy(component);
    assert.equal(np.apiVersion, MANAGED_KINDS.networkPolicy.apiVersion);
    assert.equal(np.spec?.podSelector?.matchLabels?.[LABELS.component], component);
    assert.equal(np.spec?.podSelector?.matchLabels?.[LABELS.instance], 'invoices');
    assert.deepEqual(np.spec?.policyTypes, ['Ingress', 'Egress']);
  }
});

void test('egress allows DNS in kube-system on 53 UDP and TCP', () => {
  assert.deepEqual(policy('worker').spec?.egress?.[0], {
    to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }],
    ports: [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ],
  });
});

void test('egress allows 443 and 5671 (AMQP, the Service Bus default) only to addresses outside the private, loopback, link-local and CGNAT ranges', () => {
  const rule = policy('api').spec?.egress?.[1];
  assert.deepEqual(rule?.ports, [
    { protocol: 'TCP', port: 443 },
    { protocol: 'TCP', port: 5671 },
  ]);
  assert.deepEqual(rule?.to?.[0]?.ipBlock, {
    cidr: '0.0.0.0/0',
    except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10', '127.0.0.0/8'],
  });
  assert.deepEqual(rule?.to?.[1]?.ipBlock, { cidr: '::/0', except: ['fc00::/7', 'fe80::/10', '::1/128'] });
});

void test('the spec egress list is appended, one rule per entry, an entry without ports opening every port', () => {
  const extra = set('networkPolicy.egress', [
    { cidr: '10.20.0.0/16', except: ['10.20.1.0/24'], ports: [{ port: 8443 }, { port: 5672, protocol: 'TCP' }] },
    { cidr: '192.168.5.10/32' },
  ]);
  assert.deepEqual(policy('worker', extra).spec?.egress?.slice(2, 4), [
    {
      to: [{ ipBlock: { cidr: '10.20.0.0/16', except: ['10.20.1.0/24'] } }],
      ports: [
        { protocol: 'TCP', port: 8443 },
        { protocol: 'TCP', port: 5672 },
      ],
    },
    { to: [{ ipBlock: { cidr: '192.168.5.10/32' } }] },
  ]);
});

void test('without metricsNamespaceLabels the API port is open to all and the internal port to the workers only; the worker takes no ingress', () => {
  assert.deepEqual(policy('api').spec?.ingress, [{ ports: [{ protocol: 'TCP', port: 8080 }] }, workerNotices]);
  assert.equal(policy('worker').spec?.ingress, undefined);
});

void test('metricsNamespaceLabels opens the API admin port and the worker port to those namespaces only', () => {
  const labels = set('networkPolicy.metricsNamespaceLabels', { 'kubernetes.io/metadata.name': 'monitoring' });
  const from = [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }];
  assert.deepEqual(policy('api', labels).spec?.ingress, [
    { ports: [{ protocol: 'TCP', port: 8080 }] },
    { _from: from, ports: [{ protocol: 'TCP', port: 9090 }] },
    workerNotices,
  ]);
  assert.deepEqual(policy('worker', labels).spec?.ingress, [{ _from: from, ports: [{ protocol: 'TCP', port: 9090 }] }]);
});

void test("worker pods may reach only this pipeline's API pods on the internal port, for job-finished notices, and only the API takes them", () => {
  const egress = policy('worker').spec?.egress ?? [];
  assert.deepEqual(egress.at(-1), {
    to: [
      {
        podSelector: {
          matchLabels: { 'app.kubernetes.io/name': 'ocr-platform', 'app.kubernetes.io/instance': 'invoices', 'app.kubernetes.io/component': 'api' },
        },
      },
    ],
    ports: [{ protocol: 'TCP', port: 8081 }],
  });
  assert.equal(
    (policy('api').spec?.egress ?? []).some((rule) => rule.ports?.some((port) => port.port === 8081)),
    false,
    'API pods send no notices',
  );
});

void test('the client library serializes the policy with `from` (the body the API server receives keeps the source restriction)', () => {
  const labels = set('networkPolicy.metricsNamespaceLabels', { team: 'observability' });
  const body = JSON.parse(JSON.stringify(ObjectSerializer.serialize(policy('api', labels), 'V1NetworkPolicy'))) as { spec: { ingress: unknown[] } };
  assert.deepEqual(body.spec.ingress[1], {
    from: [{ namespaceSelector: { matchLabels: { team: 'observability' } } }],
    ports: [{ protocol: 'TCP', port: 9090 }],
  });
  const plain = JSON.parse(JSON.stringify(policy('api', labels))) as { spec: unknown };
  const serialized = JSON.parse(JSON.stringify(body.spec).replaceAll('"from"', '"_from"')) as unknown;
  assert.deepEqual(serialized, plain.spec);
});

void test("API pods of a pipeline with api.maxBacklog may reach the operator's namespace on its pod port, for backlog reads; without it, or without the offer, no rule", () => {
  const backlog = { url: 'http://ocr-platform-metrics.ocr-system.svc:8080/v1/backlog', namespace: 'ocr-system', port: 8088 };
  const render = (component: 'api' | 'worker', offered: boolean, ...mods: SpecMod[]) =>
    networkPolicy({ ...input(pipeline('full', enabled, ...mods)), ...(offered ? { backlog } : {}) }, component)?.spec?.egress ?? [];
  const toOperator = {
    to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ocr-system' } } }],
    ports: [{ protocol: 'TCP', port: 8088 }],
  };
  const limited = set('api.maxBacklog', 100);
  const unlimited = set('api.maxBacklog', undefined);
  assert.deepEqual(render('api', true, limited).at(-1), toOperator);
  assert.equal(render('api', true, unlimited).length, render('api', false, unlimited).length, 'no maxBacklog: no rule');
  assert.equal(render('api', false, limited).length, render('api', false).length, 'no offer: no rule');
  assert.ok(!render('worker', true, limited).some((rule) => rule.ports?.some((p) => p.port === 8088)), 'workers read no backlog');
});
