// Configuration for the optional metrics pipeline: our own Prometheus (scraping
// loopback targets only) and prometheus-adapter serving external.metrics.k8s.io.
import type { KubernetesObject } from '@kubernetes/client-node';
import { isIP } from 'node:net';

/** Namespace holding the ExternalName Service that points the aggregator at the local adapter. */
export const ADAPTER_NAMESPACE = 'ocr-platform-metrics';
export const ADAPTER_SERVICE = 'prometheus-adapter';
export const EXTERNAL_METRICS_APISERVICE = 'v1beta1.external.metrics.k8s.io';

/**
 * Default adapter rules: the operator's per-pipeline backlog gauge
 * `ocr_queue_backlog{namespace, pipeline}` as an external metric of the same name.
 * - `namespaced: true` with the namespace override makes the adapter add
 *   namespace="<HPA namespace>" to the query, so an HPA only ever sees its own
 *   namespace's pipelines (the gauge carries a `namespace` label, so that matches;
 *   a gauge without one would need `namespaced: false`).
 * - `max ... by (namespace, pipeline)`: if two operator replicas export the same gauge
 *   (leader and a standby), summing would double the backlog.
 */
export const DEFAULT_ADAPTER_CONFIG = `externalRules:
- seriesQuery: '{__name__="ocr_queue_backlog",namespace!="",pipeline!=""}'
  resources:
    namespaced: true
    overrides:
      namespace: {resource: namespace}
  name:
    matches: ^ocr_queue_backlog$
    as: ocr_queue_backlog
  metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>}) by (namespace, pipeline)'
`;

/**
 * Scrape targets must be loopback host:port pairs: kwok pod and node IPs are fake
 * (nothing listens there) and traffic to private ranges is flagged on these machines.
 */
export function parseScrapeTarget(target: string): string {
  const match = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]):(\d{1,5})$/.exec(target);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535 || (match[1]?.startsWith('127.') && isIP(match[1]) !== 4)) {
    throw new Error(`invalid scrape target "${target}": give a loopback host:port such as 127.0.0.1:9464 (only loopback targets are allowed)`);
  }
  return target;
}

/** Targets go through file_sd so they can be changed while Prometheus runs (see setScrapeTargets). */
export function prometheusConfig(targetsFile: string, scrapeInterval: string): string {
  return [
    'global:',
    `  scrape_interval: ${scrapeInterval}`,
    `  evaluation_interval: ${scrapeInterval}`,
    'scrape_configs:',
    '- job_name: ocr-platform',
    // keep the exporter's own `namespace`/`pipeline` labels even if they clash with target labels
    '  honor_labels: true',
    '  file_sd_configs:',
    `  - files: [${JSON.stringify(targetsFile)}]`,
    `    refresh_interval: ${scrapeInterval}`,
    '',
  ].join('\n');
}

export function fileSdTargets(targets: readonly string[]): string {
  return `${JSON.stringify([{ targets: targets.map(parseScrapeTarget), labels: {} }], null, 2)}\n`;
}

type ObjectWithSpec = KubernetesObject & { spec: Record<string, unknown> };

/**
 * The aggregator reaches a Service's ClusterIP, which leads nowhere here (no
 * kube-proxy). An ExternalName Service is resolved by the apiserver itself to
 * https://<externalName>:<port>, so it can point at the adapter on loopback
 * (the same trick kwokctl uses for metrics-server).
 */
export function adapterRegistration(adapterPort: number): { namespace: KubernetesObject; service: ObjectWithSpec; apiService: ObjectWithSpec } {
  return {
    namespace: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ADAPTER_NAMESPACE } },
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: ADAPTER_SERVICE, namespace: ADAPTER_NAMESPACE },
      spec: { type: 'ExternalName', externalName: '127.0.0.1' },
    },
    apiService: {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: EXTERNAL_METRICS_APISERVICE },
      spec: {
        group: 'external.metrics.k8s.io',
        version: 'v1beta1',
        service: { namespace: ADAPTER_NAMESPACE, name: ADAPTER_SERVICE, port: adapterPort },
        // the adapter serves a self-signed cert from --cert-dir (as upstream's own manifest does)
        insecureSkipTLSVerify: true,
        groupPriorityMinimum: 100,
        versionPriority: 100,
      },
    },
  };
}
