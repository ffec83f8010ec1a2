// What a pipeline needs besides Kubernetes: Blob + Table Storage (Azurite) and a Service
// Bus queue (the project's stand-in), reachable by the operator, the API and the workers
// through the connection strings the suite puts into Secrets.
// - local: both as processes on loopback (the operator and the node agent's pods are host
//   processes too). The stand-in's AMQP and ATOM listeners sit behind one port (the
//   local platform's mux), because a pipeline names one connection string for both.
// - incluster: both as Deployments + Services in the pipeline's namespace. Azurite from
//   Microsoft's image (our image carries no dev dependencies); the stand-in from our image
//   (`dist/servicebus-standin`), with the same one-port sniffing in front of it.
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { azuriteConnectionString, startAzurite } from '../support/azurite.ts';
import { startServiceBusStandin } from '../support/servicebus.ts';
import { startServiceBusMux, withEndpointPort } from '../../src/local/servicebus-mux.ts';
import { DEFAULT_KEY_NAME } from '../../src/servicebus-standin/index.ts';
import { poll, QUEUE, type Cli, type E2eSettings, type Json } from './harness.ts';

export interface Backends {
  serviceBusConnectionString: string;
  storageConnectionString: string;
  stop(): Promise<void>;
}

export async function startLocalBackends(): Promise<Backends> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const azurite = await startAzurite();
    stops.push(() => azurite.stop());
    const standin = await startServiceBusStandin({ queues: [{ name: QUEUE, lockDurationSeconds: 60, maxDeliveryCount: 5 }] });
    stops.push(() => standin.close());
    const mux = await startServiceBusMux(standin.amqpPort, standin.httpPort);
    stops.push(() => mux.close());
    return { serviceBusConnectionString: withEndpointPort(standin.connectionString, mux.port), storageConnectionString: azurite.connectionString, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Azurite's image, pinned to the release of the azurite npm package the tests use. */
export const AZURITE_IMAGE = 'mcr.microsoft.com/azure-storage/azurite:3.35.0';
export const STANDIN_PORT = 5672;
const AZURITE_PORTS = { blob: 10000, table: 10002 };

/**
 * The stand-in's entry point inside our image: the stand-in on loopback, and one port on
 * every interface that hands each connection to the AMQP or the ATOM listener by its
 * first bytes (an AMQP connection opens with "AMQP"; the same rule as the local
 * platform's mux, src/local/servicebus-mux.ts, which listens on loopback only). It needs
 * nothing of the image but dist/servicebus-standin. Runs with `node --input-type=module
 * -e`, which resolves ./dist relative to the image's WORKDIR (/app).
 */
export const STANDIN_SCRIPT = `
import { connect, createServer } from 'node:net';
import { startServiceBusStandin } from './dist/servicebus-standin/index.js';
const AMQP = Buffer.from('AMQP');
// 'amqp' | 'http', or undefined until enough bytes have arrived to tell
const sniffProtocol = (head) => {
  const n = Math.min(head.length, AMQP.length);
  if (!head.subarray(0, n).equals(AMQP.subarray(0, n))) return 'http';
  return head.length >= AMQP.length ? 'amqp' : undefined;
};
const standin = await startServiceBusStandin({
  host: '127.0.0.1',
  keys: { [process.env.STANDIN_KEY_NAME]: { key: process.env.STANDIN_KEY } },
  queues: [{ name: process.env.STANDIN_QUEUE, lockDurationSeconds: 60, maxDeliveryCount: 5 }],
});
createServer((client) => {
  let head = Buffer.alloc(0);
  const onData = (chunk) => {
    head = Buffer.concat([head, chunk]);
    const protocol = sniffProtocol(head);
    if (!protocol) return;
    client.off('data', onData);
    client.pause();
    const upstream = connect(protocol === 'amqp' ? standin.amqpPort : standin.httpPort, '127.0.0.1', () => {
      upstream.write(head);
      client.pipe(upstream).pipe(client);
      client.resume();
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  };
  client.on('data', onData);
}).listen(Number(process.env.STANDIN_PORT), '0.0.0.0', () => console.log('servicebus stand-in listening on :' + process.env.STANDIN_PORT));
const stop = () => standin.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
`;

const labels = (name: string) => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'ocr-platform-e2e' });

function deployment(namespace: string, name: string, container: Json): Json {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: labels(name) },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels(name) },
      template: { metadata: { labels: labels(name) }, spec: { containers: [{ name, ...container }] } },
    },
  };
}

function service(namespace: string, name: string, ports: Record<string, number>): Json {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: labels(name) },
    spec: { selector: labels(name), ports: Object.entries(ports).map(([portName, port]) => ({ name: portName, port, targetPort: port, protocol: 'TCP' })) },
  };
}

/** The in-cluster backends' manifests (pure, so a unit test can read them). */
export function inClusterBackendManifests(s: E2eSettings, standinKey: string): Json[] {
  const ns = s.namespace;
  return [
    deployment(ns, 'azurite', {
      image: AZURITE_IMAGE,
      command: [
        'azurite',
        '--inMemoryPersistence',
        '--skipApiVersionCheck',
        '--loose',
        '--disableTelemetry',
        '--blobHost',
        '0.0.0.0',
        '--blobPort',
        String(AZURITE_PORTS.blob),
        '--tableHost',
        '0.0.0.0',
        '--tablePort',
        String(AZURITE_PORTS.table),
      ],
      ports: [
        { name: 'blob', containerPort: AZURITE_PORTS.blob },
        { name: 'table', containerPort: AZURITE_PORTS.table },
      ],
      readinessProbe: { tcpSocket: { port: AZURITE_PORTS.blob }, periodSeconds: 2 },
    }),
    service(ns, 'azurite', AZURITE_PORTS),
    deployment(ns, 'servicebus', {
      image: `${s.image.repository}:${s.image.tag}`,
      imagePullPolicy: s.image.pullPolicy,
      command: ['node', '--input-type=module', '-e', STANDIN_SCRIPT],
      env: [
        { name: 'STANDIN_KEY_NAME', value: DEFAULT_KEY_NAME },
        { name: 'STANDIN_KEY', valueFrom: { secretKeyRef: { name: 'e2e-servicebus-key', key: 'key' } } },
        { name: 'STANDIN_QUEUE', value: QUEUE },
        { name: 'STANDIN_PORT', value: String(STANDIN_PORT) },
      ],
      ports: [{ name: 'amqp', containerPort: STANDIN_PORT }],
      readinessProbe: { tcpSocket: { port: STANDIN_PORT }, periodSeconds: 2 },
      securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    }),
    service(ns, 'servicebus', { amqp: STANDIN_PORT }),
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'e2e-servicebus-key', namespace: ns }, type: 'Opaque', stringData: { key: standinKey } },
  ];
}

export function inClusterConnectionStrings(s: E2eSettings, standinKey: string): { serviceBus: string; storage: string } {
  const host = (name: string) => `${name}.${s.namespace}.svc.cluster.local`;
  return {
    serviceBus: `Endpoint=sb://${host('servicebus')}:${STANDIN_PORT};SharedAccessKeyName=${DEFAULT_KEY_NAME};SharedAccessKey=${standinKey};UseDevelopmentEmulator=true`,
    storage: azuriteConnectionString(AZURITE_PORTS.blob, AZURITE_PORTS.table, host('azurite')),
  };
}

export async function startInClusterBackends(k: Cli, s: E2eSettings): Promise<Backends> {
  const key = randomBytes(32).toString('base64');
  const manifests = inClusterBackendManifests(s, key);
  await k.kubectl(['apply', '--server-side', '--field-manager=ocr-e2e', '-f', '-'], manifests.map((m) => stringify(m)).join('---\n'));
  for (const name of ['azurite', 'servicebus']) {
    await poll(
      `Deployment ${s.namespace}/${name} to be available`,
      async () => {
        const d = await k.json(['get', 'deployment', name, '-n', s.namespace]);
        return (d.status?.availableReplicas ?? 0) >= 1;
      },
      180_000,
      { intervalMs: 2_000, detail: () => k.kubectl(['get', 'pods', '-n', s.namespace, '-l', `app.kubernetes.io/name=${name}`, '-o', 'wide']) },
    );
  }
  const cs = inClusterConnectionStrings(s, key);
  // their namespace is the pipeline's: deleting it at the end takes them along
  return { serviceBusConnectionString: cs.serviceBus, storageConnectionString: cs.storage, stop: async () => {} };
}
