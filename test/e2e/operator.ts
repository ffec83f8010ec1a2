// The operator as a process, exactly as the chart would run it: the chart's own flags
// (read back from the installed Deployment) and nothing but the chart's ServiceAccount
// token for credentials, so the chart's RBAC is what the e2e run exercises. Only the
// script (sources instead of dist/) and the listen address (a free loopback port instead
// of the pod's :8080) differ. Used on the local control plane, whose kwok nodes never run
// the operator pods (E2E_OPERATOR=process). test/chart/operator-rbac.test.ts does the same.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { readFile } from 'node:fs/promises';
import { freePort } from '../support/ports.ts';
import { ROOT, type Cli, type Json } from './harness.ts';

export interface OperatorProcess {
  metricsPort: number;
  readonly exited: boolean;
  /** The last lines of its log, for failure messages. */
  tail(lines?: number): string;
  /** Log lines mentioning a refused request (the chart's RBAC would be too tight). */
  forbidden(): string[];
  stop(): Promise<void>;
}

/** A kubeconfig for the same API server that authenticates with a ServiceAccount token only. */
export async function serviceAccountKubeconfig(k: Cli, namespace: string, serviceAccount: string, file: string): Promise<string> {
  const admin = parse(await readFile(k.kubeconfig, 'utf8'));
  const context = admin.contexts.find((c: Json) => c.name === admin['current-context']) ?? admin.contexts[0];
  const cluster = (admin.clusters.find((c: Json) => c.name === context.context.cluster) ?? admin.clusters[0]).cluster;
  const token = (await k.kubectl(['create', 'token', serviceAccount, '-n', namespace, '--duration', '1h'])).trim();
  await writeFile(file, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'operator',
    clusters: [{ name: 'e2e', cluster }],
    users: [{ name: 'operator', user: { token } }],
    contexts: [{ name: 'operator', context: { cluster: 'e2e', user: 'operator', namespace } }],
  }), { mode: 0o600 });
  return file;
}

/** The chart's operator flags with the listen address moved to a loopback port. */
export function processFlags(chartArgs: readonly string[], metricsPort: number): string[] {
  const flags = chartArgs.filter((a) => a.startsWith('--'));
  if (!flags.some((a) => a.startsWith('--metrics-addr='))) throw new Error(`the chart's operator args have no --metrics-addr: ${chartArgs.join(' ')}`);
  return flags.map((a) => (a.startsWith('--metrics-addr=') ? `--metrics-addr=127.0.0.1:${metricsPort}` : a));
}

export async function startOperatorAsChart(o: { k: Cli; namespace: string; deployment: string; workDir: string }): Promise<OperatorProcess> {
  const deployment = await o.k.json(['get', 'deployment', o.deployment, '-n', o.namespace]);
  const container = deployment.spec.template.spec.containers[0];
  const serviceAccount: string = deployment.spec.template.spec.serviceAccountName;
  const metricsPort = await freePort();
  const kubeconfig = await serviceAccountKubeconfig(o.k, o.namespace, serviceAccount, join(o.workDir, 'operator.kubeconfig'));
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'src', 'operator', 'main.ts'), ...processFlags(container.args, metricsPort)], {
    cwd: ROOT,
    // POD_NAMESPACE as the chart's downward API sets it: the Lease lives there
    env: { ...process.env, KUBECONFIG: kubeconfig, POD_NAMESPACE: o.namespace },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  const keep = (chunk: Buffer) => {
    log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (log.length > 3_000) log.splice(0, log.length - 3_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  return {
    metricsPort,
    get exited() { return exited; },
    tail: (n = 25) => log.slice(-n).join('\n'),
    forbidden: () => log.filter((line) => /forbidden|\b403\b/i.test(line)),
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
