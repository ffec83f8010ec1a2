// The local Kubernetes control plane for tests (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok fake nodes; optionally
// Prometheus + prometheus-adapter for external metrics). Binaries come from
// `npm run tools`; the implementation lives in src/local/cluster/ and is shared with
// `npm start` and `npm run cluster:up`. A cluster already running under the same name is reused
// and then left running by stop().
//
//   const cluster = await startCluster({ name: 'it-operator' });
//   try { ...new KubeConfig().loadFromFile(cluster.kubeconfigPath)... } finally { await cluster.stop(); }
export { startCluster, stopCluster, loadKubeConfig, type Cluster, type ClusterOptions } from '../../src/local/cluster/cluster.ts';
export { DEFAULT_ADAPTER_CONFIG, EXTERNAL_METRICS_APISERVICE } from '../../src/local/cluster/metrics-config.ts';
export { TEST_TIMING } from '../../src/local/cluster/args.ts';
export { defaultBinDir, readState } from '../../src/local/cluster/state.ts';
