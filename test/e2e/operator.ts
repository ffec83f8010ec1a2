// The operator as a process, exactly as the chart would run it: the chart's own flags
// (read back from the installed Deployment) and nothing but the chart's ServiceAccount
// token for credentials, so the chart's RBAC is what the e2e run exercises. Only the
// script (sources instead of dist/) and the listen address (a free loopback port instead
// of the pod's :8080) differ. Used on the local control plane, whose kwok nodes never run
// the operator pods (E2E_OPERATOR=process). test/chart/operator-rbac.test.ts does the same.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { readFile } from 'node:fs/promises';
import { startOperatorProcess } from '../support/operator-process.ts';
import { type Cli, type Json } from './harness.ts';

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
  await writeFile(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'operator',
      clusters: [{ name: 'e2e', cluster }],
      users: [{ name: 'operator', user: { token } }],
      contexts: [{ name: 'operator', context: { cluster: 'e2e', user: 'operator', namespace } }],
    }),
    { mode: 0o600 },
  );
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
  const kubeconfig = await serviceAccountKubeconfig(o.k, o.namespace, serviceAccount, join(o.workDir, 'operator.kubeconfig'));
  const proc = await startOperatorProcess({
    kubeconfigPath: kubeconfig,
    namespaces: [],
    // the chart's flags, checked for --metrics-addr (startOperatorProcess moves it to a free loopback port)
    flags: processFlags(container.args, 0),
    // POD_NAMESPACE as the chart's downward API sets it: the Lease lives there
    env: { POD_NAMESPACE: o.namespace },
    waitReady: false,
    keepLines: 3_000,
    stopGraceMs: 15_000,
  });
  return {
    metricsPort: proc.metricsPort,
    get exited() {
      return proc.exited;
    },
    tail: (n = 25) => proc.tail(n),
    forbidden: () => proc.logLines().filter((line) => /forbidden|\b403\b/i.test(line)),
    stop: () => proc.stop(),
  };
}
