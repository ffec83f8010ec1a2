// spec.languages against the image's languages, and spec.ocr.engine auto, on a real control plane: a language the image
// does not carry degrades the pipeline (LanguageNotInImage) and creates no children, so no worker crash-loops; a custom
// image that declares it (spec.ocr.imageLanguages) heals it; status.ocr.engine and the workers' OCR_ENGINE follow the
// languages (paddle where it reads them all, tesseract otherwise).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { OperatorProcess } from '../../support/operator-process.ts';
import {
  GROUP,
  PLURAL,
  UNREACHABLE_CONNECTION_STRING,
  VERSION,
  apply,
  condition,
  clusterWithNamespace,
  closeNamespace,
  eventually,
  expectedChildren,
  listChildren,
  pipeline,
  readPipeline,
  secret,
  skipWithoutCluster,
  startOperatorIn,
  uniqueNamespace,
  type TestCluster,
} from './harness.ts';

const NS = uniqueNamespace('languages');
const NAME = 'japanese';

void describe('languages the image does not carry, and the engine auto resolves to', { skip: skipWithoutCluster, timeout: 150_000 }, () => {
  let cluster: TestCluster;
  let operator: OperatorProcess | undefined;
  const log = () => `operator log:\n${operator?.tail(20) ?? '(not started)'}`;
  const status = async () => JSON.stringify((await readPipeline(cluster.kc, NS, NAME))?.status);
  const engineInStatus = async () => ((await readPipeline(cluster.kc, NS, NAME))?.status as { ocr?: { engine?: string } } | undefined)?.ocr?.engine;
  const workerEngine = async () => {
    const d = await cluster.kc
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: `${NAME}-worker`, namespace: NS })
      .catch(() => undefined);
    return d?.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'OCR_ENGINE')?.value;
  };
  const patchSpec = async (spec: Record<string, unknown>) =>
    await cluster.kc
      .makeApiClient(CustomObjectsApi)
      .patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, name: NAME, body: { spec } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );

  before(async () => {
    cluster = await clusterWithNamespace('it-operator-languages', NS);
    await apply(cluster.kc, secret(NS, 'servicebus', { connectionString: UNREACHABLE_CONNECTION_STRING }));
    operator = await startOperatorIn(cluster, NS, { resyncSeconds: 300 });
  });

  after(async () => {
    await operator?.stop();
    await closeNamespace(cluster, NS);
  });

  void it('a language the image lacks is Degraded=True LanguageNotInImage, with no children', { timeout: 40_000 }, async () => {
    await apply(cluster.kc, pipeline(NS, NAME, { languages: ['eng', 'jpn'] }));
    await eventually(
      'Degraded=True',
      async () => condition(await readPipeline(cluster.kc, NS, NAME), 'Degraded')?.status === 'True',
      30_000,
      async () => `${await status()}\n${log()}`,
    );
    const p = await readPipeline(cluster.kc, NS, NAME);
    assert.equal(condition(p, 'Degraded')?.reason, 'LanguageNotInImage');
    assert.match(condition(p, 'Degraded')?.message ?? '', /asks for jpn, which the image does not carry \(the ocr-platform image declares eng, deu/);
    assert.equal(condition(p, 'Ready')?.status, 'False');
    assert.equal(condition(p, 'Progressing')?.reason, 'Blocked');
    assert.deepEqual(await listChildren(cluster.kc, NS, NAME), []);
  });

  void it('a custom image that declares the language heals it, and auto runs tesseract for Japanese', { timeout: 45_000 }, async () => {
    await patchSpec({ image: 'example.invalid/ocr-platform-jpn:it', ocr: { imageLanguages: ['eng', 'jpn'] } });
    await eventually('every child', async () => (await listChildren(cluster.kc, NS, NAME)).length === expectedChildren(NAME).length, 30_000, log);
    await eventually(
      'Degraded=False and status.ocr.engine tesseract',
      async () => condition(await readPipeline(cluster.kc, NS, NAME), 'Degraded')?.status === 'False' && (await engineInStatus()) === 'tesseract',
      30_000,
      async () => `${await status()}\n${log()}`,
    );
    assert.equal(await workerEngine(), 'tesseract');
  });

  void it('English only switches auto to paddle, in status and in the workers', { timeout: 45_000 }, async () => {
    await patchSpec({ languages: ['eng'] });
    await eventually(
      'status.ocr.engine paddle and OCR_ENGINE=paddle on the workers',
      async () => (await engineInStatus()) === 'paddle' && (await workerEngine()) === 'paddle',
      30_000,
      async () => `${await status()}\n${log()}`,
    );
  });
});
