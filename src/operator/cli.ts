// Command-line flags for the operator, each with an environment-variable fallback (flag
// wins). One table (FLAGS) drives both --help and the pure parser in src/shared/config.ts;
// main.ts does the I/O.
import { PORTS } from '../contract/container.ts';
import { ConfigError, helpText as renderHelp, logLevelSetting, parseSettings, type Env, type Setting } from '../shared/config.ts';
import { egressPolicy, type EgressPolicy } from './scaling/egress.ts';
import { parsePollTiming, type PollTiming } from './scaling/schedule.ts';

/** The operator's configuration errors are the platform's ConfigError (main.ts exits 2 on them). */
export { ConfigError as CliError } from '../shared/config.ts';

export interface OperatorConfig {
  kubeconfig: string | undefined;
  namespaces: string[] | undefined;
  metricsHost: string;
  metricsPort: number;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  resyncMs: number;
  concurrency: number;
  logLevel: string;
  /** Prometheus the operator queries for the workers' in-flight jobs and failure ratio; KEDA triggers query it too. */
  prometheusUrl: string | undefined;
  /** Queue poll timing overrides (src/operator/scaling/schedule.ts). */
  queuePoll: PollTiming;
  /** Where API pods read their pipeline's backlog on this operator (GET /v1/backlog, backlog-route.ts); undefined: spec.api.maxBacklog has no effect. */
  backlogUrl: string | undefined;
  /** Which Service Bus namespaces the queue poller may contact (--servicebus-suffixes, --allow-development-emulator). */
  egress: EgressPolicy;
  help: boolean;
}

/** Lease timings, in seconds: at least 1 s (retry period 0.1 s), at most a day. */
const SECONDS = { type: 'number', min: 1, max: 86_400, unit: 'seconds' } as const;

export const FLAGS = [
  { name: 'kubeconfig', env: 'KUBECONFIG', type: 'string', help: 'Path to a kubeconfig. Empty: in-cluster config, else ~/.kube/config.' },
  { name: 'namespaces', env: 'OCR_OPERATOR_NAMESPACES', type: 'list', default: [], help: 'Comma-separated namespaces to watch. Empty: all namespaces.' },
  {
    name: 'metrics-addr',
    env: 'OCR_OPERATOR_METRICS_ADDR',
    type: 'string',
    default: `0.0.0.0:${PORTS.operator}`,
    help: 'host:port for /healthz, /readyz and /metrics.',
  },
  {
    name: 'leader-elect',
    env: 'OCR_OPERATOR_LEADER_ELECT',
    type: 'boolean',
    default: true,
    help: 'Elect a leader on a Lease so several replicas can run; only the leader reconciles.',
  },
  {
    name: 'leader-election-namespace',
    env: 'OCR_OPERATOR_LEADER_ELECTION_NAMESPACE',
    fallbackEnv: 'POD_NAMESPACE',
    type: 'string',
    default: 'default',
    help: 'Namespace of the Lease.',
  },
  { name: 'leader-election-id', env: 'OCR_OPERATOR_LEADER_ELECTION_ID', type: 'string', default: 'ocr-platform-operator', help: 'Name of the Lease.' },
  {
    name: 'lease-duration',
    env: 'OCR_OPERATOR_LEASE_DURATION_SECONDS',
    ...SECONDS,
    default: 15,
    help: 'Seconds a standby waits after the last renewal before taking over.',
  },
  {
    name: 'renew-deadline',
    env: 'OCR_OPERATOR_RENEW_DEADLINE_SECONDS',
    ...SECONDS,
    default: 10,
    help: 'Seconds the leader keeps trying to renew before it steps down (< lease duration).',
  },
  {
    name: 'retry-period',
    env: 'OCR_OPERATOR_RETRY_PERIOD_SECONDS',
    ...SECONDS,
    min: 0.1,
    default: 2,
    help: 'Seconds between Lease attempts (< renew deadline).',
  },
  {
    name: 'resync-seconds',
    env: 'OCR_OPERATOR_RESYNC_SECONDS',
    ...SECONDS,
    default: 36_000,
    help:
      'Seconds between full re-reconciles of every pipeline (±10 %, spread over a tenth of the period), a safety net for drift no watch reported; ' +
      'unchanged pipelines cost no writes. Default 10 h, as controller-runtime.',
  },
  {
    name: 'concurrency',
    env: 'OCR_OPERATOR_CONCURRENCY',
    type: 'integer',
    min: 1,
    max: 64,
    default: 8,
    help: 'Pipelines reconciled in parallel (8: the fastest of 2, 4 and 8 at 1,000 pipelines in bench/operator/RESULTS.md).',
  },
  {
    name: 'prometheus-url',
    env: 'OCR_PROMETHEUS_URL',
    type: 'string',
    help:
      'Prometheus that scrapes the operator and workers. With it the backlog counts in-flight jobs from the workers, failing workers pause scale-up, ' +
      'and KEDA ScaledObjects query it. Empty: queue counters only, no ScaledObjects.',
  },
  {
    name: 'backlog-url',
    env: 'OCR_OPERATOR_BACKLOG_URL',
    type: 'string',
    help:
      "This operator's /v1/backlog as API pods reach it (the chart: http://<release>-metrics.<namespace>.svc:<port>/v1/backlog). " +
      'API pods of pipelines with spec.api.maxBacklog read their queue backlog there. Empty: spec.api.maxBacklog has no effect.',
  },
  {
    name: 'queue-poll',
    env: 'OCR_OPERATOR_QUEUE_POLL',
    type: 'string',
    help: 'Queue poll timing, key=value list in ms: idleMs (60000), busyMs (5000), backoffBaseMs, backoffMaxMs, statusRefreshMs, jitter (0.2), activityMs (1000; 0 = off).',
  },
  {
    name: 'servicebus-suffixes',
    env: 'OCR_OPERATOR_SERVICEBUS_SUFFIXES',
    type: 'list',
    default: [],
    help:
      'Comma-separated DNS suffixes a Service Bus namespace may end in, besides .servicebus.windows.net, .servicebus.usgovcloudapi.net and ' +
      '.servicebus.chinacloudapi.cn. The operator sends nothing (its token included) to other hosts.',
  },
  {
    name: 'allow-development-emulator',
    env: 'OCR_OPERATOR_ALLOW_DEVELOPMENT_EMULATOR',
    type: 'boolean',
    default: false,
    help: 'Honour UseDevelopmentEmulator=true connection strings (plain HTTP to any host:port). For local development only.',
  },
  { ...logLevelSetting(), name: 'log-level' },
  { name: 'help', env: '', type: 'boolean', default: false, help: 'Print this help and exit.' },
] as const satisfies readonly Setting[];

export function helpText(): string {
  return renderHelp(FLAGS, {
    intro: [
      'ocr-platform operator: reconciles OcrPipelines into API and worker Deployments, Services, HPAs and PDBs.',
      '',
      'Usage: node src/operator/main.ts [flags]      (npm run operator -- [flags])',
    ],
    flags: true,
    footer: ['Booleans: --leader-elect or --leader-elect=false; env values true/false.'],
  });
}

/** Pure: parses argv and `env` (main passes process.argv and process.env); throws ConfigError naming the flag or variable. */
export function parseConfig(argv: string[], env: Env): OperatorConfig {
  const v = parseSettings(FLAGS, env, argv);
  const addr = v['metrics-addr'];
  const [host = '', portRaw = ''] = splitHostPort(addr);
  const port = portRaw.trim() === '' ? NaN : Number(portRaw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--metrics-addr must be host:port, got "${addr}"`);

  const cfg: OperatorConfig = {
    kubeconfig: v.kubeconfig,
    namespaces: v.namespaces.length ? v.namespaces : undefined,
    metricsHost: host || '0.0.0.0',
    metricsPort: port,
    leaderElect: v['leader-elect'],
    leaderElectionNamespace: v['leader-election-namespace'],
    leaderElectionId: v['leader-election-id'],
    leaseDurationMs: v['lease-duration'] * 1000,
    renewDeadlineMs: v['renew-deadline'] * 1000,
    retryPeriodMs: v['retry-period'] * 1000,
    resyncMs: v['resync-seconds'] * 1000,
    concurrency: v.concurrency,
    logLevel: v['log-level'],
    prometheusUrl: prometheusUrl(v['prometheus-url']),
    queuePoll: queuePoll(v['queue-poll']),
    backlogUrl: httpUrl('--backlog-url', v['backlog-url'], 'http://ocr-platform-metrics.ocr-system.svc:8080/v1/backlog'),
    egress: egress(v['servicebus-suffixes'], v['allow-development-emulator']),
    help: v.help,
  };
  if (cfg.renewDeadlineMs >= cfg.leaseDurationMs) throw new ConfigError('--renew-deadline must be shorter than --lease-duration');
  if (cfg.retryPeriodMs >= cfg.renewDeadlineMs) throw new ConfigError('--retry-period must be shorter than --renew-deadline');
  return cfg;
}

function prometheusUrl(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    return raw;
  } catch {
    throw new ConfigError(`--prometheus-url must be an http(s) URL such as http://prometheus.monitoring:9090, got "${raw}"`);
  }
}

function httpUrl(flag: string, raw: string | undefined, example: string): string | undefined {
  if (!raw) return undefined;
  if (!URL.canParse(raw) || !/^https?:$/.test(new URL(raw).protocol)) throw new ConfigError(`${flag} must be an http(s) URL such as ${example}, got "${raw}"`);
  return raw;
}

function queuePoll(raw: string | undefined): PollTiming {
  try {
    return parsePollTiming(raw);
  } catch (err) {
    throw new ConfigError(`--queue-poll: ${(err as Error).message}`);
  }
}

function egress(suffixes: string[], allowDevelopmentEmulator: boolean): EgressPolicy {
  try {
    return egressPolicy(suffixes, allowDevelopmentEmulator);
  } catch (err) {
    throw new ConfigError(`--servicebus-suffixes: ${(err as Error).message}`);
  }
}

function splitHostPort(addr: string): [string, string] {
  const i = addr.lastIndexOf(':');
  return i < 0 ? ['', addr] : [addr.slice(0, i).replace(/^\[|\]$/g, ''), addr.slice(i + 1)];
}
