// The NetworkPolicy of one component's pods (spec.networkPolicy.enabled; off by default).
// Egress: DNS in kube-system, TCP 443 and 5671 to public addresses (Azure Service Bus,
// Storage, Entra ID for workload identity, https webhooks) and the spec's extra list. Ingress: the
// API port from anywhere (the Service forwards to it), the metrics ports only from the
// namespaces the spec labels; and "job finished" notices from the pipeline's workers to its API pods on the
// API's internal port (worker egress, API ingress). Once a policy selects a pod, whatever it does not allow is
// refused, in both directions. Pure.
import type { V1IPBlock, V1NetworkPolicy, V1NetworkPolicyEgressRule, V1NetworkPolicyIngressRule, V1NetworkPolicyPort } from '@kubernetes/client-node';
import { PORTS } from '../../contract/container.ts';
import { MANAGED_KINDS } from '../../contract/kinds.ts';
import type { OcrPipelineSpec } from '../../crds/ocrpipeline.ts';
import { childMetadata, selectorLabels, type Component } from './common.ts';
import type { DesiredInput } from './input.ts';

/**
 * Addresses the public egress never reaches: private (RFC 1918, unique local), loopback,
 * link-local (the instance metadata service 169.254.169.254 among them) and CGNAT (RFC 6598).
 * Cluster pod and Service ranges usually fall inside these, so pods cannot reach each other or
 * the Kubernetes API that way either; add such a target to spec.networkPolicy.egress.
 */
export const PRIVATE_IPV4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10', '127.0.0.0/8'] as const;
// No ::ffff:0:0/96 (IPv4-mapped): the API server refuses mapped addresses in an ipBlock, and the IPv4 rule covers those targets.
export const PRIVATE_IPV6 = ['fc00::/7', 'fe80::/10', '::1/128'] as const;

/** Where cluster DNS runs: the kube-system namespace, by the label every namespace carries (Kubernetes 1.21+). */
export const DNS_NAMESPACE_LABELS = { 'kubernetes.io/metadata.name': 'kube-system' } as const;

const tcp = (port: number): V1NetworkPolicyPort => ({ protocol: 'TCP', port });

/**
 * Ports open to public addresses: 443 (HTTPS: Storage, Entra ID, the Service Bus management
 * endpoint, webhooks) and 5671 (AMQP over TLS, the Service Bus client's default transport).
 */
export const PUBLIC_EGRESS_PORTS = [443, 5671] as const;

/** Public 443 and 5671: any address outside the private ranges, for IPv4 and IPv6. */
export function publicEgress(): V1NetworkPolicyEgressRule {
  return {
    to: [{ ipBlock: { cidr: '0.0.0.0/0', except: [...PRIVATE_IPV4] } }, { ipBlock: { cidr: '::/0', except: [...PRIVATE_IPV6] } }],
    ports: PUBLIC_EGRESS_PORTS.map(tcp),
  };
}

export function dnsEgress(): V1NetworkPolicyEgressRule {
  return {
    to: [{ namespaceSelector: { matchLabels: { ...DNS_NAMESPACE_LABELS } } }],
    ports: [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ],
  };
}

/** spec.networkPolicy.egress, one rule per entry (an entry without ports opens every port of its addresses). */
export function extraEgress(np: OcrPipelineSpec['networkPolicy']): V1NetworkPolicyEgressRule[] {
  return (np.egress ?? []).map((e) => {
    const ipBlock: V1IPBlock = { cidr: e.cidr, ...(e.except?.length ? { except: [...e.except] } : {}) };
    return { to: [{ ipBlock }], ...(e.ports ? { ports: e.ports.map((p) => ({ protocol: p.protocol, port: p.port })) } : {}) };
  });
}

/** The ports a component serves metrics on: the API's admin port, the worker's one port. */
export const METRICS_PORTS: Record<Component, number> = { api: PORTS.apiAdmin, worker: PORTS.worker };

/** API pods take "job finished" notices on the internal port from this pipeline's worker pods only. */
export function noticeIngress(pipeline: string): V1NetworkPolicyIngressRule {
  return { _from: [{ podSelector: { matchLabels: selectorLabels(pipeline, 'worker') } }], ports: [tcp(PORTS.apiInternal)] };
}

/** Worker pods send "job finished" notices to this pipeline's API pods, on the internal port only (src/worker/notify.ts). */
export function noticeEgress(pipeline: string): V1NetworkPolicyEgressRule {
  return { to: [{ podSelector: { matchLabels: selectorLabels(pipeline, 'api') } }], ports: [tcp(PORTS.apiInternal)] };
}

/**
 * API pods of a pipeline with spec.api.maxBacklog read their backlog from the operator (its namespace, its pod port);
 * nothing without maxBacklog or without the operator's --backlog-url.
 */
export function backlogEgress(input: DesiredInput): V1NetworkPolicyEgressRule[] {
  if (input.pipeline.spec.api.maxBacklog === undefined || !input.backlog) return [];
  return [{ to: [{ namespaceSelector: { matchLabels: { ...namespaceLabels(input.backlog.namespace) } } }], ports: [tcp(input.backlog.port)] }];
}

/** The label every namespace carries with its own name (Kubernetes 1.21+). */
const namespaceLabels = (name: string) => ({ 'kubernetes.io/metadata.name': name });

/** Egress one component has and the other has not: workers' notices to the API pods, the API's backlog reads. */
function componentEgress(input: DesiredInput, component: Component): V1NetworkPolicyEgressRule[] {
  return component === 'worker' ? [noticeEgress(input.pipeline.metadata.name)] : backlogEgress(input);
}

export function ingressRules(np: OcrPipelineSpec['networkPolicy'], component: Component, pipeline: string): V1NetworkPolicyIngressRule[] {
  const rules: V1NetworkPolicyIngressRule[] = [];
  // No `from`: every source, in or outside the cluster (a LoadBalancer Service forwards here).
  if (component === 'api') rules.push({ ports: [tcp(PORTS.api)] });
  if (np.metricsNamespaceLabels && Object.keys(np.metricsNamespaceLabels).length > 0) {
    // `_from`: the client's name for `from` (a reserved word); KubernetesObjectApi serializes it as `from`, and a plain `from` would be dropped.
    rules.push({ _from: [{ namespaceSelector: { matchLabels: { ...np.metricsNamespaceLabels } } }], ports: [tcp(METRICS_PORTS[component])] });
  }
  if (component === 'api') rules.push(noticeIngress(pipeline));
  return rules;
}

/** The component's NetworkPolicy, named like its Deployment; undefined unless spec.networkPolicy.enabled. */
export function networkPolicy(input: DesiredInput, component: Component): V1NetworkPolicy | undefined {
  const p = input.pipeline;
  const np = p.spec.networkPolicy;
  if (!np.enabled) return undefined;
  const ingress = ingressRules(np, component, p.metadata.name);
  return {
    apiVersion: MANAGED_KINDS.networkPolicy.apiVersion,
    kind: MANAGED_KINDS.networkPolicy.kind,
    metadata: childMetadata(p, component),
    spec: {
      podSelector: { matchLabels: selectorLabels(p.metadata.name, component) },
      policyTypes: ['Ingress', 'Egress'],
      // Ingress listed but empty (the worker without metricsNamespaceLabels) is left out: the API server drops empty lists.
      ...(ingress.length > 0 ? { ingress } : {}),
      egress: [dnsEgress(), publicEgress(), ...extraEgress(np), ...componentEgress(input, component)],
    },
  };
}
