// The operator process (loaded by main.ts once source maps are set up): parse flags, start the probe/metrics server, elect a leader, and
// run the controller while leading. SIGTERM/SIGINT: stop informers and the queue, release
// the Lease, exit 0. Losing the Lease exits 1 so the pod restarts as a clean standby
// (controller-runtime does the same): a process that might still hold stale state must
// not keep writing.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createLogger, type Logger } from '../shared/logger.ts';
import { alive, createProbeServer, listen, metrics as metricsRoute, readiness } from '../shared/probe-server.ts';
import { handleShutdown } from '../shared/shutdown.ts';
import { CliError, helpText, parseConfig, type OperatorConfig } from './cli.ts';
import { Controller } from './controller.ts';
import { leaseApi } from './kube.ts';
import { KubeClient } from './kube-http/client.ts';
import { KubeconfigError, loadClusterAccess } from './kube-http/kubeconfig.ts';
import { LeaderElector } from './leader.ts';
import { createMetrics, type OperatorMetrics } from './metrics.ts';
import { adminClient, defaultQueueReader, loadWorkloadIdentity } from './scaling/client.ts';
import { BACKLOG_PATH, backlogRoute } from './backlog-route.ts';

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Flags and environment; a usage error prints it and exits 2. */
function configOrExit(): OperatorConfig {
  try {
    return parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof CliError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * The API server client: one connection pool, request timeouts and 429/5xx retries for every
 * call and watch (kube-http/client.ts). A kubeconfig that cannot be used (none, or a user that
 * needs an exec plugin) prints why and exits 2, like a usage error.
 */
function kubeClient(path: string | undefined, metrics: OperatorMetrics, log: Logger): KubeClient {
  try {
    const access = loadClusterAccess(path, process.env);
    log.info({ source: access.source }, 'Loaded the cluster configuration');
    return new KubeClient(access, { log, observe: (verb, resource, status) => metrics.apiRequests.inc({ verb, resource, code: String(status) }) });
  } catch (err) {
    if (!(err instanceof KubeconfigError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
}

/**
 * Serves /healthz, /readyz and /metrics. A standby is ready (it is healthy, just waiting);
 * a leader once its caches synced.
 * @param elector the leader elector once there is one; undefined without leader election
 */
async function serveProbes(
  cfg: OperatorConfig,
  controller: Controller,
  metrics: OperatorMetrics,
  elector: () => LeaderElector | undefined,
  log: Logger,
): Promise<Server> {
  const server = createProbeServer(
    {
      '/healthz': alive,
      '/readyz': readiness(
        () => {
          const e = elector();
          return e ? !e.leading || controller.synced : controller.synced;
        },
        (ok) => (ok ? 'ok\n' : 'caches not synced\n'),
      ),
      '/metrics': metricsRoute(metrics.registry),
      // Queue backlog per pipeline, from the gauges above, for the API's admission by backlog (spec.api.maxBacklog).
      [BACKLOG_PATH]: backlogRoute(metrics.registry),
    },
    'not found\n',
  );
  await listen(server, cfg.metricsPort, cfg.metricsHost);
  log.info({ addr: server.address() }, 'Serving /healthz, /readyz and /metrics');
  return server;
}

/** Competes for the Lease; runs startController while leading. Losing the Lease exits 1 (see the top of this file). */
function leaderElector(client: KubeClient, cfg: OperatorConfig, metrics: OperatorMetrics, log: Logger, startController: () => void): LeaderElector {
  const identity = `${hostname()}_${randomUUID().slice(0, 8)}`;
  const elector = new LeaderElector(
    leaseApi(client),
    {
      namespace: cfg.leaderElectionNamespace,
      name: cfg.leaderElectionId,
      identity,
      leaseDurationMs: cfg.leaseDurationMs,
      renewDeadlineMs: cfg.renewDeadlineMs,
      retryPeriodMs: cfg.retryPeriodMs,
    },
    log,
    {
      onStartedLeading: startController,
      onStoppedLeading: () => {
        metrics.leader.set(0);
        log.error('Lost the leader Lease; exiting so a fresh process can stand by');
        process.exit(1);
      },
    },
  );
  log.info({ identity, lease: `${cfg.leaderElectionNamespace}/${cfg.leaderElectionId}` }, 'Waiting for the leader Lease');
  return elector;
}

async function main(): Promise<void> {
  const cfg = configOrExit();
  if (cfg.help) {
    console.log(helpText());
    return;
  }

  const log = createLogger('operator', cfg.logLevel);
  const metrics = createMetrics(version());
  const client = kubeClient(cfg.kubeconfig, metrics, log);
  log.info(
    {
      server: client.server,
      namespaces: cfg.namespaces ?? 'all',
      leaderElect: cfg.leaderElect,
      concurrency: cfg.concurrency,
      serviceBusSuffixes: cfg.egress.suffixes,
      allowDevelopmentEmulator: cfg.egress.allowDevelopmentEmulator,
    },
    'Starting operator',
  );

  // @azure/identity only when the pod has workload identity (scaling/client.ts says what it costs).
  await loadWorkloadIdentity(process.env);
  const controller = new Controller({
    client,
    namespaces: cfg.namespaces,
    resyncMs: cfg.resyncMs,
    concurrency: cfg.concurrency,
    metrics,
    log,
    // The operator's own namespace and pod port: pipelines' NetworkPolicies let their API pods reach it (network-policy.ts).
    ...(cfg.backlogUrl ? { backlog: { url: cfg.backlogUrl, namespace: cfg.leaderElectionNamespace, port: cfg.metricsPort } } : {}),
    scaling: {
      prometheusUrl: cfg.prometheusUrl,
      timing: cfg.queuePoll,
      egress: cfg.egress,
      readerFor: (cred) => defaultQueueReader(cred, process.env),
      queueAdminFor: adminClient,
    },
  });
  let elector: LeaderElector | undefined; // eslint-disable-line prefer-const -- assigned after the server starts
  const server = await serveProbes(cfg, controller, metrics, () => elector, log);

  const startController = () => {
    metrics.leader.set(1);
    controller.start().catch((err: unknown) => {
      log.fatal({ err }, 'Failed to start the controller');
      process.exit(1);
    });
  };

  handleShutdown({
    log,
    // within the chart's terminationGracePeriodSeconds (default 30 s)
    forceExitAfterMs: 25_000,
    stop: async () => {
      await controller.stop();
      await elector?.stop();
      metrics.leader.set(0);
      await new Promise((r) => server.close(r));
      server.closeAllConnections();
    },
  });

  if (!cfg.leaderElect) {
    startController();
    return;
  }
  elector = leaderElector(client, cfg, metrics, log, startController);
  elector.start();
}

await main();
