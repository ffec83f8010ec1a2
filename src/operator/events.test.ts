import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreV1Event } from '@kubernetes/client-node';
import { silentLogger } from '../shared/logger.ts';
import { EventRecorder } from './events.ts';

const target = { apiVersion: 'ocrplatform.io/v1alpha1', kind: 'OcrPipeline', name: 'p', namespace: 'ns', uid: 'u1' };
const recorder = () => {
  const written: CoreV1Event[] = [];
  const r = new EventRecorder(
    async (_ns, e) => written.push(e),
    silentLogger(),
    () => 0,
  );
  return { r, written };
};

void test('the same reason and message for the same object is emitted once', async () => {
  const { r, written } = recorder();
  for (let i = 0; i < 3; i++) r.record(target, 'Warning', 'SecretNotFound', 'Secret ns/s does not exist');
  assert.equal(written.length, 1);
  assert.equal(written[0]?.involvedObject.uid, 'u1');
  assert.equal(written[0]?.type, 'Warning');
});

void test('a changed message for the same reason is emitted', async () => {
  const { r, written } = recorder();
  r.record(target, 'Warning', 'ApplyFailed', 'one');
  r.record(target, 'Warning', 'ApplyFailed', 'two');
  assert.equal(written.length, 2);
});

void test('a problem that cleared and came back is emitted again', async () => {
  const { r, written } = recorder();
  r.record(target, 'Warning', 'SecretNotFound', 'm');
  r.forget('u1', ['SecretNotFound']);
  r.record(target, 'Warning', 'SecretNotFound', 'm');
  assert.equal(written.length, 2);
});

void test('a failing event sink does not fail the caller', async () => {
  const r = new EventRecorder(() => Promise.reject(new Error('forbidden')), silentLogger());
  assert.equal(r.record(target, 'Normal', 'Created', 'Created Deployment p-api'), true);
});

void test('different messages under one reason are each emitted once (the key is object, reason and message)', async () => {
  const { r, written } = recorder();
  for (const m of ['Created Deployment p-api', 'Created Service p-api', 'Created Deployment p-api']) r.record(target, 'Normal', 'Created', m);
  await r.drain();
  assert.deepEqual(
    written.map((e) => e.message),
    ['Created Deployment p-api', 'Created Service p-api'],
  );
});

void test('a problem that comes back is emitted with its count and the time it was first seen', async () => {
  let now = 1_000;
  const written: CoreV1Event[] = [];
  const r = new EventRecorder(
    async (_ns, e) => written.push(e),
    silentLogger(),
    () => now,
  );
  for (let i = 0; i < 3; i++) {
    r.record(target, 'Warning', 'SecretNotFound', 'm');
    r.record(target, 'Warning', 'SecretNotFound', 'm');
    r.forget('u1', ['SecretNotFound']);
    now += 1_000;
  }
  await r.drain();
  assert.deepEqual(
    written.map((e) => [e.count, e.firstTimestamp?.getTime(), e.lastTimestamp?.getTime()]),
    [
      [1, 1_000, 1_000],
      [2, 1_000, 2_000],
      [3, 1_000, 3_000],
    ],
  );
});

void test('recording never waits for the API server: a sink that hangs leaves record() and the caller free', async () => {
  const pending: (() => void)[] = [];
  const written: string[] = [];
  const r = new EventRecorder(
    (_ns, e) =>
      new Promise<void>((resolve) => {
        written.push(e.message ?? '');
        pending.push(resolve);
      }),
    silentLogger(),
  );
  for (let i = 0; i < 10; i++) assert.equal(r.record(target, 'Normal', 'Created', `m${i}`), true);
  assert.equal(written.length, 4, 'at most four Events are written at once; the rest wait');
  while (pending.length > 0) pending.shift()?.();
  await new Promise((resolve) => setImmediate(resolve));
  while (pending.length > 0) {
    pending.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  await r.drain();
  assert.equal(written.length, 10);
});
