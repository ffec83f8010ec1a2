// Command lines of each component, as pure functions of ports and paths, so the
// flags that matter (and why) are in one place. Everything binds to 127.0.0.1.
import type { Pki } from './pki.ts';

export interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
  prometheus?: number;
  adapter?: number;
}

export interface Timing {
  /** how often the HPA controller recomputes desired replicas (default upstream: 15 s) */
  hpaSyncPeriod: string;
  /** fallback scale-down stabilization; HPAs set their own `behavior` anyway (default upstream: 5 min) */
  hpaDownscaleStabilization: string;
  /** prometheus scrape and rule evaluation interval */
  scrapeInterval: string;
  /** how often prometheus-adapter re-lists series (default upstream: 10 min; a metric is unknown until a relist saw it) */
  adapterRelistInterval: string;
}

export const TEST_TIMING: Timing = {
  hpaSyncPeriod: '5s',
  hpaDownscaleStabilization: '15s',
  scrapeInterval: '5s',
  adapterRelistInterval: '5s',
};

/**
 * 'default': upstream client rates and sync concurrency (what tests and `npm start` run).
 * 'bench': the cluster must not be the bottleneck of `npm run bench:operator` (issue 14):
 * kube-controller-manager's controllers and the scheduler get BENCH_CLIENT's rates and
 * sync workers, and the apiserver writes an audit log of every write (AUDIT_POLICY), so the
 * benchmark can count the writes of each identity (the operator's own among them).
 */
export type Profile = 'default' | 'bench';
export const PROFILES: readonly Profile[] = ['default', 'bench'];

/**
 * Benchmark mode's client rates and sync workers. Upstream defaults: kube-controller-manager
 * 20 QPS / burst 30 per controller identity and 5 deployment / replicaset / gc syncs (about
 * 5 Deployments/s: a floor of ~400 s for 2,000 Deployments); the scheduler 50 QPS / burst 100.
 */
export const BENCH_CLIENT = { qps: 1000, burst: 2000, syncs: 50 } as const;

/** Audit policy of benchmark mode: Metadata of every write (who, verb, resource), nothing of reads (they would dwarf the log). */
export const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [create, update, patch, delete, deletecollection]
- level: None
`;

export interface AuditFiles {
  policyFile: string;
  logFile: string;
}

export const SERVICE_CIDR = '10.96.0.0/16';
/** First address of SERVICE_CIDR: the `kubernetes` Service's ClusterIP, also a SAN of the serving cert. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
/** Fake pod IPs handed out by kwok; nothing listens on them and nothing may dial them. */
export const POD_CIDR = '10.244.0.0/16';

export function etcdArgs(ports: Ports, dataDir: string): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    '--name=node0',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=node0=${peer}`,
    // a throw-away test store: fsync only costs time on a shared 2-core machine
    '--unsafe-no-fsync',
    '--auto-compaction-retention=1',
    '--log-level=warn',
  ];
}

/**
 * The audit flags of benchmark mode: a JSON line per write, one file, no rotation (a bench run
 * writes a few hundred thousand lines at most), each line written before the answer (blocking:
 * batch mode holds lines up to 30 s, and a measurement window could miss them). The maximum
 * size is set because 0 is not "unlimited": the apiserver's log writer then rotates at 100 MB,
 * which a run of 1, 100 and 1,000 pipelines passes twice (bench/operator reads the file from
 * an offset, and a rotation inside a measurement window would hide writes).
 */
export function auditArgs(audit: AuditFiles): string[] {
  return [
    `--audit-policy-file=${audit.policyFile}`,
    `--audit-log-path=${audit.logFile}`,
    '--audit-log-format=json',
    '--audit-log-maxbackup=0',
    '--audit-log-maxsize=1000000', // MB: never reached
    '--audit-log-mode=blocking',
  ];
}

export function apiserverArgs(ports: Ports, pki: Pki, audit?: AuditFiles): string[] {
  return [
    ...(audit ? auditArgs(audit) : []),
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${ports.apiserver}`,
    `--tls-cert-file=${pki.apiserverCert}`,
    `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.caCert}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.saPublicKey}`,
    `--service-account-signing-key-file=${pki.saPrivateKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--authorization-mode=Node,RBAC',
    // On top of the default plugins, as many production clusters (OpenShift among them) run it:
    // setting blockOwnerDeletion on a child's ownerReference then needs `update` on the owner's
    // finalizers, so a missing grant in the chart's RBAC fails here rather than in production.
    '--enable-admission-plugins=OwnerReferencesPermissionEnforcement',
    '--allow-privileged=true',
    // The apiserver would write its advertise address into the `kubernetes` Endpoints;
    // loopback is rejected there (and at start-up since k8s 1.36), so: no reconciler and
    // no --advertise-address (it picks the default-route interface, which nothing dials).
    '--endpoint-reconciler-type=none',
    // aggregation layer (prometheus-adapter as external.metrics.k8s.io)
    `--requestheader-client-ca-file=${pki.frontProxyCaCert}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.frontProxyClientCert}`,
    `--proxy-client-key-file=${pki.frontProxyClientKey}`,
    // never --enable-aggregator-routing: it resolves Service endpoints and breaks the ExternalName APIService
    // minReplicas: 0 on HPAs with External metrics (alpha in 1.36, beta and on from 1.37), as kind-config.yaml does
    '--feature-gates=HPAScaleToZero=true',
    '--profiling=false',
  ];
}

/** kube-controller-manager's client rates and sync workers in benchmark mode (see BENCH_CLIENT); none in the default profile. */
export function controllerManagerBenchArgs(profile: Profile): string[] {
  if (profile !== 'bench') return [];
  const { qps, burst, syncs } = BENCH_CLIENT;
  return [
    `--kube-api-qps=${qps}`,
    `--kube-api-burst=${burst}`,
    ...['deployment', 'replicaset', 'gc', 'service-endpoint', 'endpoint', 'horizontal-pod-autoscaler', 'namespace', 'serviceaccount-token'].map(
      (c) => `--concurrent-${c}-syncs=${syncs}`,
    ),
  ];
}

export function controllerManagerArgs(ports: Ports, pki: Pki, kubeconfig: string, timing: Timing, profile: Profile = 'default'): string[] {
  return [
    ...controllerManagerBenchArgs(profile),
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${ports.controllerManager}`,
    '--leader-elect=false',
    // '*' = every controller that is on by default: garbage-collector, deployment, replicaset,
    // horizontal-pod-autoscaling, namespace, serviceaccount(-token), node-lifecycle,
    // endpointslice, disruption, job, ... (cloud controllers stay off without a cloud provider)
    '--controllers=*',
    // each controller acts as its own ServiceAccount with its bootstrap RBAC role, as on a
    // kubeadm cluster, so RBAC problems (e.g. the HPA reading external metrics) show up here too
    '--use-service-account-credentials=true',
    `--root-ca-file=${pki.caCert}`,
    `--service-account-private-key-file=${pki.saPrivateKey}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    `--horizontal-pod-autoscaler-sync-period=${timing.hpaSyncPeriod}`,
    `--horizontal-pod-autoscaler-downscale-stabilization=${timing.hpaDownscaleStabilization}`,
    '--feature-gates=HPAScaleToZero=true',
    '--profiling=false',
  ];
}

export function schedulerArgs(ports: Ports, kubeconfig: string, profile: Profile = 'default'): string[] {
  return [
    // deprecated flags, but still honoured without --config (we pass none)
    ...(profile === 'bench' ? [`--kube-api-qps=${BENCH_CLIENT.qps}`, `--kube-api-burst=${BENCH_CLIENT.burst}`] : []),
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${ports.scheduler}`,
    '--leader-elect=false',
    '--profiling=false',
  ];
}

export function kwokArgs(ports: Ports, kubeconfig: string, stagesFile: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--config=${stagesFile}`,
    // only the fake nodes (fakeNode() sets this annotation): the local node agent's node
    // (src/local/node-agent) runs real processes and must not be faked by kwok
    '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    // standalone kwok defaults this to 0 (no lease): the node-lifecycle controller would then
    // mark the nodes NotReady after its grace period and evict every pod
    '--node-lease-duration-seconds=40',
    `--cidr=${POD_CIDR}`,
    '--node-ip=127.0.0.1',
    `--server-address=127.0.0.1:${ports.kwok}`,
  ];
}

export function prometheusArgs(port: number, configFile: string, dataDir: string): string[] {
  return [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDir}`,
    '--storage.tsdb.retention.time=2h',
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ];
}

export function adapterArgs(port: number, prometheusPort: number, kubeconfig: string, configFile: string, certDir: string, timing: Timing): string[] {
  return [
    // without these three it tries in-cluster config and dies outside a pod
    `--lister-kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${certDir}`,
    `--prometheus-url=http://127.0.0.1:${prometheusPort}/`,
    `--config=${configFile}`,
    `--metrics-relist-interval=${timing.adapterRelistInterval}`,
    '--v=1',
  ];
}
