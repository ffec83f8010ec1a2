// Secure by default on a real control plane: a pipeline that names no API keys Secret gets
// a generated <pipeline>-api-keys (owned by the pipeline, one key the API's own parser
// accepts), mounted by the API and named in status and in an Event, and it becomes Ready
// (kwok's fake pods). A re-reconcile never rewrites the key, a rotated key is kept and rolls
// the API pods, deleting the pipeline deletes the Secret, and only an explicit
// `api.auth: disabled` runs the API open. Every assertion reads the cluster.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Deployment, type V1Secret } from '@kubernetes/client-node';
import { ApiKeys } from '../../../src/api/auth.ts';
import { startOperatorProcess, type OperatorProcess } from '../../support/operator-process.ts';
import {
  GROUP,
  PLURAL,
  UNREACHABLE_CONNECTION_STRING,
  VERSION,
  apply,
  clusterWithNamespace,
  closeNamespace,
  eventually,
  isReadyAtCurrentGeneration,
  pipeline,
  readPipeline,
  secret,
  skipWithoutCluster,
  sleep,
  uniqueNamespace,
  type TestCluster,
} from './harness.ts';

const NS = uniqueNamespace('api-keys');
const KEYED = 'keyed';
const OPEN = 'open';
const KEYS_SECRET = `${KEYED}-api-keys`;
const CONFIG_HASH = 'ocrplatform.io/config-hash';
const RESYNC_SECONDS = 2;

const keysText = (s: V1Secret | undefined): string => Buffer.from(s?.data?.keys ?? '', 'base64').toString('utf8');
const apiContainer = (d: V1Deployment) => d.spec?.template.spec?.containers[0];
const envOf = (d: V1Deployment) => Object.fromEntries((apiContainer(d)?.env ?? []).map((e) => [e.name, e.value]));
const keysVolume = (d: V1Deployment) => d.spec?.template.spec?.volumes?.find((v) => v.name === 'api-keys');
const hashOf = (d: V1Deployment) => d.spec?.template.metadata?.annotations?.[CONFIG_HASH];

void describe('a pipeline without an API keys Secret gets a generated one', { skip: skipWithoutCluster, timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let operator: OperatorProcess | undefined;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const log = () => `operator log:\n${operator?.tail(20) ?? '(not started)'}`;
  /** The Secret, or undefined when it does not exist (404); any other error fails the test. */
  const readSecret = (name: string) =>
    core.readNamespacedSecret({ name, namespace: NS }).catch((error: unknown) => {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    });
  const apiDeployment = (name: string) => apps.readNamespacedDeployment({ name: `${name}-api`, namespace: NS });
  const keysSecretStatus = async (name: string) =>
    ((await readPipeline(cluster.kc, NS, name))?.status as { api?: { keysSecret?: string } } | undefined)?.api?.keysSecret;

  before(async () => {
    cluster = await clusterWithNamespace('it-operator-api-keys', NS);
    core = cluster.kc.makeApiClient(CoreV1Api);
    apps = cluster.kc.makeApiClient(AppsV1Api);
    await apply(cluster.kc, secret(NS, 'servicebus', { connectionString: UNREACHABLE_CONNECTION_STRING }));
    operator = await startOperatorProcess({ kubeconfigPath: cluster.kubeconfigPath, namespaces: [NS], resyncSeconds: RESYNC_SECONDS });
  });

  after(async () => {
    await operator?.stop();
    await closeNamespace(cluster, NS);
  });

  void it('creates <pipeline>-api-keys, owned by the pipeline, holding one key the API accepts', { timeout: 45_000 }, async () => {
    await apply(cluster.kc, pipeline(NS, KEYED));
    await eventually(`Secret ${KEYS_SECRET}`, async () => (await readSecret(KEYS_SECRET)) !== undefined, 30_000, log);
    const s = await readSecret(KEYS_SECRET);
    const uid = (await readPipeline(cluster.kc, NS, KEYED))?.uid;
    assert.deepEqual(
      s?.metadata?.ownerReferences?.map((r) => ({ ...r })),
      [{ apiVersion: `${GROUP}/${VERSION}`, kind: 'OcrPipeline', name: KEYED, uid, controller: true, blockOwnerDeletion: true }],
    );
    assert.equal(s?.metadata?.labels?.['app.kubernetes.io/managed-by'], 'ocr-platform-operator');
    assert.equal(s?.metadata?.labels?.['ocrplatform.io/pipeline'], KEYED);
    const text = keysText(s);
    const match = /^default:([A-Za-z0-9_-]{43})\n$/.exec(text);
    assert.ok(match?.[1], `one default:<43 base64url characters> line, got ${JSON.stringify(text.replace(/:.*/s, ':...'))}`);
    const keys = ApiKeys.parse(text);
    assert.equal(keys.size, 1);
    assert.equal(keys.match(match[1]), 'default');
  });

  void it('mounts it in the API, names it in status and in a GeneratedAPIKey Event, and becomes Ready', { timeout: 90_000 }, async () => {
    const d = await apiDeployment(KEYED);
    assert.equal(keysVolume(d)?.secret?.secretName, KEYS_SECRET);
    assert.ok(apiContainer(d)?.volumeMounts?.some((m) => m.name === 'api-keys' && m.mountPath === '/etc/ocr/api-keys'));
    assert.equal(envOf(d).API_KEYS_FILE, '/etc/ocr/api-keys/keys');
    assert.equal(envOf(d).API_AUTH, undefined);
    await eventually('status.api.keysSecret', async () => (await keysSecretStatus(KEYED)) === KEYS_SECRET, 30_000, log);
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${KEYED},reason=GeneratedAPIKey` });
    assert.equal(events.items.length, 1, 'one GeneratedAPIKey Event');
    assert.equal(events.items[0]?.type, 'Normal');
    assert.ok(events.items[0]?.message?.includes(`kubectl get secret ${KEYS_SECRET} -n ${NS} -o jsonpath='{.data.keys}' | base64 -d`));
    await eventually(
      `${KEYED} to be Ready=True`,
      async () => isReadyAtCurrentGeneration(await readPipeline(cluster.kc, NS, KEYED)),
      80_000,
      async () => `status: ${JSON.stringify((await readPipeline(cluster.kc, NS, KEYED))?.status)}\n${log()}`,
    );
  });

  void it('a re-reconcile leaves the key and the API pod template as they are', { timeout: 30_000 }, async () => {
    const [secretBefore, hashBefore] = [await readSecret(KEYS_SECRET), hashOf(await apiDeployment(KEYED))];
    await cluster.kc
      .makeApiClient(CustomObjectsApi)
      .patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, name: KEYED, body: { metadata: { annotations: { touched: String(Date.now()) } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    // The annotation wakes a reconcile; the resync (2 s) adds more.
    await sleep(3 * RESYNC_SECONDS * 1000);
    const secretAfter = await readSecret(KEYS_SECRET);
    assert.equal(secretAfter?.metadata?.resourceVersion, secretBefore?.metadata?.resourceVersion);
    assert.deepEqual(secretAfter?.data, secretBefore?.data);
    assert.equal(hashOf(await apiDeployment(KEYED)), hashBefore);
  });

  void it('a rotated key is kept, not overwritten, and rolls the API pods', { timeout: 45_000 }, async () => {
    const hashBefore = hashOf(await apiDeployment(KEYED));
    const rotated = 'default:rotated-by-a-person\nci:another-key\n';
    await core.patchNamespacedSecret(
      { name: KEYS_SECRET, namespace: NS, body: { data: { keys: Buffer.from(rotated).toString('base64') } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await eventually('a new config hash on the API pods', async () => hashOf(await apiDeployment(KEYED)) !== hashBefore, 30_000, log);
    await sleep(RESYNC_SECONDS * 1000);
    assert.equal(keysText(await readSecret(KEYS_SECRET)), rotated);
  });

  void it('auth disabled runs the API with API_AUTH=disabled, no keys mount and no generated Secret', { timeout: 90_000 }, async () => {
    await apply(cluster.kc, pipeline(NS, OPEN, { api: { replicas: { min: 1, max: 3 }, auth: 'disabled' } }));
    await eventually(
      `${OPEN} to be Ready=True`,
      async () => isReadyAtCurrentGeneration(await readPipeline(cluster.kc, NS, OPEN)),
      80_000,
      async () => `status: ${JSON.stringify((await readPipeline(cluster.kc, NS, OPEN))?.status)}\n${log()}`,
    );
    const d = await apiDeployment(OPEN);
    assert.equal(envOf(d).API_AUTH, 'disabled');
    assert.equal(envOf(d).API_KEYS_FILE, undefined);
    assert.equal(keysVolume(d), undefined);
    assert.equal(await readSecret(`${OPEN}-api-keys`), undefined);
    assert.equal(await keysSecretStatus(OPEN), undefined);
  });

  void it('deleting the pipeline deletes its generated Secret (garbage collection by ownerReference)', { timeout: 60_000 }, async () => {
    await cluster.kc
      .makeApiClient(CustomObjectsApi)
      .deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, name: KEYED });
    await eventually(`Secret ${KEYS_SECRET} to be deleted`, async () => (await readSecret(KEYS_SECRET)) === undefined, 50_000, log);
  });
});
