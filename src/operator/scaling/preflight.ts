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

/** Maps a failed read of the runtime counters (or the queue description) to a finding. */
export function classifyReadError(error: unknown, q: QueueRef): QueueFinding {
  const e = fields(error);
  const code = typeof e.code === 'string' ? e.code : '';
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const name = typeof e.name === 'string' ? e.name : '';
  const detail = scrub(typeof e.message === 'string' ? e.message : String(error));

  if (code === 'MessageEntityNotFoundError' || status === 404) {
    return { reason: REASON.queueNotFound, throttled: false, message: `The ${where(q)} does not exist. Create it, or fix spec.queue.serviceBus.queueName.` };
  }
  if (code === 'UnauthorizedRequestError' || status === 401 || (status === 403 && code !== 'QuotaExceededError')) {
    const fix =
      q.auth === 'connectionString'
        ? 'Reading queue counters needs the Manage right: use a connection string from a shared access policy with Manage (a Listen or Send policy is not enough).'
        : 'Reading queue counters needs the Manage right: grant the operator\'s identity the "Azure Service Bus Data Owner" role on the namespace or queue.';
    return { reason: REASON.insufficientRights, throttled: false, message: `Not allowed to read the counters of the ${where(q)}. ${fix} (${detail})` };
  }
  if (name === 'CredentialUnavailableError' || name === 'AuthenticationError' || name === 'AggregateAuthenticationError') {
    return {
      reason: REASON.authenticationFailed,
      throttled: false,
      message: `Workload identity could not get a token for ${q.endpoint}: check the operator's ServiceAccount annotation azure.workload.identity/client-id and the federated credential's subject. (${detail})`,
    };
  }
  if (code === 'ServerBusyError' || status === 429 || status === 503 || /no CountDetails|throttl|server busy/i.test(detail)) {
    return {
      reason: REASON.throttled,
      throttled: true,
      message: `Service Bus throttles reads on ${q.endpoint}; the operator backs off and retries. A higher tier, fewer pipelines per namespace, or a longer idle interval helps. (${detail})`,
    };
  }
  const net = networkCode(error);
  if (net !== undefined || code === 'REQUEST_SEND_ERROR') {
    return {
      reason: REASON.namespaceUnreachable,
      throttled: false,
      message: `Cannot reach the Service Bus namespace ${q.endpoint} (${net ?? 'request not sent'}). Check the endpoint, DNS and network policy for the operator; workers hold their current count meanwhile.`,
    };
  }
  return { reason: REASON.readFailed, throttled: false, message: `Reading the counters of the ${where(q)} failed: ${detail}` };
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
