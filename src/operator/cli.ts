// Command-line flags for the operator, each with an environment-variable fallback (flag
// wins). Parsing is pure so it can be tested; main.ts does the I/O.
import { parseArgs } from 'node:util';
import { parsePollTiming, type PollTiming } from './scaling/schedule.ts';

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
  help: boolean;
}

interface Flag {
  name: string;
  env: string;
  type: 'string' | 'boolean';
  default: string;
  help: string;
}

export const FLAGS: Flag[] = [
  { name: 'kubeconfig', env: 'KUBECONFIG', type: 'string', default: '', help: 'Path to a kubeconfig. Empty: in-cluster config, else ~/.kube/config.' },
  { name: 'namespaces', env: 'OCR_OPERATOR_NAMESPACES', type: 'string', default: '', help: 'Comma-separated namespaces to watch. Empty: all namespaces.' },
  { name: 'metrics-addr', env: 'OCR_OPERATOR_METRICS_ADDR', type: 'string', default: '0.0.0.0:8080', help: 'host:port for /healthz, /readyz and /metrics.' },
  { name: 'leader-elect', env: 'OCR_OPERATOR_LEADER_ELECT', type: 'boolean', default: 'true', help: 'Elect a leader on a Lease so several replicas can run; only the leader reconciles.' },
  { name: 'leader-election-namespace', env: 'OCR_OPERATOR_LEADER_ELECTION_NAMESPACE', type: 'string', default: '', help: 'Namespace of the Lease. Empty: $POD_NAMESPACE, else "default".' },
  { name: 'leader-election-id', env: 'OCR_OPERATOR_LEADER_ELECTION_ID', type: 'string', default: 'ocr-platform-operator', help: 'Name of the Lease.' },
  { name: 'lease-duration', env: 'OCR_OPERATOR_LEASE_DURATION_SECONDS', type: 'string', default: '15', help: 'Seconds a standby waits after the last renewal before taking over.' },
  { name: 'renew-deadline', env: 'OCR_OPERATOR_RENEW_DEADLINE_SECONDS', type: 'string', default: '10', help: 'Seconds the leader keeps trying to renew before it steps down (< lease duration).' },
  { name: 'retry-period', env: 'OCR_OPERATOR_RETRY_PERIOD_SECONDS', type: 'string', default: '2', help: 'Seconds between Lease attempts (< renew deadline).' },
  { name: 'resync-seconds', env: 'OCR_OPERATOR_RESYNC_SECONDS', type: 'string', default: '300', help: 'Seconds between full re-reconciles of every pipeline.' },
  { name: 'concurrency', env: 'OCR_OPERATOR_CONCURRENCY', type: 'string', default: '4', help: 'Pipelines reconciled in parallel.' },
  { name: 'prometheus-url', env: 'OCR_PROMETHEUS_URL', type: 'string', default: '', help: 'Prometheus that scrapes the operator and workers. With it the backlog counts in-flight jobs from the workers, failing workers pause scale-up, and KEDA ScaledObjects query it. Empty: queue counters only, no ScaledObjects.' },
  { name: 'queue-poll', env: 'OCR_OPERATOR_QUEUE_POLL', type: 'string', default: '', help: 'Queue poll timing, key=value list in ms: idleMs (60000), busyMs (5000), backoffBaseMs, backoffMaxMs, statusRefreshMs, jitter (0.2).' },
  { name: 'log-level', env: 'LOG_LEVEL', type: 'string', default: 'info', help: 'trace, debug, info, warn, error or fatal.' },
  { name: 'help', env: '', type: 'boolean', default: 'false', help: 'Print this help and exit.' },
];

export function helpText(): string {
  const lines = FLAGS.map((f) => {
    const flag = `  --${f.name}${f.type === 'string' ? ' <value>' : ''}`;
    const meta = [f.env ? `env ${f.env}` : '', f.default !== '' && f.name !== 'help' ? `default ${f.default}` : ''].filter(Boolean).join(', ');
    return `${flag.padEnd(42)}${f.help}${meta ? ` (${meta})` : ''}`;
  });
  return [
    'ocr-platform operator: reconciles OcrPipelines into API and worker Deployments, Services, HPAs and PDBs.',
    '',
    'Usage: node src/operator/main.ts [flags]      (npm run operator -- [flags])',
    '',
    'Flags (each also read from the environment variable shown; a flag wins):',
    ...lines,
    '',
    'Booleans: --leader-elect or --leader-elect=false; env values true/false.',
  ].join('\n');
}

export class CliError extends Error {
  override name = 'CliError';
}

function seconds(name: string, raw: string, { min = 1, max = 86_400 } = {}): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new CliError(`--${name} must be a number of seconds between ${min} and ${max}, got "${raw}"`);
  return n;
}

function bool(name: string, raw: string): boolean {
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new CliError(`--${name} must be true or false, got "${raw}"`);
}

export function parseConfig(argv: string[], env: Record<string, string | undefined>): OperatorConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    // Booleans are parsed as strings so "--leader-elect=false" works.
    const options = Object.fromEntries(FLAGS.map((f) => [f.name, { type: 'string' as const }]));
    const normalized = argv.map((a) => (FLAGS.some((f) => f.type === 'boolean' && a === `--${f.name}`) ? `${a}=true` : a));
    values = parseArgs({ args: normalized, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new CliError(`${(err as Error).message}\nRun with --help for the list of flags.`);
  }
  const get = (name: string): string => {
    const f = FLAGS.find((x) => x.name === name);
    if (!f) throw new Error(`unknown flag ${name}`);
    const v = values[name];
    if (typeof v === 'string') return v;
    const e = f.env ? env[f.env] : undefined;
    return e !== undefined && e !== '' ? e : f.default;
  };

  const [host = '', portRaw = ''] = splitHostPort(get('metrics-addr'));
  const port = Number(portRaw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--metrics-addr must be host:port, got "${get('metrics-addr')}"`);

  const namespaces = get('namespaces').split(',').map((s) => s.trim()).filter(Boolean);
  const cfg: OperatorConfig = {
    kubeconfig: get('kubeconfig') || undefined,
    namespaces: namespaces.length ? namespaces : undefined,
    metricsHost: host || '0.0.0.0',
    metricsPort: port,
    leaderElect: bool('leader-elect', get('leader-elect')),
    leaderElectionNamespace: get('leader-election-namespace') || env.POD_NAMESPACE || 'default',
    leaderElectionId: get('leader-election-id'),
    leaseDurationMs: seconds('lease-duration', get('lease-duration')) * 1000,
    renewDeadlineMs: seconds('renew-deadline', get('renew-deadline')) * 1000,
    retryPeriodMs: seconds('retry-period', get('retry-period'), { min: 0.1 }) * 1000,
    resyncMs: seconds('resync-seconds', get('resync-seconds')) * 1000,
    concurrency: seconds('concurrency', get('concurrency'), { min: 1, max: 64 }),
    logLevel: get('log-level'),
    prometheusUrl: prometheusUrl(get('prometheus-url')),
    queuePoll: queuePoll(get('queue-poll')),
    help: bool('help', get('help')),
  };
  if (!Number.isInteger(cfg.concurrency)) throw new CliError(`--concurrency must be an integer, got "${get('concurrency')}"`);
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(cfg.logLevel)) throw new CliError(`--log-level must be one of trace, debug, info, warn, error, fatal; got "${cfg.logLevel}"`);
  if (cfg.renewDeadlineMs >= cfg.leaseDurationMs) throw new CliError('--renew-deadline must be shorter than --lease-duration');
  if (cfg.retryPeriodMs >= cfg.renewDeadlineMs) throw new CliError('--retry-period must be shorter than --renew-deadline');
  return cfg;
}

function prometheusUrl(raw: string): string | undefined {
  if (!raw) return undefined;
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    return raw;
  } catch {
    throw new CliError(`--prometheus-url must be an http(s) URL such as http://prometheus.monitoring:9090, got "${raw}"`);
  }
}

function queuePoll(raw: string): PollTiming {
  try {
    return parsePollTiming(raw);
  } catch (err) {
    throw new CliError(`--queue-poll: ${(err as Error).message}`);
  }
}

function splitHostPort(addr: string): [string, string] {
  const i = addr.lastIndexOf(':');
  return i < 0 ? ['', addr] : [addr.slice(0, i).replace(/^\[|\]$/g, ''), addr.slice(i + 1)];
}
