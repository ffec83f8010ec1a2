// Checks before scaling on a queue: it exists, it lets workers receive, and the
// credentials may read its counters. Each failure becomes QueueReachable=False with a
// reason a person can act on (keda#5712 scaled to max on a ReceiveDisabled entity;
// ACA#1138 / keda#215 failed silently on a Listen-only key). Pure: errors in, findings out.
import type { QueueProblem } from '../conditions/checks.ts';
import { REASON } from '../conditions/reasons.ts';

export interface QueueFinding extends QueueProblem {
  /** The service asked us to slow down: back off longer than for other failures. */
  throttled: boolean;
}

export interface QueueRef {
  /** Service Bus namespace host, e.g. contoso.servicebus.windows.net (never a secret). */
  endpoint: string;
  queueName: string;
  /** How the operator authenticates: 'connection string' or 'workload identity'. */
  auth: 'connectionString' | 'workloadIdentity';
}

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  cause?: unknown;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

function fields(error: unknown): ErrorLike {
  return error !== null && typeof error === 'object' ? error : { message: String(error) };
}

/** The first network error code on the error or its causes (RestError wraps it as REQUEST_SEND_ERROR). */
function networkCode(error: unknown, depth = 0): string | undefined {
  const e = fields(error);
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  if (typeof e.message === 'string') {
    const m = /\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)\b/.exec(e.message);
    if (m) return m[1];
  }
  return depth < 3 && e.cause !== undefined ? networkCode(e.cause, depth + 1) : undefined;
}

/** Keeps a service message short and free of anything that looks like a key or signature. */
export function scrub(message: string): string {
  return message
    .replace(/(SharedAccessKey|SharedAccessSignature|sig|AccountKey)=[^;&\s]+/gi, '$1=<redacted>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

const where = (q: QueueRef): string => `queue "${q.queueName}" on ${q.endpoint}`;

/** A failed read's fields, read once for the classification rows. */
interface ReadError {
  code: string;
  status: number | undefined;
  name: string;
  /** The error message, scrubbed (scrub()). */
  detail: string;
  /** The first network error code on the error or its causes. */
  network: string | undefined;
}

function readError(error: unknown): ReadError {
  const e = fields(error);
  return {
    code: typeof e.code === 'string' ? e.code : '',
    status: typeof e.statusCode === 'number' ? e.statusCode : undefined,
    name: typeof e.name === 'string' ? e.name : '',
    detail: scrub(typeof e.message === 'string' ? e.message : String(error)),
    network: networkCode(error),
  };
}

/** One classification: when test matches a failed read, it becomes reason with message. */
interface ReadErrorRule {
  test: (e: ReadError) => boolean;
  reason: QueueFinding['reason'];
  throttled: boolean;
  message: (e: ReadError, q: QueueRef) => string;
}

const AUTHENTICATION_ERRORS = new Set(['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError']);

const MANAGE_RIGHT_FIX = {
  connectionString:
    'Reading queue counters needs the Manage right: use a connection string from a shared access policy with Manage (a Listen or Send policy is not enough).',
  workloadIdentity:
    'Reading queue counters needs the Manage right: grant the operator\'s identity the "Azure Service Bus Data Owner" role on the namespace or queue.',
} as const;

/** First matching row wins; a read that matches none is readFailed. */
const READ_ERROR_RULES: ReadErrorRule[] = [
  {
    test: (e) => e.code === 'MessageEntityNotFoundError' || e.status === 404,
    reason: REASON.queueNotFound,
    throttled: false,
    message: (_e, q) => `The ${where(q)} does not exist. Create it, or fix spec.queue.serviceBus.queueName.`,
  },
  {
    // A 403 for an exceeded quota is not a missing right.
    test: (e) => e.code === 'UnauthorizedRequestError' || e.status === 401 || (e.status === 403 && e.code !== 'QuotaExceededError'),
    reason: REASON.insufficientRights,
    throttled: false,
    message: (e, q) => `Not allowed to read the counters of the ${where(q)}. ${MANAGE_RIGHT_FIX[q.auth]} (${e.detail})`,
  },
  {
    test: (e) => AUTHENTICATION_ERRORS.has(e.name),
    reason: REASON.authenticationFailed,
    throttled: false,
    message: (e, q) =>
      `Workload identity could not get a token for ${q.endpoint}: check the operator's ServiceAccount annotation azure.workload.identity/client-id and the federated credential's subject. (${e.detail})`,
  },
  {
    test: (e) => e.code === 'ServerBusyError' || e.status === 429 || e.status === 503 || /no CountDetails|throttl|server busy/i.test(e.detail),
    reason: REASON.throttled,
    throttled: true,
    message: (e, q) =>
      `Service Bus throttles reads on ${q.endpoint}; the operator backs off and retries. A higher tier, fewer pipelines per namespace, or a longer idle interval helps. (${e.detail})`,
  },
  {
    test: (e) => e.network !== undefined || e.code === 'REQUEST_SEND_ERROR',
    reason: REASON.namespaceUnreachable,
    throttled: false,
    message: (e, q) =>
      `Cannot reach the Service Bus namespace ${q.endpoint} (${e.network ?? 'request not sent'}). Check the endpoint, DNS and network policy for the operator; workers hold their current count meanwhile.`,
  },
];

/** Maps a failed read of the runtime counters (or the queue description) to a finding. */
export function classifyReadError(error: unknown, q: QueueRef): QueueFinding {
  const e = readError(error);
  const rule = READ_ERROR_RULES.find((r) => r.test(e));
  if (!rule) return { reason: REASON.readFailed, throttled: false, message: `Reading the counters of the ${where(q)} failed: ${e.detail}` };
  return { reason: rule.reason, throttled: rule.throttled, message: rule.message(e, q) };
}

/**
 * status is QueueProperties.status: Active, Disabled, ReceiveDisabled, SendDisabled, Creating, ...
 * A queue workers cannot receive from must not drive scale-up: more idle pods help nobody. */
export function checkQueueStatus(status: string | undefined, q: QueueRef): QueueFinding | undefined {
  if (status === undefined || status === 'Active' || status === 'SendDisabled') return undefined;
  if (status === 'ReceiveDisabled') {
    return {
      reason: REASON.queueReceiveDisabled,
      throttled: false,
      message: `The ${where(q)} is ReceiveDisabled: workers cannot receive, so the operator does not scale them up. Set the queue's status to Active.`,
    };
  }
  return {
    reason: REASON.queueDisabled,
    throttled: false,
    message: `The ${where(q)} is ${status}: workers cannot receive, so the operator does not scale them up. Set the queue's status to Active.`,
  };
}
