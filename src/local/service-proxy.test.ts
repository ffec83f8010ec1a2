import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { backendsFor, matchesSelector } from './service-proxy.ts';
import { sniffProtocol, withEndpointPort } from './servicebus-mux.ts';
import { formatSnapshot, percentile } from './load.ts';

const service: V1Service = {
  metadata: { name: 'receipts-api', namespace: 'ns' },
  spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 'http' }] },
};
const pod = (name: string, o: { ready?: boolean; ns?: string; app?: string; hostPort?: number; deleting?: boolean } = {}): V1Pod => ({
  metadata: {
    name,
    namespace: o.ns ?? 'ns',
    labels: { app: o.app ?? 'api' },
    ...(o.deleting ? { deletionTimestamp: new Date() } : {}),
    annotations:
      o.hostPort === undefined
        ? {}
        : { 'ocrplatform.io/local-ports': JSON.stringify([{ container: 'api', name: 'http', containerPort: 8080, hostPort: o.hostPort }]) },
  },
  status: { conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});

void test('a Service balances over the ready local pods of its selector, in name order', () => {
  const pods = [
    pod('b', { hostPort: 2002 }),
    pod('a', { hostPort: 2001 }),
    pod('unready', { hostPort: 2003, ready: false }),
    pod('terminating', { hostPort: 2004, deleting: true }),
    pod('other-app', { hostPort: 2005, app: 'worker' }),
    pod('other-ns', { hostPort: 2006, ns: 'x' }),
    pod('kwok-fake'), // no port annotation: a kwok pod, nothing listens for it
  ];
  assert.deepEqual(backendsFor(service, 80, pods), [2001, 2002]);
  assert.deepEqual(backendsFor(service, 443, pods), [], 'a port the Service does not have');
});

void test('a Service without a selector matches no pod', () => {
  assert.equal(matchesSelector({ app: 'api' }, undefined), false);
  assert.equal(matchesSelector({ app: 'api' }, {}), false);
  assert.equal(matchesSelector({ app: 'api', x: 'y' }, { app: 'api' }), true);
});

void test('the Service Bus mux tells AMQP from HTTP by the first bytes', () => {
  assert.equal(sniffProtocol(Buffer.from('AMQP\x00\x01\x00\x00', 'latin1')), 'amqp');
  assert.equal(sniffProtocol(Buffer.from('AM', 'latin1')), undefined, 'undecided until four bytes');
  assert.equal(sniffProtocol(Buffer.from('GET /ocr-jobs HTTP/1.1', 'latin1')), 'http');
  assert.equal(sniffProtocol(Buffer.from('A', 'latin1')), undefined);
  assert.equal(sniffProtocol(Buffer.from('AX', 'latin1')), 'http');
});

void test('the connection string keeps its keys and gets the mux port', () => {
  const cs = 'Endpoint=sb://127.0.0.1:41000;SharedAccessKeyName=Root;SharedAccessKey=abc=;UseDevelopmentEmulator=true';
  assert.equal(withEndpointPort(cs, 42000), 'Endpoint=sb://127.0.0.1:42000;SharedAccessKeyName=Root;SharedAccessKey=abc=;UseDevelopmentEmulator=true');
});

void test('percentiles use the nearest rank', () => {
  const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(percentile(sorted, 50), 5);
  assert.equal(percentile(sorted, 95), 10);
  assert.equal(percentile([], 50), 0);
});

void test('the load line shows backlog, workers, throughput and latency', () => {
  const line = formatSnapshot({
    t: 42,
    sent: 40,
    total: 40,
    done: 12,
    failed: 0,
    active: 26,
    workersReady: 3,
    workersDesired: 4,
    throughput: 0.8,
    latencies: [4000, 6000, 5000],
  });
  assert.equal(line, '  42s  sent 40/40  done 12  backlog 26  workers 3 ready / 4 wanted by the HPA  0.80 receipts/s  latency p50 5.0 s  p95 6.0 s');
});
