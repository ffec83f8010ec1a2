// CLI of the local control plane: `node hack/cluster/main.ts up|down|status [flags]`
// (npm run cluster:up / cluster:down). See hack/README.md. The implementation lives in
// src/local/cluster/, shared with `npm start` (src/local) and the tests (test/support/cluster.ts).
import { ConfigError } from '../../src/shared/config.ts';
import { clusterStatus, startCluster, stopCluster, summary } from '../../src/local/cluster/cluster.ts';
import { readState } from '../../src/local/cluster/state.ts';
import { helpText, parseConfig, stateDirOf } from './cli.ts';

async function main(argv: string[]): Promise<number> {
  let cfg;
  try {
    cfg = parseConfig(argv, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`cluster: ${error.message}\n`);
    return 2;
  }
  const { command } = cfg;
  if (cfg.help || !command) {
    process.stdout.write(`${helpText()}\n`);
    return cfg.help ? 0 : 2;
  }
  switch (command) {
    case 'up': {
      const cluster = await startCluster({
        name: cfg.name,
        cacheDir: cfg.cacheDir,
        stateDir: cfg.stateDir,
        binDir: cfg.binDir,
        nodes: cfg.nodes,
        withMetrics: cfg.withMetrics,
        profile: cfg.profile,
        adapterConfigPath: cfg.adapterConfigPath,
        scrapeTargets: cfg.scrapeTargets,
      });
      process.stdout.write(`${summary(cluster, readState(cluster.stateDir))}\n`);
      return 0;
    }
    case 'down': {
      const stopped = await stopCluster({ stateDir: stateDirOf(cfg) });
      if (!stopped) process.stderr.write(`no cluster named ${cfg.name} is recorded; nothing to stop\n`);
      return 0;
    }
    case 'status': {
      const { state, healthy } = await clusterStatus({ stateDir: stateDirOf(cfg) });
      if (!state) {
        process.stdout.write(`cluster ${cfg.name}: not running\n`);
        return 1;
      }
      const cluster = { ...state, prometheusUrl: state.metrics?.prometheusUrl };
      process.stdout.write(`cluster ${cfg.name}: ${healthy ? 'healthy' : 'NOT healthy (run cluster:down, then cluster:up)'}\n${summary(cluster, state)}\n`);
      return healthy ? 0 : 1;
    }
    case 'kubeconfig': {
      const { state, healthy } = await clusterStatus({ stateDir: stateDirOf(cfg) });
      if (!state || !healthy) {
        process.stderr.write(`cluster ${cfg.name} is not running; start it with npm run cluster:up -- --name ${cfg.name}\n`);
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
