// The node agent against a real API server: a pod bound to its node runs as a process with
// its environment, Secret volume and mapped port; it turns Ready by its readiness probe;
// a crashing container is restarted and counted; a deleted pod gets SIGTERM and its grace
// period, and the agent finishes the deletion. The containers are a small test server
// (fixtures/http-server.ts), started the same way as the API and worker.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../../support/cluster.ts';
import { waitFor } from '../../support/ports.ts';
import { connectKube, isNotFound, type Kube } from '../../../src/local/kube.ts';
import { LOCAL_AGENT_LABEL, LOCAL_AGENT_TAINT, startNodeAgent, type NodeAgent } from '../../../src/local/node-agent/agent.ts';
import { REPO_ROOT } from '../../../src/local/node-agent/main.ts';
import { parsePortsAnnotation } from '../../../src/local/node-agent/translate.ts';

const skip = process.env.OCR_TEST_SKIP_CLUSTER ? 'OCR_TEST_SKIP_CLUSTER is set' : false;
const NS = `agent-it-${process.pid}`;
const NODE = `agent-it-${process.pid}`;

function fixturePod(name: string, env: Record<string, string>, grace = 5): V1Pod {
  return {
    metadata: { name, namespace: NS },
    spec: {
      nodeSelector: { [LOCAL_AGENT_LABEL]: 'true', 'kubernetes.io/hostname': NODE },
      tolerations: [{ ...LOCAL_AGENT_TAINT, operator: 'Equal' }],
      terminationGracePeriodSeconds: grace,
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'web',
          image: 'ocr-platform:test',
          command: ['node', 'test/integration/local/fixtures/http-server.ts'],
          ports: [{ name: 'http', containerPort: 8080 }],
          env: [
            { name: 'PORT', value: '8080' },
            { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'fixture', key: 'token' } } },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'FILE_TO_READ', value: '/etc/fixture/keys' },
            ...Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
          ],
          volumeMounts: [{ name: 'keys', mountPath: '/etc/fixture', readOnly: true }],
          startupProbe: { httpGet: { path: '/live', port: 'http' }, periodSeconds: 1, failureThreshold: 60 },
          readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1 },
        },
      ],
      volumes: [{ name: 'keys', secret: { secretName: 'fixture', items: [{ key: 'keys', path: 'keys' }] } }],
    },
  };
}

void describe('local node agent', { skip, timeout: 180_000 }, () => {
  let cluster: Cluster | undefined;
  let kube: Kube;
  let agent: NodeAgent;
  const work = mkdtempSync(join(tmpdir(), 'agent-it-'));
  const readPod = (name: string) => kube.request<V1Pod>('GET', `/api/v1/namespaces/${NS}/pods/${name}`);

  before(async () => {
    let kubeconfig = process.env.OCR_TEST_KUBECONFIG;
    if (!kubeconfig) {
      cluster = await startCluster({ name: `it-agent-${process.pid}`, nodes: 1, log: (l) => process.stderr.write(`  ${l}\n`) });
      kubeconfig = cluster.kubeconfigPath;
    }
    kube = await connectKube(kubeconfig);
    await kube.request('POST', '/api/v1/namespaces', { body: { metadata: { name: NS } } });
    await waitFor('ServiceAccount default', async () => Boolean(await kube.request('GET', `/api/v1/namespaces/${NS}/serviceaccounts/default`)), 30_000);
    await kube.request('POST', `/api/v1/namespaces/${NS}/secrets`, {
      body: { metadata: { name: 'fixture' }, stringData: { token: 's3cret', keys: 'k1\nk2\n' } },
    });
    agent = await startNodeAgent({
      kube,
      nodeName: NODE,
      workDir: join(work, 'pods'),
      logsDir: join(work, 'logs'),
      commands: { root: REPO_ROOT },
      log: (l) => process.stderr.write(`  [agent] ${l}\n`),
    });
  });

  after(async () => {
    await agent?.stop();
    await kube?.request('DELETE', `/api/v1/namespaces/${NS}`).catch(() => undefined);
    await cluster?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  void it('runs a pod as a process with its env, Secret volume and port, Ready only once its readiness probe passes', { timeout: 60_000 }, async () => {
    await kube.request('POST', `/api/v1/namespaces/${NS}/pods`, { body: fixturePod('web', { READY_AFTER_MS: '3000' }) });
    await waitFor('the container to start', async () => (await readPod('web')).status?.containerStatuses?.[0]?.started === true, 40_000);
    assert.equal((await readPod('web')).status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False', 'not Ready while /ready answers 503');
    await waitFor('the pod to be Ready', async () => (await readPod('web')).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True', 20_000);
    const pod = await readPod('web');
    assert.equal(pod.status?.phase, 'Running');
    assert.equal(pod.status?.podIP, '127.0.0.1');
    const [mapping] = parsePortsAnnotation(pod.metadata?.annotations?.['ocrplatform.io/local-ports']);
    assert.ok(mapping && mapping.containerPort === 8080 && mapping.hostPort !== 8080);
    const seen = (await (await fetch(`http://127.0.0.1:${mapping.hostPort}/env`)).json()) as { env: Record<string, string>; file: string };
    assert.equal(seen.env.PORT, String(mapping.hostPort), 'PORT is the mapped host port');
    assert.equal(seen.env.TOKEN, 's3cret');
    assert.equal(seen.env.POD_NAME, 'web');
    assert.equal(seen.file, 'k1\nk2\n', 'the Secret volume is readable at the rewritten mount path');
    assert.notEqual(seen.env.FILE_TO_READ, '/etc/fixture/keys');
  });

  void it('restarts a crashing container and reports its restarts and last exit', { timeout: 60_000 }, async () => {
    await kube.request('POST', `/api/v1/namespaces/${NS}/pods`, { body: fixturePod('crashy', { CRASH_AFTER_MS: '500' }) });
    await waitFor('two restarts', async () => ((await readPod('crashy')).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2, 50_000);
    const status = (await readPod('crashy')).status?.containerStatuses?.[0];
    assert.equal(status?.lastState?.terminated?.exitCode, 3);
    await kube.request('DELETE', `/api/v1/namespaces/${NS}/pods/crashy`, { body: { gracePeriodSeconds: 0 } });
  });

  void it('deletes a pod gracefully: SIGTERM, the process exits within its grace period, then the pod is gone', { timeout: 60_000 }, async () => {
    const pid = agent.pods().find((p) => p.name === `${NS}/web`)?.pids[0];
    assert.ok(pid, 'the agent knows the pid of web');
    const t0 = Date.now();
    await kube.request('DELETE', `/api/v1/namespaces/${NS}/pods/web`);
    await waitFor(
      'the pod to be gone',
      async () => {
        try {
          await readPod('web');
          return false;
        } catch (error) {
          return isNotFound(error);
        }
      },
      30_000,
    );
    assert.ok(Date.now() - t0 < 10_000, 'gone well before the grace period (the process exits on SIGTERM)');
    assert.equal(existsSync(`/proc/${pid}`), false, 'the process is gone');
    const log = readFileSync(join(work, 'logs', `${NS}_web_web.log`), 'utf8');
    assert.match(log, /SIGTERM received/);
  });
});
