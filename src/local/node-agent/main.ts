// `npm run node-agent -- [--kubeconfig FILE] [--node NAME] [--logs DIR] [--prefer-dist]`:
// runs the local node agent on its own, against any cluster whose pods may run here
// (`npm start` runs it for you). Ctrl-C stops every pod process and removes the Node.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectKube } from '../kube.ts';
import { DEFAULT_NODE_NAME, LOCAL_AGENT_LABEL, startNodeAgent } from './agent.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const HELP = `Local node agent: registers Node ${DEFAULT_NODE_NAME} (label ${LOCAL_AGENT_LABEL}=true)
and runs the pods scheduled to it as host processes of this checkout.

usage: npm run node-agent -- [flags]
  --kubeconfig FILE   cluster to join (default: $KUBECONFIG)
  --node NAME         node name (default: ${DEFAULT_NODE_NAME})
  --logs DIR          container logs (default: a new temp dir, printed)
  --prefer-dist       run dist/*.js when built instead of src/*.ts
  -h, --help`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      node: { type: 'string' },
      logs: { type: 'string' },
      'prefer-dist': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG;
  if (!kubeconfig) {
    process.stderr.write('node-agent: no cluster: pass --kubeconfig FILE or set KUBECONFIG (npm start does both for you)\n');
    return 2;
  }
  const work = mkdtempSync(join(tmpdir(), 'ocr-node-agent-'));
  const agent = await startNodeAgent({
    kube: await connectKube(kubeconfig),
    ...(values.node ? { nodeName: values.node } : {}),
    workDir: join(work, 'pods'),
    logsDir: values.logs ?? join(work, 'logs'),
    commands: { root: REPO_ROOT, prefer: values['prefer-dist'] ? 'dist' : 'src' },
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
