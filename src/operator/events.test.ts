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
  for (let i = 0; i < 3; i++) await r.record(target, 'Warning', 'SecretNotFound', 'Secret ns/s does not exist');
  assert.equal(written.length, 1);
  assert.equal(written[0]?.involvedObject.uid, 'u1');
  assert.equal(written[0]?.type, 'Warning');
});

void test('a changed message for the same reason is emitted', async () => {
  const { r, written } = recorder();
  await r.record(target, 'Warning', 'ApplyFailed', 'one');
  await r.record(target, 'Warning', 'ApplyFailed', 'two');
  assert.equal(written.length, 2);
});

void test('a problem that cleared and came back is emitted again', async () => {
  const { r, written } = recorder();
  await r.record(target, 'Warning', 'SecretNotFound', 'm');
  r.forget('u1', ['SecretNotFound']);
  await r.record(target, 'Warning', 'SecretNotFound', 'm');
  assert.equal(written.length, 2);
});

void test('a failing event sink does not fail the caller', async () => {
  const r = new EventRecorder(() => Promise.reject(new Error('forbidden')), silentLogger());
  assert.equal(await r.record(target, 'Normal', 'Created', 'Created Deployment p-api'), true);
});
