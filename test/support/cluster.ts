// The local Kubernetes control plane for tests (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok fake nodes; optionally
// Prometheus + prometheus-adapter for external metrics). Binaries come from
// `npm run tools`; the implementation lives in src/local/cluster/ and is shared with
// `npm start` and `npm run cluster:up`. A cluster already running under the same name is reused
// and then left running by stop().
//
//   const cluster = await startCluster({ name: 'it-operator' });
//   try { ...new KubeConfig().loadFromFile(cluster.kubeconfigPath)... } finally { await cluster.stop(); }
import * as cluster from '../../src/local/cluster/cluster.ts';
import { cacheDir, defaultBinDir as binDirIn } from '../../src/local/cluster/state.ts';

export { loadKubeConfig, stopCluster, type Cluster } from '../../src/local/cluster/cluster.ts';
export { DEFAULT_ADAPTER_CONFIG, EXTERNAL_METRICS_APISERVICE } from '../../src/local/cluster/metrics-config.ts';
export { TEST_TIMING } from '../../src/local/cluster/args.ts';
export { readState } from '../../src/local/cluster/state.ts';

/** $OCR_CACHE_DIR, default ~/.cache/ocr-platform: the test process hands its environment to the pure cacheDir(). */
export const CACHE_DIR = cacheDir(process.env);

/** As the cluster tool's, with the cache directory defaulting to CACHE_DIR. */
export type ClusterOptions = Omit<cluster.ClusterOptions, 'cacheDir'> & { cacheDir?: string };

export function startCluster(options: ClusterOptions): Promise<cluster.Cluster> {
  return cluster.startCluster({ ...options, cacheDir: options.cacheDir ?? CACHE_DIR });
}

/** Where hack/tools.sh built the binaries (kubectl, ...). */
export function defaultBinDir(): string {
  return binDirIn(CACHE_DIR);
}
