// The end-to-end suite (issue 7): what a user does, in named stages, each polling the
// cluster's state with an explicit timeout and printing progress:
//
//   helm install -> operator ready and leading -> apply a pipeline (Secrets by reference)
//   -> children and status -> an OCR job through the API returns the receipt's text
//   -> a backlog scales the workers -> delete the pipeline -> everything is collected
//   -> helm uninstall leaves nothing of the release behind (the CRD stays, as Helm does)
//
// It runs against any kubeconfig: OCR_TEST_KUBECONFIG when set (hack/test.sh, e2e:kind),
// else a local control plane of its own with Prometheus + prometheus-adapter. Where the
// operator and the pipeline's pods run is E2E_OPERATOR's choice (see harness.ts):
// `process` on the local control plane, `incluster` on kind. docs/e2e.md has the rest.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { findHelm, findTool, HELM_MISSING } from '../chart/helm.ts';
import { scalingCluster, type ScalingCluster } from '../integration/scaling/harness.ts';
import { connectKube } from '../../src/local/kube.ts';
import { startNodeAgent, type NodeAgent } from '../../src/local/node-agent/agent.ts';
import { startServiceProxy, type ServiceProxy } from '../../src/local/service-proxy.ts';
import { normaliseText, readSampleReceipt, readSampleText, receiptVariant, SAMPLE_RECEIPT } from '../../src/local/receipts.ts';
import { startInClusterBackends, startLocalBackends, type Backends } from './backends.ts';
import {
  CHART_DIR,
  CRD_NAME,
  MAX_WORKERS,
  ROOT,
  SECRETS,
  cli,
  holderHost,
  listableKinds,
  objectsWith,
  pipelineManifest,
  poll,
  progress,
  secretManifest,
  settingsFrom,
  thisHost,
  type Cli,
  type E2eSettings,
  type Json,
} from './harness.ts';
import { startOperatorAsChart, type OperatorProcess } from './operator.ts';

const skip = process.env.OCR_TEST_SKIP_CLUSTER
  ? 'OCR_TEST_SKIP_CLUSTER is set'
  : !findHelm()
    ? HELM_MISSING
    : !findTool('kubectl')
      ? 'kubectl not found: run `npm run tools` (hack/tools.sh) or put kubectl on PATH'
      : false;

/** Quick queue polling: the stand-in answers at once, and the backlog stage waits on it. */
const QUEUE_POLL = '--queue-poll=idleMs=2000,busyMs=1000,backoffBaseMs=500,backoffMaxMs=5000,statusRefreshMs=2000';
/**
 * The backlog stage sends receipts from several submitters at once until the worker HPA
 * wants more workers, at most MAX_BACKLOG. The backlog must outgrow what one worker drains
 * for longer than the metric path needs (queue poll 1-2 s + scrape 5 s + relist 5 s + HPA
 * sync 5 s), on a quiet machine too, where one worker reads the small receipt in ~0.3 s: a
 * fixed small batch, or a steady 3 a second, is drained before the HPA can see it.
 */
const MAX_BACKLOG = 150;
const SUBMITTERS = 6;

void describe('e2e: helm install, a pipeline, OCR through the API, autoscaling, deletion, uninstall', { skip, timeout: 900_000 }, () => {
  const s: E2eSettings = settingsFrom(process.env);
  const local = s.mode === 'process';
  let cluster: ScalingCluster | undefined;
  let k: Cli;
  let workDir = '';
  let backends: Backends | undefined;
  let operator: OperatorProcess | undefined;
  let agent: NodeAgent | undefined;
  let proxy: ServiceProxy | undefined;
  let scrapeTimer: NodeJS.Timeout | undefined;
  let apiUrl = '';
  const apiKey = `e2e-${process.pid}-${Date.now().toString(36)}`;
  let prometheusUrl = '';
  let failedStage: string | undefined;

  const deploymentName = `${s.release}-ocr-platform`;

  /** What a failure message carries: the operator's log (process mode) or the pipeline's state. */
  async function context(): Promise<string> {
    const parts: string[] = [];
    if (operator) parts.push(`operator log (last lines):\n${operator.tail(20)}`);
    const pipeline = await k.json(['get', 'ocrpipeline', s.pipeline, '-n', s.namespace]).catch(() => undefined);
    if (pipeline) parts.push(`pipeline status: ${JSON.stringify(pipeline.status)}`);
    return parts.join('\n');
  }

  /**
   * A named stage: skipped once an earlier one failed (its state is what later stages
   * build on), timed, and on failure reported with the context above.
   */
  function stage(name: string, timeoutMs: number, body: () => Promise<void>): void {
    void it(name, { timeout: timeoutMs }, async (t) => {
      if (failedStage) {
        t.skip(`skipped: the stage "${failedStage}" failed`);
        return;
      }
      const t0 = Date.now();
      progress(`stage: ${name}`);
      try {
        await body();
      } catch (error) {
        failedStage = name;
        throw new Error(`${(error as Error).message}\n${await context()}`, { cause: error });
      }
      progress(`stage done in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${name}`);
    });
  }

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'ocr-e2e-'));
    if (local) {
      // the shared cluster of hack/test.sh when it has metrics, else one of our own
      cluster = await scalingCluster('e2e', (line) => progress(line));
      k = cli(cluster.kubeconfigPath);
      prometheusUrl = cluster.prometheusUrl;
    } else {
      const kubeconfig = process.env.OCR_TEST_KUBECONFIG;
      if (!kubeconfig)
        throw new Error(
          'E2E_OPERATOR=incluster needs OCR_TEST_KUBECONFIG: the kubeconfig of a cluster whose nodes can run the image (scripts/e2e-kind.sh sets it)',
        );
      k = cli(kubeconfig);
      prometheusUrl = s.prometheusUrl;
    }
    progress(`mode ${s.mode}; kubeconfig ${k.kubeconfig}; release ${s.releaseNamespace}/${s.release}; pipeline ${s.namespace}/${s.pipeline}`);
    // the pipeline's namespace first: with watchNamespaces the chart grants Roles in it
    for (const ns of [s.releaseNamespace, s.namespace]) await k.kubectl(['create', 'namespace', ns]);
  });

  after(async () => {
    if (scrapeTimer) clearInterval(scrapeTimer);
    await proxy?.stop().catch(() => undefined);
    await agent?.stop().catch(() => undefined);
    await operator?.stop();
    if (k) {
      await k.kubectl(['delete', 'ocrpipeline', s.pipeline, '-n', s.namespace, '--ignore-not-found', '--wait=false']).catch(() => undefined);
      await k.helm(['uninstall', s.release, '--namespace', s.releaseNamespace, '--ignore-not-found']).catch(() => undefined);
      await k.kubectl(['delete', 'namespace', s.namespace, s.releaseNamespace, '--ignore-not-found', '--wait=false']).catch(() => undefined);
    }
    await backends?.stop();
    await cluster?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  stage('stage 1: helm install puts the chart into the cluster', 240_000, async () => {
    const args = [
      'install',
      s.release,
      CHART_DIR,
      '--namespace',
      s.releaseNamespace,
      '--set',
      `image.repository=${s.image.repository}`,
      '--set',
      `image.tag=${s.image.tag}`,
      '--set',
      `image.pullPolicy=${s.image.pullPolicy}`,
      '--set-json',
      `watchNamespaces=${JSON.stringify([s.namespace])}`,
      '--set-json',
      `extraArgs=${JSON.stringify([QUEUE_POLL])}`,
      // the stand-in's connection strings say UseDevelopmentEmulator=true
      '--set',
      'serviceBus.allowDevelopmentEmulator=true',
    ];
    if (prometheusUrl) args.push('--set', `prometheusUrl=${prometheusUrl}`);
    const result = await k.helm(args);
    assert.equal(result.code, 0, `helm install failed: ${result.stderr}`);
    const status = await k.helm(['status', s.release, '--namespace', s.releaseNamespace, '-o', 'json']);
    assert.equal(JSON.parse(status.stdout).info.status, 'deployed');
    const crd = await k.json(['get', 'crd', CRD_NAME]);
    assert.ok(
      crd.status.conditions.some((c: Json) => c.type === 'Established' && c.status === 'True'),
      'the CRD is established',
    );
  });

  stage('stage 2: the operator is ready and holds the leader Lease', 180_000, async () => {
    const deployment = await k.json(['get', 'deployment', deploymentName, '-n', s.releaseNamespace]);
    const replicas: number = deployment.spec.replicas;
    const podsDetail = () => k.kubectl(['get', 'pods', '-n', s.releaseNamespace, '-o', 'wide']);
    if (local) {
      // kwok plays the kubelet for the chart's pods (nothing runs them); they must be bound
      // before the node agent registers its node, or the scheduler could pick that node.
      await poll(
        `the ${replicas} operator pods to be scheduled`,
        async () => {
          const pods = await k.json(['get', 'pods', '-n', s.releaseNamespace, '-l', 'app.kubernetes.io/component=operator']);
          return pods.items.length === replicas && pods.items.every((p: Json) => p.spec.nodeName);
        },
        60_000,
        { detail: podsDetail },
      );
      operator = await startOperatorAsChart({ k, namespace: s.releaseNamespace, deployment: deploymentName, workDir });
      const op = operator;
      await poll(
        'the operator process to answer /readyz',
        async () => {
          assert.ok(!op.exited, 'the operator process exited');
          return (await fetch(`http://127.0.0.1:${op.metricsPort}/readyz`, { signal: AbortSignal.timeout(3_000) }).catch(() => undefined))?.ok ?? false;
        },
        60_000,
        { intervalMs: 500 },
      );
      await poll(
        'the operator process to hold the Lease',
        async () => {
          const lease = await k.json(['get', 'lease', 'ocr-platform-operator', '-n', s.releaseNamespace]);
          return holderHost(lease.spec?.holderIdentity) === thisHost();
        },
        60_000,
        { intervalMs: 500 },
      );
      const metrics = await (await fetch(`http://127.0.0.1:${op.metricsPort}/metrics`)).text();
      assert.match(metrics, /^ocr_operator_leader 1$/m, 'the operator reports itself as the leader');
      cluster?.addScrapeTargets([`127.0.0.1:${op.metricsPort}`]);
    } else {
      await poll(
        `Deployment ${deploymentName} to have ${replicas} available replicas`,
        async () => {
          const d = await k.json(['get', 'deployment', deploymentName, '-n', s.releaseNamespace]);
          return d.status?.availableReplicas === replicas && d.status?.updatedReplicas === replicas;
        },
        150_000,
        { intervalMs: 2_000, detail: podsDetail },
      );
      const pods = await k.json(['get', 'pods', '-n', s.releaseNamespace, '-l', 'app.kubernetes.io/component=operator']);
      const names = new Set(pods.items.map((p: Json) => p.metadata.name as string));
      await poll(
        'one operator pod to hold the Lease',
        async () => {
          const lease = await k.json(['get', 'lease', 'ocr-platform-operator', '-n', s.releaseNamespace]);
          return names.has(holderHost(lease.spec?.holderIdentity) ?? '');
        },
        60_000,
        { intervalMs: 1_000 },
      );
    }
  });

  stage('stage 3: a pipeline is applied, its Secrets referenced by name', 180_000, async () => {
    backends = local ? await startLocalBackends() : await startInClusterBackends(k, s);
    const secrets = [
      secretManifest(s.namespace, SECRETS.serviceBus, { connectionString: backends.serviceBusConnectionString }),
      secretManifest(s.namespace, SECRETS.storage, { connectionString: backends.storageConnectionString }),
      secretManifest(s.namespace, SECRETS.apiKeys, { keys: `e2e:${apiKey}\n` }),
      secretManifest(s.namespace, SECRETS.webhook, { signingKey: apiKey.split('').reverse().join('') }),
    ];
    let nodeSelector: Record<string, string> | undefined;
    if (local) {
      // the node agent runs the pods bound to its node as host processes of this checkout
      const kube = await connectKube(k.kubeconfig);
      const nodeName = `e2e-agent-${process.pid}`;
      agent = await startNodeAgent({
        kube,
        nodeName,
        workDir: join(workDir, 'pods'),
        logsDir: join(workDir, 'logs'),
        commands: { root: ROOT },
        log: (line) => progress(`[node-agent] ${line}`),
      });
      proxy = await startServiceProxy({ kube, namespace: s.namespace, basePort: 38080, log: (line) => progress(`[service-proxy] ${line}`) });
      nodeSelector = { 'kubernetes.io/hostname': nodeName };
      // Prometheus scrapes the operator (backlog) and every worker the agent runs (in flight)
      const a = agent;
      const op = operator!;
      scrapeTimer = setInterval(() => {
        const workers = a
          .pods()
          .filter((p) => p.name.includes(`/${s.pipeline}-worker-`))
          .flatMap((p) => p.ports.map((port) => `127.0.0.1:${port.hostPort}`));
        cluster?.addScrapeTargets([`127.0.0.1:${op.metricsPort}`, ...workers]);
      }, 2_000);
    }
    const pipeline = pipelineManifest(s, nodeSelector);
    await k.kubectl(['apply', '--server-side', '--field-manager=ocr-e2e', '-f', '-'], [...secrets, pipeline].map((m) => stringify(m)).join('---\n'));
    const got = await k.json(['get', 'ocrpipeline', s.pipeline, '-n', s.namespace]);
    assert.deepEqual(got.spec.queue.serviceBus.connectionStringSecretRef, { name: SECRETS.serviceBus, key: 'connectionString' });
    assert.ok(!JSON.stringify(got.spec).includes(backends.serviceBusConnectionString), 'no connection string in the pipeline itself');
  });

  stage('stage 4: the operator creates the children, owned by the pipeline, and reports status', 300_000, async () => {
    const pipeline = await k.json(['get', 'ocrpipeline', s.pipeline, '-n', s.namespace]);
    const uid: string = pipeline.metadata.uid;
    const expected = [
      `deployment.apps/${s.pipeline}-api`,
      `deployment.apps/${s.pipeline}-worker`,
      `service/${s.pipeline}-api`,
      `horizontalpodautoscaler.autoscaling/${s.pipeline}-worker`,
    ];
    let children: Json[] = [];
    await poll(
      'the API and worker Deployments, the API Service and the worker HPA',
      async () => {
        children = (
          await k.json([
            'get',
            'deployments,services,horizontalpodautoscalers,poddisruptionbudgets',
            '-n',
            s.namespace,
            '-l',
            `ocrplatform.io/pipeline=${s.pipeline}`,
          ])
        ).items;
        const names = children.map(
          (c) =>
            `${c.kind === 'Deployment' ? 'deployment.apps' : c.kind === 'HorizontalPodAutoscaler' ? 'horizontalpodautoscaler.autoscaling' : c.kind.toLowerCase()}/${c.metadata.name}`,
        );
        return expected.every((e) => names.includes(e));
      },
      90_000,
    );
    progress(`children: ${children.map((c) => `${c.kind}/${c.metadata.name}`).join(', ')}`);
    for (const child of children) {
      const owner = child.metadata.ownerReferences?.find((r: Json) => r.controller);
      assert.equal(owner?.uid, uid, `${child.kind}/${child.metadata.name} is owned by the pipeline`);
    }
    const worker = children.find((c) => c.kind === 'Deployment' && c.metadata.name === `${s.pipeline}-worker`);
    assert.equal(worker.spec.template.spec.containers[0].image, `${s.image.repository}:${s.image.tag}`);
    const condition = (p: Json, type: string) => p?.status?.conditions?.find((c: Json) => c.type === type);
    let current: Json;
    await poll(
      'status: observedGeneration current and QueueReachable=True',
      async () => {
        current = await k.json(['get', 'ocrpipeline', s.pipeline, '-n', s.namespace]);
        return current.status?.observedGeneration === current.metadata.generation && condition(current, 'QueueReachable')?.status === 'True';
      },
      60_000,
    );
    await poll(
      'the pipeline to be Ready (its API and worker pods run and pass their probes)',
      async () => {
        current = await k.json(['get', 'ocrpipeline', s.pipeline, '-n', s.namespace]);
        return condition(current, 'Ready')?.status === 'True';
      },
      240_000,
      { intervalMs: 2_000, detail: async () => `pods:\n${await k.kubectl(['get', 'pods', '-n', s.namespace, '-o', 'wide'])}` },
    );
    progress(`conditions: ${current.status.conditions.map((c: Json) => `${c.type}=${c.status}`).join(' ')}`);
  });

  stage("stage 5: an OCR job through the API returns the receipt's text", 180_000, async () => {
    if (local) {
      apiUrl = await proxy!.urlFor(s.namespace, `${s.pipeline}-api`, 60_000);
    } else {
      // kind-config.yaml maps node port 30080 to 127.0.0.1:8080 on the host
      const api = await k.json(['get', 'service', `${s.pipeline}-api`, '-n', s.namespace]);
      await k.kubectl(
        ['apply', '--server-side', '--field-manager=ocr-e2e', '-f', '-'],
        stringify({
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: `${s.pipeline}-api-e2e`, namespace: s.namespace },
          spec: {
            type: 'NodePort',
            selector: api.spec.selector,
            ports: [{ name: 'http', port: 80, targetPort: api.spec.ports[0].targetPort, nodePort: s.apiNodePort, protocol: 'TCP' }],
          },
        }),
      );
      apiUrl = s.apiUrl;
    }
    await poll(
      `${apiUrl}/ready`,
      async () => (await fetch(`${apiUrl}/ready`, { signal: AbortSignal.timeout(3_000) }).catch(() => undefined))?.ok ?? false,
      90_000,
    );
    const form = new FormData();
    form.set('file', new Blob([new Uint8Array(await readSampleReceipt())], { type: 'image/png' }), SAMPLE_RECEIPT);
    const t0 = Date.now();
    const res = await fetch(`${apiUrl}/v1/ocr`, { method: 'POST', headers: { 'x-api-key': apiKey }, body: form, signal: AbortSignal.timeout(120_000) });
    const body = (await res.json()) as Json;
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.status, 'succeeded');
    assert.equal(normaliseText(body.result?.text ?? ''), normaliseText(await readSampleText()));
    progress(`POST /v1/ocr answered the receipt's text in ${Date.now() - t0} ms`);
    const refused = await fetch(`${apiUrl}/v1/ocr`, { method: 'POST', headers: { 'x-api-key': 'not-a-key' }, body: form });
    assert.equal(refused.status, 401, 'a wrong API key is refused');
  });

  stage('stage 6: a backlog of receipts scales the workers (the worker HPA wants more than one)', 300_000, async (): Promise<void> => {
    assert.ok(prometheusUrl || !local, 'the cluster has no Prometheus + prometheus-adapter: start it with metrics (hack/test.sh and this suite do)');
    const hpa = () => k.json(['get', 'hpa', `${s.pipeline}-worker`, '-n', s.namespace]);
    // A new series is invisible to prometheus-adapter until its next relist: wait until the
    // HPA has read its External metric once, so the backlog below is not over before the
    // HPA can see it (the HPA's own condition says so: ScalingActive=True, ValidMetricFound).
    await poll(
      'the worker HPA to read its External metric (ScalingActive=True)',
      async () => {
        const active = (await hpa()).status?.conditions?.find((c: Json) => c.type === 'ScalingActive');
        return active?.status === 'True';
      },
      120_000,
      { intervalMs: 2_000, detail: async () => `HPA status: ${JSON.stringify((await hpa()).status)}` },
    );
    const sample = await readSampleReceipt();
    const salt = Date.now() % 1_000_000_000; // unique images: no answer from the API's result cache
    const ids: string[] = [];
    let scaled = false;
    let submitError: unknown;
    let next = 0;
    const submitOne = async (i: number): Promise<void> => {
      const form = new FormData();
      form.set('file', new Blob([new Uint8Array(await receiptVariant(sample, salt + i))], { type: 'image/png' }), `receipt-${i}.png`);
      // Six submitters share one key, more than the API's concurrent uploads per key (4):
      // like a real client, wait out a 429/503 for its Retry-After and send again.
      let res: Response;
      let body: Json;
      for (let attempt = 1; ; attempt++) {
        res = await fetch(`${apiUrl}/v1/jobs`, { method: 'POST', headers: { 'x-api-key': apiKey }, body: form, signal: AbortSignal.timeout(30_000) });
        body = (await res.json()) as Json;
        if ((res.status !== 429 && res.status !== 503) || attempt >= 20) break;
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? '1') * 1000));
      }
      assert.equal(res.status, 201, JSON.stringify(body));
      ids.push(body.job.id);
    };
    const submitter = async (): Promise<void> => {
      while (!scaled && next < MAX_BACKLOG) await submitOne(next++);
    };
    const submitting = Promise.all(Array.from({ length: SUBMITTERS }, submitter))
      .then(() => undefined)
      .catch((error: unknown) => {
        submitError = error;
      });
    let desired = 0;
    try {
      await poll(
        'the worker HPA to want more than one worker',
        async () => {
          if (submitError) return true; // stop waiting: the assertion below reports it (waitFor retries a throwing check)
          const h = await hpa();
          desired = h.status?.desiredReplicas ?? 0;
          const p = await k.json(['get', 'ocrpipeline', s.pipeline, '-n', s.namespace]);
          progress(
            `  sent ${ids.length}; HPA desired ${desired}, current ${h.status?.currentReplicas ?? '?'}; status.scaling ${JSON.stringify(p.status?.scaling ?? {})}`,
          );
          return desired > 1;
        },
        120_000,
        { intervalMs: 2_000, detail: async () => `HPA status: ${JSON.stringify((await hpa()).status)}` },
      );
    } finally {
      scaled = true;
      await submitting;
    }
    assert.equal(submitError, undefined, `POST /v1/jobs failed: ${String(submitError)}`);
    progress(`the HPA wants ${desired} workers after ${ids.length} receipts were sent`);
    assert.ok(desired <= MAX_WORKERS, `the HPA stays within worker.replicas.max (${desired} <= ${MAX_WORKERS})`);
    const deployment = await k.json(['get', 'deployment', `${s.pipeline}-worker`, '-n', s.namespace]);
    assert.ok(deployment.spec.replicas > 1, `the worker Deployment was scaled (spec.replicas ${deployment.spec.replicas})`);

    const pending = new Set(ids);
    const failed: string[] = [];
    await poll(
      `all ${ids.length} jobs to finish`,
      async () => {
        for (const id of [...pending]) {
          const res = await fetch(`${apiUrl}/v1/jobs/${id}`, { headers: { 'x-api-key': apiKey }, signal: AbortSignal.timeout(10_000) });
          const job = (await res.json()) as Json;
          if (job.status === 'succeeded' || job.status === 'failed') pending.delete(id);
          if (job.status === 'failed') failed.push(`${id}: ${JSON.stringify(job.error)}`);
        }
        return pending.size === 0;
      },
      240_000,
      { intervalMs: 2_000, detail: () => `${pending.size} jobs still pending` },
    );
    assert.deepEqual(failed, [], 'every job of the backlog succeeds');
  });

  stage('stage 7: deleting the pipeline collects every child', 180_000, async () => {
    await k.kubectl(['delete', 'ocrpipeline', s.pipeline, '-n', s.namespace, '--wait=false']);
    const kinds = await listableKinds(k);
    let left: string[] = [];
    await poll(
      'no object labelled with the pipeline left in its namespace',
      async () => {
        left = await objectsWith(k, kinds, `ocrplatform.io/pipeline=${s.pipeline}`, { namespaces: [s.namespace], clusterScoped: false });
        const gone = (await k.kubectl(['get', 'ocrpipeline', s.pipeline, '-n', s.namespace, '--ignore-not-found', '-o', 'name'])).trim() === '';
        return gone && left.length === 0;
      },
      150_000,
      { intervalMs: 2_000, detail: () => `left: ${left.join(', ')}` },
    );
    if (agent) {
      const a = agent;
      await poll('the node agent to run no pod any more', () => a.pods().length === 0, 60_000);
    }
  });

  stage('stage 8: helm uninstall leaves nothing of the release behind (the CRD stays, as Helm does for crds/)', 180_000, async () => {
    // Process mode: the operator process stands for the chart's pods, which the uninstall
    // deletes; it stops first, like a pod given SIGTERM.
    await operator?.stop();
    const result = await k.helm(['uninstall', s.release, '--namespace', s.releaseNamespace, '--wait', '--timeout', '2m']);
    assert.equal(result.code, 0, `helm uninstall failed: ${result.stderr}`);
    const kinds = await listableKinds(k);
    let left: string[] = [];
    await poll(
      "no object with the release's labels in any namespace or cluster-wide",
      async () => {
        left = await objectsWith(k, kinds, `app.kubernetes.io/instance=${s.release}`, { namespaces: 'all', clusterScoped: true });
        return left.length === 0;
      },
      120_000,
      { intervalMs: 2_000, detail: () => `left: ${left.join(', ')}` },
    );
    const status = await k.helm(['status', s.release, '--namespace', s.releaseNamespace]);
    assert.notEqual(status.code, 0, 'helm no longer knows the release');
    const secrets = await k.kubectl(['get', 'secrets', '-n', s.releaseNamespace, '-l', `owner=helm,name=${s.release}`, '-o', 'name']);
    assert.equal(secrets.trim(), '', 'no Helm release record is left');
    await k.json(['get', 'crd', CRD_NAME]); // throws when the CRD went with the release
  });
});
