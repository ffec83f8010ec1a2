// The benchmark's own writer: server-side apply over one keep-alive connection pool. The
// client library opens a new TLS connection per call when client certificates are configured
// (issue 14), which on this machine held the benchmark to about 10 applies a second: the
// pipelines' creation and the floor run would have measured the benchmark's client, not the
// operator or the cluster.
import { Agent, request } from 'node:https';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';

/** The REST path of an object: /api/v1/namespaces/ns/services/name, /apis/group/version/namespaces/ns/plural/name. */
export function objectPath(o: KubernetesObject): string {
  const PLURALS: Record<string, string> = {
    Deployment: 'deployments',
    Service: 'services',
    HorizontalPodAutoscaler: 'horizontalpodautoscalers',
    PodDisruptionBudget: 'poddisruptionbudgets',
    OcrPipeline: 'ocrpipelines',
    Secret: 'secrets',
  };
  const plural = PLURALS[o.kind ?? ''];
  if (!plural) throw new Error(`the benchmark's writer does not know the kind ${o.kind}`);
  const base = o.apiVersion?.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  return `${base}/namespaces/${o.metadata?.namespace}/${plural}/${o.metadata?.name}`;
}

export interface Applier {
  apply(o: KubernetesObject): Promise<void>;
  close(): void;
}

/** An applier with up to `connections` keep-alive connections, authenticated as kc's current user. */
export function applier(kc: KubeConfig, fieldManager: string, connections: number): Applier {
  const cluster = kc.getCurrentCluster()!;
  const user = kc.getCurrentUser()!;
  const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64');
  const agent = new Agent({ keepAlive: true, maxSockets: connections, ca: b64(cluster.caData), cert: b64(user.certData), key: b64(user.keyData) });
  return {
    async apply(o) {
      const url = new URL(objectPath(o), cluster.server);
      url.searchParams.set('fieldManager', fieldManager);
      url.searchParams.set('force', 'true');
      const body = JSON.stringify(o);
      await new Promise<void>((resolve, reject) => {
        const req = request(url, { method: 'PATCH', agent, timeout: 30_000, headers: { 'content-type': 'application/apply-patch+yaml' } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () =>
            (res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`apply ${o.kind}/${o.metadata?.name}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`)),
          );
        });
        req.on('timeout', () => req.destroy(new Error(`apply ${o.kind}/${o.metadata?.name} timed out after 30 s`)));
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
