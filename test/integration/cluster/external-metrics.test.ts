// Smoke test of the metrics path the autoscaling relies on: a gauge served on
// loopback -> our Prometheus -> prometheus-adapter (external.metrics.k8s.io via
// the aggregator) -> the HPA controller -> Deployment replicas -> kwok pods.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, AutoscalingV2Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig, startCluster, type Cluster } from '../../support/cluster.ts';
import { waitFor } from '../../support/ports.ts';

const NAMESPACE = 'hpa-smoke';

/** A tiny exporter whose backlog values the test sets. */
function backlogExporter(): { server: Server; set(namespace: string, pipeline: string, value: number): void } {
  const values = new Map<string, number>();
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    const lines = ['# TYPE ocr_queue_backlog gauge'];
    for (const [key, value] of values) {
      const [namespace, pipeline] = key.split('/');
      lines.push(`ocr_queue_backlog{namespace="${namespace}",pipeline="${pipeline}"} ${value}`);
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`${lines.join('\n')}\n`);
  });
  return { server, set: (namespace, pipeline, value) => values.set(`${namespace}/${pipeline}`, value) };
}

/** GET through the apiserver (and so the aggregator), authenticated from the kubeconfig. */
async function getRaw(kc: KubeConfig, path: string): Promise<{ status: number; body: string }> {
  const url = new URL(path, kc.getCurrentCluster()!.server);
  const options: Parameters<KubeConfig['applyToHTTPSOptions']>[0] = { method: 'GET', timeout: 5_000 };
  await kc.applyToHTTPSOptions(options);
  return await new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

const skip = process.env.OCR_TEST_SKIP_CLUSTER ? 'OCR_TEST_SKIP_CLUSTER is set' : false;

// Always its own cluster: the test must choose Prometheus' scrape targets.
void describe('external metrics on the local control plane', { timeout: 300_000, skip }, () => {
  const exporter = backlogExporter();
  let cluster: Cluster | undefined;
  let kc: KubeConfig;

  before(async () => {
    await new Promise<void>((resolve) => exporter.server.listen(0, '127.0.0.1', resolve));
    const address = exporter.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    exporter.set(NAMESPACE, 'receipts', 42);
    // same pipeline name in another namespace: must not leak into hpa-smoke's HPA
    exporter.set('elsewhere', 'receipts', 1000);
    cluster = await startCluster({
      name: 'it-metrics',
      withMetrics: true,
      ifRunning: 'restart',
      scrapeTargets: [`127.0.0.1:${port}`],
      log: (line) => console.error(`  ${line}`),
    });
    kc = loadKubeConfig(cluster.kubeconfigPath);
  });

  after(async () => {
    await cluster?.stop();
    await new Promise((resolve) => exporter.server.close(resolve));
  });

  void it('serves the scraped gauge as an external metric, filtered to the asking namespace', async () => {
    const path = `/apis/external.metrics.k8s.io/v1beta1/namespaces/${NAMESPACE}/ocr_queue_backlog?labelSelector=pipeline%3Dreceipts`;
    let items: { value: string; metricLabels: Record<string, string> }[] = [];
    await waitFor(
      'the adapter to serve ocr_queue_backlog',
      async () => {
        const res = await getRaw(kc, path);
        if (res.status !== 200) return false;
        items = (JSON.parse(res.body) as { items: typeof items }).items;
        return items.length > 0;
      },
      60_000,
      1_000,
    );
    assert.equal(items.length, 1);
    assert.equal(items[0]?.value, '42');
    assert.equal(items[0]?.metricLabels.namespace, NAMESPACE);
  });

  void it('lets an HPA with an External metric drive the Deployment to the computed replica count', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const hpas = kc.makeApiClient(AutoscalingV2Api);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    await waitFor('ServiceAccount default', async () => Boolean(await core.readNamespacedServiceAccount({ name: 'default', namespace: NAMESPACE })), 30_000);
    const labels = { app: 'worker' };
    await apps.createNamespacedDeployment({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'worker' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'w', image: 'example.invalid/w:1' }] } },
        },
      },
    });
    await hpas.createNamespacedHorizontalPodAutoscaler({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'worker' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'worker' },
          minReplicas: 1,
          maxReplicas: 20,
          metrics: [
            {
              type: 'External',
              external: {
                metric: { name: 'ocr_queue_backlog', selector: { matchLabels: { pipeline: 'receipts' } } },
                target: { type: 'AverageValue', averageValue: '5' },
              },
            },
          ],
          behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
        },
      },
    });

    // ceil(42 / 5) = 9; had the other namespace's 1000 leaked in, it would be maxReplicas
    await waitFor(
      'the HPA to want 9 replicas and the Deployment to have 9 ready',
      async () => {
        const hpa = await hpas.readNamespacedHorizontalPodAutoscaler({ name: 'worker', namespace: NAMESPACE });
        const dep = await apps.readNamespacedDeployment({ name: 'worker', namespace: NAMESPACE });
        return hpa.status?.desiredReplicas === 9 && dep.status?.readyReplicas === 9;
      },
      120_000,
      1_000,
    );

    exporter.set(NAMESPACE, 'receipts', 8);
    // ceil(8 / 5) = 2, picked up within one scrape + one relist + one HPA sync
    await waitFor(
      'the HPA to scale down to 2',
      async () => {
        const hpa = await hpas.readNamespacedHorizontalPodAutoscaler({ name: 'worker', namespace: NAMESPACE });
        const dep = await apps.readNamespacedDeployment({ name: 'worker', namespace: NAMESPACE });
        return hpa.status?.desiredReplicas === 2 && dep.status?.replicas === 2;
      },
      120_000,
      1_000,
    );
  });
});
