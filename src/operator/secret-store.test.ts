// The Secret store: only referenced Secrets, read by name when the metadata watch shows a new version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Secret } from '@kubernetes/client-node';
import { metadataOnly } from './kube.ts';
import { SecretIndex } from './secret-index.ts';
import { SecretStore, type SecretSource } from './secret-store.ts';

/** A namespace of Secrets with a metadata view that may lag behind, counting GETs. */
class FakeSource implements SecretSource {
  secrets = new Map<string, V1Secret>();
  reads: string[] = [];
  set(name: string, value: string, resourceVersion: string): void {
    this.secrets.set(`ns/${name}`, {
      metadata: { name, namespace: 'ns', resourceVersion, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': value } },
      data: { key: Buffer.from(value).toString('base64') },
    });
  }
  version(namespace: string, name: string): string | undefined {
    return this.secrets.get(`${namespace}/${name}`)?.metadata?.resourceVersion;
  }
  async read(namespace: string, name: string): Promise<V1Secret | undefined> {
    this.reads.push(name);
    return this.secrets.get(`${namespace}/${name}`);
  }
}

const value = (s: V1Secret | undefined) => (s?.data?.key ? Buffer.from(s.data.key, 'base64').toString() : undefined);

void test('a referenced Secret is read by name and held without its annotations', async () => {
  const src = new FakeSource();
  src.set('queue', 'cs-1', '1');
  const store = new SecretStore(src, () => false);
  await store.load('ns', ['queue']);
  assert.equal(value(store.get('ns', 'queue')), 'cs-1');
  assert.equal(store.get('ns', 'queue')?.metadata?.annotations, undefined);
  assert.deepEqual(src.reads, ['queue']);
});

void test('an unchanged Secret is not read again', async () => {
  const src = new FakeSource();
  src.set('queue', 'cs-1', '1');
  const store = new SecretStore(src, () => true);
  await store.load('ns', ['queue']);
  await store.load('ns', ['queue']);
  assert.deepEqual(src.reads, ['queue']);
});

void test('a changed Secret is read again at its new version', async () => {
  const src = new FakeSource();
  src.set('queue', 'cs-1', '1');
  const store = new SecretStore(src, () => true);
  await store.load('ns', ['queue']);
  src.set('queue', 'cs-2', '2');
  await store.load('ns', ['queue']);
  assert.equal(value(store.get('ns', 'queue')), 'cs-2');
  assert.equal(src.reads.length, 2);
});

void test('a Secret the watch does not show costs no request and reads as missing', async () => {
  const src = new FakeSource();
  const store = new SecretStore(src, () => true);
  await store.load('ns', ['queue']);
  assert.equal(store.get('ns', 'queue'), undefined);
  assert.deepEqual(src.reads, []);
});

void test('a deleted Secret is dropped on the next load and by forget', async () => {
  const src = new FakeSource();
  src.set('queue', 'cs-1', '1');
  src.set('storage', 'st-1', '1');
  const store = new SecretStore(src, () => true);
  await store.load('ns', ['queue', 'storage']);
  src.secrets.delete('ns/queue');
  await store.load('ns', ['queue']);
  assert.equal(store.get('ns', 'queue'), undefined);
  store.forget('ns', 'storage');
  assert.equal(store.get('ns', 'storage'), undefined);
});

void test('copies of Secrets no pipeline references any more are dropped', async () => {
  const src = new FakeSource();
  src.set('old', 'o', '1');
  src.set('new', 'n', '1');
  let referenced = new Set(['old']);
  const store = new SecretStore(src, (_ns, name) => referenced.has(name), { pruneDelayMs: 0 });
  await store.load('ns', ['old']);
  referenced = new Set(['new']);
  await store.load('ns', ['new']);
  await new Promise((resolve) => setTimeout(resolve, 10)); // unreferenced copies go pruneDelayMs after a load (secret-store.ts)
  assert.equal(store.size, 1);
  assert.equal(store.get('ns', 'old'), undefined);
});

void test('the metadata-only cache keeps name, namespace, uid and resourceVersion, never data, labels or annotations', () => {
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'a',
      namespace: 'ns',
      uid: 'u',
      resourceVersion: '7',
      labels: { l: 'x' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'k' },
    },
    data: { key: 'c2VjcmV0' },
  };
  assert.deepEqual(metadataOnly(secret), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'a', namespace: 'ns', uid: 'u', resourceVersion: '7' } });
});

/** A source whose reads wait until the test releases them, so two reads can complete in one turn (as two HTTP/2 streams in one socket read do). */
class HeldSource extends FakeSource {
  #pending: Array<() => void> = [];
  override async read(namespace: string, name: string): Promise<V1Secret | undefined> {
    await new Promise<void>((resolve) => this.#pending.push(resolve));
    return super.read(namespace, name);
  }
  /** Completes every read waiting now, one after the other in this turn. */
  releaseAll(): void {
    for (const resolve of this.#pending.splice(0)) resolve();
  }
}

void test('a Secret loaded for one reconcile is still there when it reads it, though another reconcile finished its load in the same turn', async () => {
  // The restart of a converged operator at 1,000 pipelines made 3 `create secrets` (409): one
  // reconcile's load dropped the API keys Secret another had just loaded and not yet indexed.
  const src = new HeldSource();
  src.set('a-api-keys', 'key-a', '1');
  src.set('b-api-keys', 'key-b', '1');
  const index = new SecretIndex();
  const store = new SecretStore(src, (ns, name) => index.pipelinesFor(ns, name).length > 0);
  // What the reconciler does: load, then index and read (gather) once the load resolves.
  const reconcile = async (pipeline: string) => {
    await store.load('ns', [`${pipeline}-api-keys`]);
    index.set(`ns/${pipeline}`, [`${pipeline}-api-keys`]);
    return value(store.get('ns', `${pipeline}-api-keys`));
  };
  const both = Promise.all([reconcile('a'), reconcile('b')]);
  await new Promise((resolve) => setImmediate(resolve)); // both reads are in flight
  src.releaseAll();
  assert.deepEqual(await both, ['key-a', 'key-b']);
  assert.equal(store.size, 2);
});

void test('a burst of loads passes over the held copies once, not once per load', async () => {
  const src = new FakeSource();
  for (let i = 0; i < 20; i++) src.set(`s${i}`, 'v', '1');
  let checks = 0;
  const store = new SecretStore(
    src,
    () => {
      checks += 1;
      return true;
    },
    { pruneDelayMs: 200 },
  );
  // One load per turn of the event loop, as reconciles of a resync arrive.
  for (let i = 0; i < 20; i++) {
    await store.load('ns', [`s${i}`]);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(store.size, 20);
  assert.equal(checks, 20, 'one pass over 20 copies');
});
