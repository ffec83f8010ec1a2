// CLI of the local control plane: `node hack/cluster/main.ts up|down|status [flags]`
// (npm run cluster:up / cluster:down). See hack/README.md. The implementation lives in
// src/local/cluster/, shared with `npm start` (src/local) and the tests (test/support/cluster.ts).
import { parseArgs } from 'node:util';
import { clusterStatus, startCluster, stopCluster, summary } from '../../src/local/cluster/cluster.ts';
import { readState } from '../../src/local/cluster/state.ts';

const HELP = `Local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
kube-scheduler, kwok fake nodes; optionally Prometheus + prometheus-adapter).

usage: node hack/cluster/main.ts <up|down|status|kubeconfig> [flags]
       npm run cluster:up -- [flags]      npm run cluster:down -- [flags]

commands:
  up          start the cluster (idempotent: a running one is reported and left alone)
  down        stop it (also cleans up after a failed or half-finished start)
  status      print whether it runs, exit 0 when healthy, 1 otherwise
  kubeconfig  print the admin kubeconfig path of the running cluster (exit 1 if not healthy)

flags:
  --name NAME             cluster name (default: dev); state in $OCR_CACHE_DIR/clusters/NAME
  --state-dir DIR         state directory instead of the default
  --bin-dir DIR           binaries from hack/tools.sh (default: $OCR_CACHE_DIR/bin)
  --nodes N               number of fake nodes, 8 cpu / 32Gi / 110 pods each (default: 2)
  --with-metrics          also run Prometheus (installed from Debian if missing) and
                          prometheus-adapter as APIService v1beta1.external.metrics.k8s.io
  --adapter-config FILE   prometheus-adapter config (default: rule for ocr_queue_backlog)
  --scrape-target H:P     loopback target Prometheus scrapes at /metrics (repeatable)
  -h, --help              this help

env: OCR_CACHE_DIR (default: $HOME/.cache/ocr-platform)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string', default: 'dev' },
      'state-dir': { type: 'string' },
      'bin-dir': { type: 'string' },
      nodes: { type: 'string', default: '2' },
      'with-metrics': { type: 'boolean', default: false },
      'adapter-config': { type: 'string' },
      'scrape-target': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(`${HELP}\n`);
    return values.help ? 0 : 2;
  }
  const common = { name: values.name, stateDir: values['state-dir'] };
  switch (command) {
    case 'up': {
      const nodes = Number(values.nodes);
      const cluster = await startCluster({
        ...common,
        binDir: values['bin-dir'],
        nodes,
        withMetrics: values['with-metrics'],
        adapterConfigPath: values['adapter-config'],
        scrapeTargets: values['scrape-target'],
      });
      process.stdout.write(`${summary(cluster, readState(cluster.stateDir))}\n`);
      return 0;
    }
    case 'down': {
      const stopped = await stopCluster(common);
      if (!stopped) process.stderr.write(`no cluster named ${values.name} is recorded; nothing to stop\n`);
      return 0;
    }
    case 'status': {
      const { state, healthy } = await clusterStatus(common);
      if (!state) {
        process.stdout.write(`cluster ${values.name}: not running\n`);
        return 1;
      }
      const cluster = { ...state, prometheusUrl: state.metrics?.prometheusUrl };
      process.stdout.write(`cluster ${values.name}: ${healthy ? 'healthy' : 'NOT healthy (run cluster:down, then cluster:up)'}\n${summary(cluster, state)}\n`);
      return healthy ? 0 : 1;
    }
    case 'kubeconfig': {
      const { state, healthy } = await clusterStatus(common);
      if (!state || !healthy) {
        process.stderr.write(`cluster ${values.name} is not running; start it with npm run cluster:up -- --name ${values.name}\n`);
        return 1;
      }
      process.stdout.write(`${state.kubeconfigPath}\n`);
      return 0;
    }
    default:
      process.stderr.write(`unknown command "${command}"; expected up, down, status or kubeconfig (see --help)\n`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`cluster: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
