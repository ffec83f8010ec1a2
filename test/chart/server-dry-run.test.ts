// The chart against a real API server: the CRD and the rendered manifests pass a
// server-side dry run, so the API server's own validation and admission accept every
// object (for the CRD: structural schema, defaults, CEL rules); then a real `helm install` creates the operator's objects and `helm uninstall`
// removes them all. Needs a cluster: hack/test.sh (`npm test`) starts the local control
// plane and sets OCR_TEST_KUBECONFIG.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHART_DIR, HELM_MISSING, findHelm, findTool, parseManifests, runHelm, runTool, templateArgs, type Manifest, type RenderOptions } from './helm.ts';

const kubeconfig = process.env.OCR_TEST_KUBECONFIG;
const skip = !kubeconfig
  ? 'OCR_TEST_KUBECONFIG is not set: run `npm test` (it starts the local control plane) or point OCR_TEST_KUBECONFIG at a cluster'
  : !findHelm()
    ? HELM_MISSING
    : !findTool('kubectl')
      ? 'kubectl not found: run `npm run tools`'
      : false;

/** A namespace of this run only, so parallel runs and leftovers never collide. */
const namespace = `chart-test-${process.pid}`;
const CRD_DIR = join(CHART_DIR, 'crds');
const release = `ocr-chart-${process.pid}`;

async function kubectl(args: string[], input?: string): Promise<string> {
  const result = await runTool('kubectl', ['--kubeconfig', kubeconfig!, ...args], { input, timeoutMs: 90_000 });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

async function helm(args: string[]): Promise<string> {
  const result = await runHelm([...args, '--kubeconfig', kubeconfig!], { timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`helm ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** Renders the release of this test (templates only; the CRD has its own test). */
async function renderForCluster(options: RenderOptions): Promise<string> {
  const result = await runHelm(templateArgs({ ...options, release, namespace }));
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr.trim()}`);
  return result.stdout;
}

/** Server-side dry run of every rendered object; returns what the API server accepted. */
async function dryRun(manifests: string): Promise<string[]> {
  const out = await kubectl(['apply', '--server-side', '--dry-run=server', '--field-manager=chart-test', '-o', 'name', '-f', '-'], manifests);
  return out.trim().split('\n').sort();
}

const names = (manifests: Manifest[]): string[] => manifests.map((m) => `${m.kind}/${m.metadata.name}`);

void describe('the chart on a real API server', { skip, timeout: 300_000 }, () => {
  before(async () => {
    await kubectl(['create', 'namespace', namespace]);
  });
  after(async () => {
    // Best effort: the release (if a test failed midway), then the namespace; neither waits.
    if (!skip) {
      await runHelm(['uninstall', release, '--namespace', namespace, '--kubeconfig', kubeconfig!, '--ignore-not-found']);
      await runTool('kubectl', ['--kubeconfig', kubeconfig!, 'delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
    }
  });

  void it("accepts the chart's CRD (crds/) in a server-side dry run, defaults and CEL rules included", async () => {
    const crds = (await readdir(CRD_DIR)).filter((f) => f.endsWith('.yaml'));
    assert.ok(crds.length > 0, `no CRD in ${CRD_DIR}: run \`npm run generate\``);
    const text = (await Promise.all(crds.map((f) => readFile(join(CRD_DIR, f), 'utf8')))).join('\n---\n');
    const accepted = await dryRun(text);
    assert.ok(accepted.includes('customresourcedefinition.apiextensions.k8s.io/ocrpipelines.ocrplatform.io'), `accepted: ${accepted.join(', ')}`);
  });

  void it('accepts every object of the default values in a server-side dry run', async () => {
    const rendered = await renderForCluster({});
    const accepted = await dryRun(rendered);
    assert.equal(accepted.length, parseManifests(rendered).length, `accepted: ${accepted.join(', ')}`);
  });

  void it('accepts every optional object (namespaced RBAC, NetworkPolicy, dashboard, KEDA rules) in a server-side dry run', async () => {
    const rendered = await renderForCluster({
      set: {
        watchNamespaces: [namespace],
        'networkPolicy.enabled': true,
        'networkPolicy.metricsFrom': [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
        'dashboard.enabled': true,
        'keda.enabled': true,
        prometheusUrl: 'http://prometheus.monitoring.svc:9090',
        replicaCount: 3,
        'podDisruptionBudget.minAvailable': '50%',
      },
    });
    const manifests = parseManifests(rendered);
    assert.ok(names(manifests).some((n) => n.startsWith('NetworkPolicy/')) && names(manifests).some((n) => n.startsWith('Role/')));
    const accepted = await dryRun(rendered);
    assert.equal(accepted.length, manifests.length, `accepted: ${accepted.join(', ')}`);
  });

  void it('installs with helm and uninstalls without leaving an object behind', async () => {
    await helm(['install', release, CHART_DIR, '--namespace', namespace, '--skip-crds', '--set', 'replicaCount=2']);
    const selector = `app.kubernetes.io/instance=${release}`;
    const installed = await kubectl([
      'get',
      'deployment,service,serviceaccount,poddisruptionbudget,role,rolebinding,configmap',
      '-n',
      namespace,
      '-l',
      selector,
      '-o',
      'name',
    ]);
    const cluster = await kubectl(['get', 'clusterrole,clusterrolebinding', '-l', selector, '-o', 'name']);
    for (const kind of ['deployment.apps/', 'service/', 'serviceaccount/', 'poddisruptionbudget.policy/', 'role.rbac.authorization.k8s.io/', 'configmap/']) {
      assert.ok(installed.includes(kind), `no ${kind} after install:\n${installed}`);
    }
    assert.ok(cluster.includes('clusterrole.rbac.authorization.k8s.io/'), `no ClusterRole after install:\n${cluster}`);

    await helm(['uninstall', release, '--namespace', namespace, '--wait', '--timeout', '60s']);
    const left = (
      await kubectl(['get', 'deployment,service,serviceaccount,poddisruptionbudget,role,rolebinding,configmap', '-n', namespace, '-l', selector, '-o', 'name'])
    ).trim();
    const leftCluster = (await kubectl(['get', 'clusterrole,clusterrolebinding', '-l', selector, '-o', 'name'])).trim();
    assert.equal(left, '', 'namespaced objects left behind');
    assert.equal(leftCluster, '', 'cluster-scoped objects left behind');
  });
});
