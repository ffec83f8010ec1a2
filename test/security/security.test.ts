// The hostile-input suite (issue 13, item 10): `npm run test:security`, and part of `npm test`.
// One `it` per target group runs its cases (runner.ts), then asserts that every case was
// answered as documented and nothing crashed. The table of every case and the final line
//   security: <cases> cases, <refused> refused as documented, <crashes> crashes
// are printed at the end: in an `after` hook under `node --test` (npm test), or when the
// process exits when this file runs on its own (npm run test:security), so that the line
// is the last one printed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createNamespace, deleteNamespace, installCrd, testCluster, uniqueNamespace, type TestCluster } from '../integration/operator/harness.ts';
import type { ServiceBusStandin } from '../support/servicebus.ts';
import { authCases, bodyCases, boundedCases, imageCases, tenantCases, webhookCases } from './api-cases.ts';
import { crdCases } from './crd-cases.ts';
import { operatorEgressCases, webhookDeliveryCases } from './egress-cases.ts';
import { client } from './http.ts';
import { integrityCases } from './integrity-cases.ts';
import { KEY, OTHER_KEY, startTargets, type Targets } from './platform.ts';
import { report, runGroup, type Group, type Tally } from './runner.ts';
import { standinCases, standinHealth, startStandin } from './standin-cases.ts';

const skips = new Map<string, string>();
const print = (): void => void process.stdout.write(report(skips));
// NODE_TEST_CONTEXT is set in the child processes of `node --test`.
if (process.env.NODE_TEST_CONTEXT === undefined) process.once('exit', print);
else after(print);

function assertClean(t: Tally, group: string): void {
  assert.equal(t.crashes, 0, `${group}: ${t.crashes} crashes (see the table)`);
  assert.equal(t.refused, t.cases, `${group}: ${t.cases - t.refused} of ${t.cases} cases not answered as documented (see the table)`);
}

async function run(group: Group): Promise<void> {
  if (group.skipped !== undefined) skips.set(group.name, group.skipped);
  assertClean(await runGroup(group), group.name);
}

void describe('hostile input: API, worker and storage over HTTP', { timeout: 20 * 60_000 }, () => {
  let t: Targets;
  const http = client(() => t.api, KEY);
  const integrity = integrityCases(() => t, http);
  const health = async (): Promise<string | undefined> => (await t.health(t.api, 'API')) ?? (await t.health(t.worker, 'worker'));
  const target = 'API process + worker process (HTTP), Azurite, stand-in';

  before(async () => {
    t = await startTargets();
    await integrity.prepare();
    await t.startWorker();
  });
  after(async () => {
    await t?.stop();
  });

  void it('API: authentication', () => run({ name: 'API: authentication', target, cases: authCases(http), health }));
  void it('API: request bodies, types and URLs', () => run({ name: 'API: request bodies, types and URLs', target, cases: bodyCases(http), health }));
  void it('API: images (corpus)', () => run({ name: 'API: images (corpus)', target, cases: imageCases(http), health }));
  void it('API: webhook URLs (SSRF at submit)', () => run({ name: 'API: webhook URLs (SSRF at submit)', target, cases: webhookCases(http), health }));
  void it('integrity: uploads and queue messages', () => run({ name: 'integrity: uploads and queue messages', target, cases: integrity.cases, health }));
  const other = client(() => t.api, OTHER_KEY);
  void it('tenants: jobs of another key', () =>
    run({
      name: 'tenants: jobs of another key',
      target,
      cases: tenantCases(
        other,
        () => integrity.job('overwrite-image'),
        () => integrity.invoice(),
      ),
      health,
    }));
  // Last: the failed-auth limit refuses every request from this address for a while.
  void it('bounded API: admin endpoints and the failed-auth limit', () =>
    run({ name: 'bounded API: admin endpoints and the failed-auth limit', target, cases: boundedCases(http), health }));
});

void describe('hostile input: egress policies (modules)', () => {
  void it('webhook egress at delivery', () =>
    run({ name: 'webhook egress at delivery (src/jobs/egress.ts)', target: 'module', cases: webhookDeliveryCases() }));
  void it('operator Service Bus egress', () =>
    run({ name: 'operator Service Bus egress (src/operator/scaling/egress.ts)', target: 'module', cases: operatorEgressCases() }));
});

void describe('hostile input: Service Bus stand-in', () => {
  let standin: ServiceBusStandin;
  before(async () => {
    standin = await startStandin();
  });
  after(async () => {
    await standin?.close();
  });
  void it('stand-in over AMQP and ATOM', () =>
    run({ name: 'stand-in (SDK, rhea, raw sockets)', target: 'stand-in', cases: standinCases(() => standin), health: () => standinHealth(standin) }));
});

void describe('hostile input: OcrPipeline specs on a real API server', () => {
  const kubeconfig = process.env.OCR_TEST_KUBECONFIG;
  const namespace = uniqueNamespace('security');
  let cluster: TestCluster | undefined;
  before(async () => {
    if (!kubeconfig) return;
    cluster = await testCluster('security');
    await installCrd(cluster.kc, cluster.kubeconfigPath);
    await createNamespace(cluster.kc, namespace);
  });
  after(async () => {
    if (cluster) await deleteNamespace(cluster.kc, namespace);
  });
  void it('CRD validation', () =>
    run({
      name: 'CRD validation (kube-apiserver)',
      target: 'kube-apiserver',
      cases: crdCases(() => ({ kc: cluster!.kc, namespace })),
      ...(kubeconfig ? {} : { skipped: 'OCR_TEST_KUBECONFIG is not set' }),
    }));
});
