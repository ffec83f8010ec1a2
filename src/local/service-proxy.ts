// The local stand-in for kube-proxy: every Service of ours (label
// app.kubernetes.io/managed-by=ocr-platform-operator) gets a listener on 127.0.0.1, and
// each TCP connection goes, round-robin, to one READY pod of the Service's selector that
// the node agent runs (the pod annotation ocrplatform.io/local-ports maps the Service's
// targetPort to the pod's host port). kwok's fake pods have no such annotation and are
// never chosen. Ports are stable: Services take basePort, basePort+1, ... in name order,
// skipping ports in use.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { inform, type Kube, type KubeObject } from './kube.ts';
import { isPodReady } from './node-agent/status.ts';
import { hostPortFor, LOCAL_PORTS_ANNOTATION, parsePortsAnnotation } from './node-agent/translate.ts';

export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=ocr-platform-operator';
export const DEFAULT_BASE_PORT = 18080;

export interface ProxiedService {
  namespace: string;
  name: string;
  /** the Service port (e.g. 80) this listener stands for */
  servicePort: number;
  url: string;
  /** ready pods it balances over right now */
  backends: number;
}

export interface ServiceProxy {
  services(): ProxiedService[];
  /** Resolves with the URL once the Service is proxied (rejects after timeoutMs). */
  urlFor(namespace: string, name: string, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export interface ServiceProxyOptions {
  kube: Kube;
  /** only Services in this namespace (default: all namespaces) */
  namespace?: string;
  basePort?: number;
  labelSelector?: string;
  log?: (line: string) => void;
}

export function matchesSelector(labels: Record<string, string> | undefined, selector: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false; // a Service without selector has no pods of ours
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** Host ports of the ready pods behind one Service port, in a stable order. */
export function backendsFor(service: V1Service, servicePort: number, pods: Iterable<V1Pod>): number[] {
  const port = service.spec?.ports?.find((p) => p.port === servicePort);
  if (!port) return [];
  const target = port.targetPort ?? port.port;
  const out: { name: string; hostPort: number }[] = [];
  for (const pod of pods) {
    if (pod.metadata?.namespace !== service.metadata?.namespace || !isPodReady(pod)) continue;
    if (!matchesSelector(pod.metadata?.labels, service.spec?.selector)) continue;
    const hostPort = hostPortFor(parsePortsAnnotation(pod.metadata?.annotations?.[LOCAL_PORTS_ANNOTATION]), target);
    if (hostPort !== undefined) out.push({ name: pod.metadata?.name ?? '', hostPort });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name)).map((b) => b.hostPort);
}

async function listen(server: Server, port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const onError = () => resolve(false);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve(true);
    });
  });
}

interface Listener {
  key: string;
  namespace: string;
  name: string;
  servicePort: number;
  server: Server;
  port: number;
  next: number;
  sockets: Set<Socket>;
}

export async function startServiceProxy(options: ServiceProxyOptions): Promise<ServiceProxy> {
  const { kube } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`[service-proxy] ${line}\n`));
  const basePort = options.basePort ?? DEFAULT_BASE_PORT;
  const nsPath = options.namespace ? `/api/v1/namespaces/${options.namespace}` : '/api/v1';
  const listeners = new Map<string, Listener>();
  const usedPorts = new Set<number>();
  let stopped = false;
  let sync: Promise<void> = Promise.resolve();

  const pods = inform<V1Pod & KubeObject>(kube, `${nsPath}/pods`, {}, () => {});
  const services = inform<V1Service & KubeObject>(kube, `${nsPath}/services`, { labelSelector: options.labelSelector ?? MANAGED_BY_SELECTOR }, () => {
    sync = sync.then(reconcile, reconcile);
  });

  const serviceOf = (l: Listener): V1Service | undefined => services.items.get(`${l.namespace}/${l.name}`);

  const handle = (l: Listener, client: Socket): void => {
    l.sockets.add(client);
    client.once('close', () => l.sockets.delete(client));
    client.on('error', () => client.destroy());
    const service = serviceOf(l);
    const ports = service ? backendsFor(service, l.servicePort, pods.items.values()) : [];
    const tryBackend = (attempt: number): void => {
      if (attempt >= ports.length) {
        client.destroy(); // no ready pod: refuse like a Service without endpoints
        return;
      }
      const port = ports[(l.next + attempt) % ports.length]!;
      const upstream = connect({ host: '127.0.0.1', port });
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        if (client.destroyed) return void upstream.destroy();
        l.next = (l.next + attempt + 1) % ports.length;
        upstream.pipe(client);
        client.pipe(upstream);
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
      });
      upstream.once('error', (error) => {
        if (!connected) return tryBackend(attempt + 1); // this pod just went away: try the next one
        log(`${l.key}: upstream 127.0.0.1:${port}: ${error.message}`);
        client.destroy();
      });
    };
    tryBackend(0);
  };

  const open = async (namespace: string, name: string, servicePort: number): Promise<void> => {
    const key = `${namespace}/${name}:${servicePort}`;
    if (listeners.has(key)) return;
    const listener: Listener = { key, namespace, name, servicePort, server: createServer(), port: 0, next: 0, sockets: new Set() };
    listener.server.on('connection', (socket) => handle(listener, socket));
    for (let port = basePort; port < basePort + 100; port++) {
      if (usedPorts.has(port)) continue;
      if (await listen(listener.server, port)) {
        listener.port = port;
        break;
      }
    }
    if (listener.port === 0 && !(await listen(listener.server, 0))) throw new Error(`service proxy: no free port for ${key}`);
    if (listener.port === 0) listener.port = (listener.server.address() as { port: number }).port;
    usedPorts.add(listener.port);
    listeners.set(key, listener);
    log(`Service ${namespace}/${name} port ${servicePort} -> http://127.0.0.1:${listener.port}`);
  };

  const close = async (l: Listener): Promise<void> => {
    listeners.delete(l.key);
    usedPorts.delete(l.port);
    for (const s of l.sockets) s.destroy();
    await new Promise<void>((resolve) => l.server.close(() => resolve()));
  };

  async function reconcile(): Promise<void> {
    if (stopped) return;
    const wanted = new Set<string>();
    const sorted = [...services.items.values()].sort((a, b) =>
      `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`),
    );
    for (const s of sorted) {
      for (const p of s.spec?.ports ?? []) {
        wanted.add(`${s.metadata?.namespace}/${s.metadata?.name}:${p.port}`);
        try {
          await open(s.metadata?.namespace ?? '', s.metadata?.name ?? '', p.port);
        } catch (error) {
          log(String(error));
        }
      }
    }
    for (const l of [...listeners.values()]) if (!wanted.has(l.key)) await close(l);
  }

  await Promise.all([pods.synced, services.synced]);
  await (sync = sync.then(reconcile, reconcile));

  const list = (): ProxiedService[] =>
    [...listeners.values()].map((l) => {
      const service = serviceOf(l);
      return {
        namespace: l.namespace,
        name: l.name,
        servicePort: l.servicePort,
        url: `http://127.0.0.1:${l.port}`,
        backends: service ? backendsFor(service, l.servicePort, pods.items.values()).length : 0,
      };
    });

  return {
    services: list,
    async urlFor(namespace, name, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const hit = list().find((s) => s.namespace === namespace && s.name === name);
        if (hit) return hit.url;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(
        `Service ${namespace}/${name} did not appear within ${timeoutMs / 1000} s: is the operator running and does the Service carry ${MANAGED_BY_SELECTOR}?`,
      );
    },
    async stop() {
      stopped = true;
      pods.stop();
      services.stop();
      await sync;
      await Promise.all([...listeners.values()].map(close));
    },
  };
}
