// Smoke tests of the local control plane itself: the controllers the operator
// relies on (scheduler, deployment/replicaset, namespace, garbage collector) and
// kwok's fake kubelets really work. Each test asserts the state of the cluster.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { loadKubeConfig, startCluster, type Cluster } from '../../support/cluster.ts';
import { waitFor } from '../../support/ports.ts';

const notFound = (error: unknown): boolean => (error as { code?: number }).code === 404;

function deployment(namespace: string, name: string, replicas: number): V1Deployment {
  const labels = { app: name };
  return {
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'main', image: 'example.invalid/worker:1', resources: { requests: { cpu: '500m', memory: '512Mi' } } }] },
      },
    },
  };
}

const isReady = (pod: V1Pod): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

// OCR_TEST_KUBECONFIG: run against a cluster the test command already started (hack/test.sh)
const sharedKubeconfig = process.env.OCR_TEST_KUBECONFIG;
const skip = process.env.OCR_TEST_SKIP_CLUSTER ? 'OCR_TEST_SKIP_CLUSTER is set' : false;

void describe('the local control plane', { timeout: 240_000, skip }, () => {
  let cluster: Cluster | undefined;
  let core: CoreV1Api;
  let apps: AppsV1Api;

  before(async () => {
    if (!sharedKubeconfig) cluster = await startCluster({ name: 'it-control-plane', ifRunning: 'restart', log: (line) => console.error(`  ${line}`) });
    const kc = loadKubeConfig(cluster?.kubeconfigPath ?? sharedKubeconfig!);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
  });

  after(async () => {
    await cluster?.stop();
  });

  void it('has two Ready fake nodes sized like real machines', async () => {
    const nodes = (await core.listNode({ labelSelector: 'type=kwok' })).items;
    assert.equal(nodes.length, 2);
    for (const node of nodes) {
      assert.equal(node.status?.capacity?.cpu, '8');
      assert.equal(node.status?.capacity?.memory, '32Gi');
      assert.equal(node.status?.capacity?.pods, '110');
      assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    }
  });

  void it('runs a Deployment: pods are scheduled onto fake nodes and become Running and Ready', async () => {
    const namespace = 'smoke-deploy';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await waitFor('ServiceAccount smoke-deploy/default', async () => Boolean(await core.readNamespacedServiceAccount({ name: 'default', namespace })), 30_000);
    await apps.createNamespacedDeployment({ namespace, body: deployment(namespace, 'web', 3) });

    await waitFor(
      'Deployment web to report 3 ready replicas',
      async () => {
        const current = await apps.readNamespacedDeployment({ name: 'web', namespace });
        return current.status?.readyReplicas === 3;
      },
      60_000,
      500,
    );

    const pods = (await core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items;
    assert.equal(pods.length, 3);
    for (const pod of pods) {
      assert.equal(pod.status?.phase, 'Running');
      assert.ok(isReady(pod), `pod ${pod.metadata?.name} is Ready`);
      assert.match(pod.spec?.nodeName ?? '', /^kwok-node-\d$/);
      assert.ok(pod.status?.podIP, 'kwok hands out a pod IP');
    }
  });

  void it('scales a Deployment down and lets the deleted pods go away', async () => {
    const namespace = 'smoke-deploy';
    await apps.replaceNamespacedDeploymentScale({ name: 'web', namespace, body: { metadata: { name: 'web', namespace }, spec: { replicas: 1 } } });
    await waitFor(
      'Deployment web to keep exactly 1 pod',
      async () => {
        const pods = (await core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items;
        return pods.length === 1 && isReady(pods[0]!);
      },
      60_000,
      500,
    );
  });

  void it('completes a namespace deletion, content included', async () => {
    const namespace = 'smoke-ns-delete';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await waitFor(
      'ServiceAccount smoke-ns-delete/default',
      async () => Boolean(await core.readNamespacedServiceAccount({ name: 'default', namespace })),
      30_000,
    );
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'settings' }, data: { a: '1' } } });
    await apps.createNamespacedDeployment({ namespace, body: deployment(namespace, 'api', 2) });
    await waitFor(
      'Deployment api ready',
      async () => (await apps.readNamespacedDeployment({ name: 'api', namespace })).status?.readyReplicas === 2,
      60_000,
      500,
    );

    await core.deleteNamespace({ name: namespace });
    await waitFor(
      `namespace ${namespace} to be gone`,
      async () => {
        try {
          await core.readNamespace({ name: namespace });
          return false;
        } catch (error) {
          if (notFound(error)) return true;
          throw error;
        }
      },
      90_000,
      500,
    );
  });

  void it('garbage-collects an object whose owner was deleted', async () => {
    const namespace = 'default';
    const owner = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'gc-owner' } } });
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name: 'gc-dependent',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'gc-owner', uid: owner.metadata!.uid! }],
        },
        stringData: { token: 'not-a-secret' },
      },
    });
    // the dependent survives while its owner exists
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal((await core.readNamespacedSecret({ name: 'gc-dependent', namespace })).metadata?.name, 'gc-dependent');

    await core.deleteNamespacedConfigMap({ name: 'gc-owner', namespace });
    await waitFor(
      'the garbage collector to delete gc-dependent',
      async () => {
        try {
          await core.readNamespacedSecret({ name: 'gc-dependent', namespace });
          return false;
        } catch (error) {
          if (notFound(error)) return true;
          throw error;
        }
      },
      60_000,
      500,
    );
  });
});
