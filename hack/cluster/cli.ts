// Command line of the local control plane tool (hack/cluster/main.ts). One table (FLAGS) drives
// --help and the pure parser in src/shared/config.ts; the cache directory comes from the
// environment through cacheDir() in src/local/cluster/state.ts. main.ts does the I/O.
import { helpText as renderHelp, parseSettings, type Env, type Setting } from '../../src/shared/config.ts';
import { PROFILES, type Profile } from '../../src/local/cluster/args.ts';
import { CACHE_DIR_ENV, cacheDir, defaultBinDir, defaultStateDir } from '../../src/local/cluster/state.ts';

export const FLAGS = [
  { name: 'command', env: '', type: 'string', positional: true, help: 'up, down, status or kubeconfig (see Commands above).' },
  { name: 'name', env: '', type: 'string', default: 'dev', help: `Cluster name; state in $${CACHE_DIR_ENV}/clusters/NAME.` },
  { name: 'state-dir', env: '', type: 'string', help: 'State directory instead of the default.' },
  { name: 'bin-dir', env: '', type: 'string', defaultHelp: `$${CACHE_DIR_ENV}/bin`, help: 'Binaries from hack/tools.sh.' },
  // startCluster's own bounds; each fake node has 8 cpu / 32Gi / 110 pods.
  { name: 'nodes', env: '', type: 'integer', default: 2, min: 1, max: 50, help: 'Number of fake nodes, 8 cpu / 32Gi / 110 pods each.' },
  {
    name: 'with-metrics',
    env: '',
    type: 'boolean',
    default: false,
    help: 'Also run Prometheus (installed from Debian if missing) and prometheus-adapter as APIService v1beta1.external.metrics.k8s.io.',
  },
  {
    name: 'profile',
    env: '',
    type: 'string',
    default: 'default',
    choices: PROFILES,
    help: 'bench: raised kube-controller-manager/scheduler client rates and sync workers, and an audit log of writes (npm run bench:operator).',
  },
  { name: 'adapter-config', env: '', type: 'string', defaultHelp: 'rule for ocr_queue_backlog', help: 'prometheus-adapter config.' },
  { name: 'scrape-target', env: '', type: 'string', repeatable: true, help: 'Loopback target H:P Prometheus scrapes at /metrics.' },
  { name: 'help', env: '', type: 'boolean', short: 'h', default: false, help: 'Print this help and exit.' },
] as const satisfies readonly Setting[];

export function helpText(): string {
  return renderHelp(FLAGS, {
    intro: [
      'Local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,',
      'kube-scheduler, kwok fake nodes; optionally Prometheus + prometheus-adapter).',
      '',
      'Usage: node hack/cluster/main.ts <up|down|status|kubeconfig> [flags]',
      '       npm run cluster:up -- [flags]      npm run cluster:down -- [flags]',
      '',
      'Commands:',
      '  up          start the cluster (idempotent: a running one is reported and left alone)',
      '  down        stop it (also cleans up after a failed or half-finished start)',
      '  status      print whether it runs, exit 0 when healthy, 1 otherwise',
      '  kubeconfig  print the admin kubeconfig path of the running cluster (exit 1 if not healthy)',
    ],
    flags: true,
    footer: [`Environment: ${CACHE_DIR_ENV} (default $HOME/.cache/ocr-platform), where hack/tools.sh builds and clusters keep their state.`],
  });
}

export interface ClusterCliConfig {
  /** undefined: none given (main prints the help and exits 2); main refuses an unknown one. */
  command: string | undefined;
  name: string;
  /** $OCR_CACHE_DIR or its default. */
  cacheDir: string;
  stateDir: string | undefined;
  binDir: string;
  nodes: number;
  withMetrics: boolean;
  profile: Profile;
  adapterConfigPath: string | undefined;
  scrapeTargets: string[];
  help: boolean;
}

/** Pure: parses argv and `env` (main passes process.argv and process.env); throws ConfigError naming the flag. */
export function parseConfig(argv: readonly string[], env: Env): ClusterCliConfig {
  const v = parseSettings(FLAGS, env, argv);
  const cache = cacheDir(env);
  return {
    command: v.command,
    name: v.name,
    cacheDir: cache,
    stateDir: v['state-dir'],
    binDir: v['bin-dir'] ?? defaultBinDir(cache),
    nodes: v.nodes,
    withMetrics: v['with-metrics'],
    profile: v.profile as Profile,
    adapterConfigPath: v['adapter-config'],
    scrapeTargets: v['scrape-target'],
    help: v.help,
  };
}

/** The state directory of the cluster: --state-dir, else $OCR_CACHE_DIR/clusters/<name> (throws on an invalid name). */
export function stateDirOf(cfg: Pick<ClusterCliConfig, 'stateDir' | 'cacheDir' | 'name'>): string {
  return cfg.stateDir ?? defaultStateDir(cfg.cacheDir, cfg.name);
}
