// Least privilege that is still enough: the operator runs against a real API server as
// the chart's ServiceAccount (a token from the TokenRequest API, nothing more), with the
// exact flags the chart renders, watching one namespace through namespaced Roles. It must
// take the Lease, report ready, turn a pipeline into its children and write its status,
// without a single "forbidden" in its log. Needs OCR_TEST_KUBECONFIG (see server-dry-run).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { waitFor } from '../support/ports.ts';
import { CHART_DIR, HELM_MISSING, findHelm, findTool, runHelm, runTool } from './helm.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const kubeconfig = process.env.OCR_TEST_KUBECONFIG;
const skip = !kubeconfig
  ? 'OCR_TEST_KUBECONFIG is not set: run `npm test` (it starts the local control plane) or point OCR_TEST_KUBECONFIG at a cluster'
  : !findHelm()
    ? HELM_MISSING
    : !findTool('kubectl')
      ? 'kubectl not found: run `npm run tools`'
      : false;

const namespace = `chart-rbac-${process.pid}`;
const release = `ocr-rbac-${process.pid}`;
const workDir = join(root, '.tmp', `chart-rbac-${process.pid}`);
const PIPELINE = 'receipts';

async function kubectl(args: string[], input?: string): Promise<string> {
  const result = await runTool('kubectl', ['--kubeconfig', kubeconfig!, ...args], { input, timeoutMs: 90_000 });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** A kubeconfig for the same API server that authenticates with a ServiceAccount token only. */
async function serviceAccountKubeconfig(serviceAccount: string): Promise<string> {
  const admin = parse(await readFile(kubeconfig!, 'utf8'));
  const cluster = admin.clusters[0].cluster;
  const token = (await kubectl(['create', 'token', serviceAccount, '-n', namespace, '--duration', '10m'])).trim();
  const file = join(workDir, 'operator.kubeconfig');
  await writeFile(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'operator',
      clusters: [{ name: 'local', cluster }],
      users: [{ name: 'operator', user: { token } }],
      contexts: [{ name: 'operator', context: { cluster: 'local', user: 'operator', namespace } }],
    }),
    { mode: 0o600 },
  );
  return file;
}

function pipeline(): string {
  // Connection strings point at a closed loopback port: outside the Azure Service Bus domains,
  // so the operator reports the queue as not allowed (a condition) and sends nothing.
  return stringify({
    apiVersion: 'ocrplatform.io/v1alpha1',
    kind: 'OcrPipeline',
    metadata: { name: PIPELINE, namespace },
    spec: {
      image: 'ghcr.io/ocr-platform/ocr-platform:0.1.0',
      queue: { serviceBus: { connectionStringSecretRef: { name: 'queue', key: 'connectionString' }, queueName: 'ocr-jobs' } },
      storage: { blob: { connectionStringSecretRef: { name: 'storage', key: 'connectionString' }, container: 'ocr' } },
    },
  });
}

void describe("the operator with the chart's RBAC", { skip, timeout: 300_000 }, () => {
  let operator: OperatorProcess | undefined;
  /** The operator's whole log so far. */
  const log = (): string => operator?.logLines().join('\n') ?? '';

  before(async () => {
    await mkdir(workDir, { recursive: true });
    await kubectl(['create', 'namespace', namespace]);
    await kubectl(['apply', '--server-side', '--field-manager=chart-test', '-f', join(CHART_DIR, 'crds')]);
  });

  after(async () => {
    await operator?.stop(); // SIGTERM, SIGKILL after 10 s
    if (!skip) {
      await runTool('kubectl', ['--kubeconfig', kubeconfig!, 'delete', 'ocrpipeline', PIPELINE, '-n', namespace, '--ignore-not-found', '--wait=false']);
      await runHelm(['uninstall', release, '--namespace', namespace, '--kubeconfig', kubeconfig!, '--ignore-not-found']);
      await runTool('kubectl', ['--kubeconfig', kubeconfig!, 'delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
    }
    await rm(workDir, { recursive: true, force: true });
  });

  void it('takes the Lease, gets ready, reconciles a pipeline and writes its status, with no request forbidden', async (t) => {
    const started = performance.now();
    const stage = (name: string) => t.diagnostic(`${name}: ${Math.round(performance.now() - started)} ms`);
    // Install with watchNamespaces: the tighter of the two RBAC shapes (Roles only).
    await runHelm([
      'install',
      release,
      CHART_DIR,
      '--namespace',
      namespace,
      '--kubeconfig',
      kubeconfig!,
      '--skip-crds',
      '--set',
      `watchNamespaces={${namespace}}`,
    ]).then((r) => assert.equal(r.code, 0, r.stderr));
    stage('installed');
    const deployment = JSON.parse(await kubectl(['get', 'deployment', '-n', namespace, '-l', `app.kubernetes.io/instance=${release}`, '-o', 'json'])).items[0];
    const container = deployment.spec.template.spec.containers[0];
    const serviceAccount: string = deployment.spec.template.spec.serviceAccountName;

    // The chart's own flags; only the script (sources instead of dist/) and the listen
    // address (a free loopback port instead of the pod's :8080) differ.
    const operatorKubeconfig = await serviceAccountKubeconfig(serviceAccount);
    operator = await startOperatorProcess({
      kubeconfigPath: operatorKubeconfig,
      namespaces: [],
      flags: (container.args as string[]).slice(1),
      env: { POD_NAMESPACE: namespace },
      waitReady: false,
      // every line: the test asserts that none of them is a refused request
      keepLines: Number.MAX_SAFE_INTEGER,
    });
    const port = operator.metricsPort;

    const exited = () => operator?.exited !== false;
    /** A stage that fails shows the end of the operator's log: usually the reason. */
    const withLog = <T>(work: Promise<T>): Promise<T> =>
      work.catch((error: unknown) => {
        throw new Error(
          `${error instanceof Error ? error.message : String(error)}\noperator log (last 20 lines):\n${log().trim().split('\n').slice(-20).join('\n')}`,
        );
      });
    await withLog(
      waitFor(
        'the operator to hold the Lease',
        async () => {
          assert.ok(!exited(), `operator exited early:\n${log()}`);
          const lease = JSON.parse(await kubectl(['get', 'lease', 'ocr-platform-operator', '-n', namespace, '-o', 'json']));
          return Boolean(lease.spec?.holderIdentity);
        },
        60_000,
        500,
      ),
    );
    stage('leading');
    await withLog(waitFor('/readyz to answer 200', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 60_000, 500));
    stage('ready');

    await kubectl([
      'create',
      'secret',
      'generic',
      'queue',
      '-n',
      namespace,
      '--from-literal=connectionString=Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=test;SharedAccessKey=test',
    ]);
    await kubectl([
      'create',
      'secret',
      'generic',
      'storage',
      '-n',
      namespace,
      '--from-literal=connectionString=DefaultEndpointsProtocol=http;AccountName=test;AccountKey=dGVzdA==;BlobEndpoint=http://127.0.0.1:1/test;',
    ]);
    await kubectl(['apply', '--server-side', '--field-manager=chart-test', '-f', '-'], pipeline());

    await withLog(
      waitFor(
        'the worker and API Deployments of the pipeline',
        async () => {
          assert.ok(!exited(), `operator exited:\n${log()}`);
          const names = await kubectl(['get', 'deployments', '-n', namespace, '-l', `ocrplatform.io/pipeline=${PIPELINE}`, '-o', 'name']);
          return names.includes(`deployment.apps/${PIPELINE}-worker`) && names.includes(`deployment.apps/${PIPELINE}-api`);
        },
        90_000,
        1_000,
      ),
    );
    stage('children created');
    await withLog(
      waitFor(
        'the pipeline status with conditions',
        async () => {
          const status = JSON.parse(await kubectl(['get', 'ocrpipeline', PIPELINE, '-n', namespace, '-o', 'json'])).status;
          return Array.isArray(status?.conditions) && status.conditions.length > 0;
        },
        90_000,
        1_000,
      ),
    );
    stage('status written');
    // The pipeline names no API keys Secret: the chart's RBAC must let the operator create one.
    await withLog(
      waitFor(
        `the generated Secret ${PIPELINE}-api-keys`,
        async () => (await kubectl(['get', 'secrets', '-n', namespace, '-o', 'name'])).includes(`secret/${PIPELINE}-api-keys`),
        60_000,
        1_000,
      ),
    );
    stage('API keys Secret generated');

    const forbidden = log()
      .split('\n')
      .filter((line) => /forbidden|\b403\b/i.test(line));
    assert.deepEqual(forbidden, [], 'the operator was refused requests its RBAC should allow');
  });
});
