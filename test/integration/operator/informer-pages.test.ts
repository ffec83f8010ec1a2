// The operator's informer (src/operator/kube-http/informer.ts) against a real API server: an
// initial list of more objects than the page size is read completely, page by page with
// limit/continue, and the watch then starts from that list's resourceVersion (an object
// created afterwards arrives as an add). Requests are counted by the client's own observe hook.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeClient } from '../../../src/operator/kube-http/client.ts';
import { Informer } from '../../../src/operator/kube-http/informer.ts';
import { kubeconfigAccess } from '../../../src/operator/kube-http/kubeconfig.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { apply, clusterWithNamespace, closeNamespace, eventually, skipWithoutCluster, uniqueNamespace, type TestCluster } from './harness.ts';

const NS = uniqueNamespace('pages');
const OBJECTS = 7;
const PAGE_SIZE = 3;
const LABEL = 'ocrplatform.io/test-pages';

const configMap = (name: string): KubernetesObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS, labels: { [LABEL]: 'yes' } } });

void describe('the informer reads a paginated list completely (real API server)', { skip: skipWithoutCluster, timeout: 120_000 }, () => {
  let cluster: TestCluster;
  let client: KubeClient;
  let informer: Informer<KubernetesObject> | undefined;
  const gets: string[] = [];

  before(async () => {
    cluster = await clusterWithNamespace('it-operator-pages', NS);
    // One more object outside the selector: the label selector travels with every page.
    await Promise.all(
      [...Array.from({ length: OBJECTS }, (_, i) => configMap(`cm-${i}`)), { ...configMap('other'), metadata: { name: 'other', namespace: NS } }].map((o) =>
        apply(cluster.kc, o),
      ),
    );
    client = new KubeClient(kubeconfigAccess([cluster.kubeconfigPath]), {
      log: silentLogger(),
      observe: (verb, resource) => {
        if (verb === 'GET') gets.push(resource);
      },
    });
  });

  after(async () => {
    await informer?.stop();
    await client?.close();
    await closeNamespace(cluster, NS);
  });

  void it(`${OBJECTS} objects in pages of ${PAGE_SIZE}: ${Math.ceil(OBJECTS / PAGE_SIZE)} list requests, every object cached, then watched`, async () => {
    const added: string[] = [];
    const inf = new Informer<KubernetesObject>(client, {
      path: `/api/v1/namespaces/${NS}/configmaps`,
      labelSelector: `${LABEL}=yes`,
      pageSize: PAGE_SIZE,
      trim: (o) => ({ metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace, resourceVersion: o.metadata?.resourceVersion } }),
      log: silentLogger(),
    });
    informer = inf;
    inf.on('add', (o) => added.push(o.metadata?.name ?? ''));
    await inf.start();
    assert.equal(gets.length, Math.ceil(OBJECTS / PAGE_SIZE), `list requests: ${gets.join(', ')}`);
    assert.deepEqual(
      inf
        .list(NS)
        .map((o) => o.metadata?.name)
        .sort(),
      Array.from({ length: OBJECTS }, (_, i) => `cm-${i}`),
    );
    assert.notEqual(inf.resourceVersion, '');
    await apply(cluster.kc, configMap('cm-late'));
    await eventually('the object created after the list to arrive by the watch', async () => added.includes('cm-late'), 20_000);
    assert.equal(gets.length, Math.ceil(OBJECTS / PAGE_SIZE), 'no relist');
  });
});
