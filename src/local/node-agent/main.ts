// `npm run node-agent -- [--kubeconfig FILE] [--node NAME] [--logs DIR] [--prefer-dist]`:
// runs the local node agent on its own, against any cluster whose pods may run here
// (`npm start` runs it for you). Ctrl-C stops every pod process and removes the Node.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, helpText as renderHelp, parseSettings, type Env, type Setting } from '../../shared/config.ts';
import { connectKube } from '../kube.ts';
import { DEFAULT_NODE_NAME, LOCAL_AGENT_LABEL, startNodeAgent } from './agent.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const FLAGS = [
  { name: 'kubeconfig', env: 'KUBECONFIG', type: 'string', help: 'Cluster to join (npm start passes its own).' },
  { name: 'node', env: '', type: 'string', default: DEFAULT_NODE_NAME, help: 'Node name.' },
  { name: 'logs', env: '', type: 'string', defaultHelp: 'a new temp dir, printed', help: 'Container logs.' },
  { name: 'prefer-dist', env: '', type: 'boolean', default: false, help: 'Run dist/*.js when built instead of src/*.ts.' },
  { name: 'help', env: '', type: 'boolean', short: 'h', default: false, help: 'Print this help and exit.' },
] as const satisfies readonly Setting[];

export function helpText(): string {
  return renderHelp(FLAGS, {
    intro: [
      `Local node agent: registers Node ${DEFAULT_NODE_NAME} (label ${LOCAL_AGENT_LABEL}=true)`,
      'and runs the pods scheduled to it as host processes of this checkout.',
      '',
      'Usage: npm run node-agent -- [flags]',
    ],
    flags: true,
  });
}

export interface NodeAgentConfig {
  kubeconfig: string;
  node: string;
  /** undefined: a new temp dir. */
  logs: string | undefined;
  preferDist: boolean;
  help: boolean;
}

/** Pure: parses argv and `env` (main passes process.argv and process.env); throws ConfigError naming the flag, or when no cluster is given. */
export function parseConfig(argv: readonly string[], env: Env): NodeAgentConfig {
  const v = parseSettings(FLAGS, env, argv);
  if (!v.kubeconfig && !v.help) throw new ConfigError('no cluster: pass --kubeconfig FILE or set KUBECONFIG (npm start does both for you)');
  return { kubeconfig: v.kubeconfig ?? '', node: v.node, logs: v.logs, preferDist: v['prefer-dist'], help: v.help };
}

async function main(): Promise<number> {
  let cfg: NodeAgentConfig;
  try {
    cfg = parseConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`node-agent: ${error.message}\n`);
    return 2;
  }
  if (cfg.help) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  const work = mkdtempSync(join(tmpdir(), 'ocr-node-agent-'));
  const agent = await startNodeAgent({
    kube: await connectKube(cfg.kubeconfig),
    nodeName: cfg.node,
    workDir: join(work, 'pods'),
    logsDir: cfg.logs ?? join(work, 'logs'),
    commands: { root: REPO_ROOT, prefer: cfg.preferDist ? 'dist' : 'src' },
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await agent.stop();
  return 0;
}

if (import.meta.main) {
  try {
    process.exitCode = await main();
  } catch (error) {
    process.stderr.write(`node-agent: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
