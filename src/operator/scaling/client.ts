// Reading a queue's counters and status with the real ServiceBusAdministrationClient (ATOM
// over HTTPS), with a connection string from the pipeline's Secret or with workload
// identity. The poller talks to the small QueueReader interface, so its timing logic does
// not depend on the SDK.
import { createHash } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { ServiceBusAdministrationClient } from '@azure/service-bus';
import { parseConnectionString } from '../../jobs/connection-string.ts';
import type { Env } from '../../shared/config.ts';
import { emulatorHttpPolicy, isDevelopmentEmulator } from '../../shared/emulator-http.ts';
import type { QueueCounts } from './signal.ts';

export type QueueCredential = { kind: 'connectionString'; connectionString: string } | { kind: 'workloadIdentity'; namespace: string };

export interface QueueReader {
  counts(queueName: string): Promise<QueueCounts>;
  /** QueueProperties.status: Active, ReceiveDisabled, Disabled, ... */
  status(queueName: string): Promise<string>;
}

/** The namespace host a credential points at, e.g. contoso.servicebus.windows.net (or 127.0.0.1:5300 locally). */
export function endpointOf(cred: QueueCredential): string {
  if (cred.kind === 'workloadIdentity') return cred.namespace.toLowerCase();
  const endpoint = parseConnectionString(cred.connectionString).Endpoint;
  if (!endpoint) throw new InvalidConnectionStringError('the connection string has no Endpoint=sb://<namespace>/ part');
  try {
    return new URL(endpoint).host.toLowerCase();
  } catch {
    throw new InvalidConnectionStringError(`the connection string's Endpoint is not a URL (expected sb://<namespace>.servicebus.windows.net/)`);
  }
}

/**
 * One poller per namespace *and credential*: two pipelines on one namespace with different
 * Secrets get separate pollers, so one tenant's key never reads for another's pipeline.
 * The key holds a hash of the connection string, never the string itself.
 */
export function pollerKey(cred: QueueCredential): string {
  const endpoint = endpointOf(cred);
  if (cred.kind === 'workloadIdentity') return `${endpoint}#workload-identity`;
  return `${endpoint}#${createHash('sha256').update(cred.connectionString).digest('hex').slice(0, 12)}`;
}

export class InvalidConnectionStringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidConnectionStringError';
  }
}

let identity: TokenCredential | undefined;

/**
 * Loads @azure/identity and builds the workload identity credential, only when the pod has
 * workload identity (main calls this at start). The package is loaded on demand because most
 * operators never use it: it cost 7.6 MiB RSS and 4.5 MiB V8 heap after a forced GC on top of
 * the operator's other dependencies (node 24.21, measured 2026-12-02, issue 14).
 */
export async function loadWorkloadIdentity(env: Env): Promise<void> {
  if (identity || !hasWorkloadIdentity(env)) return;
  const { DefaultAzureCredential } = await import('@azure/identity');
  identity ??= new DefaultAzureCredential();
}

/** Without workload identity every token request fails with what is missing, so a read or update names the cause. */
const noIdentityCredential: TokenCredential = {
  getToken: () => Promise.reject(noIdentityError()),
};

/**
 * The SDK (7.9.x) always speaks https to the Endpoint's host:port. Local stand-ins and
 * Microsoft's emulator mark their connection strings UseDevelopmentEmulator=true and serve
 * ATOM over plain http; a pipeline policy (src/shared/emulator-http.ts) flips the scheme for them only.
 */
export function adminClient(cred: QueueCredential): ServiceBusAdministrationClient {
  let client: ServiceBusAdministrationClient;
  if (cred.kind === 'workloadIdentity') {
    client = new ServiceBusAdministrationClient(cred.namespace, identity ?? noIdentityCredential);
  } else {
    endpointOf(cred); // validates before the SDK throws something vaguer
    client = new ServiceBusAdministrationClient(cred.connectionString);
    if (isDevelopmentEmulator(cred.connectionString)) client.pipeline.addPolicy(emulatorHttpPolicy());
  }
  // The poller has its own jittered backoff; the SDK's retries would only hide failures
  // for seconds and multiply the load on a throttled namespace.
  client.pipeline.removePolicy({ phase: 'Retry' });
  return client;
}

/**
 * Workload identity is usable when the Azure Workload Identity webhook injected its
 * variables into the operator pod. Without them DefaultAzureCredential would probe other
 * sources (the instance metadata endpoint, developer tools) for every read; the reader
 * then fails at once with a message that says what is missing, and makes no request.
 */
export function hasWorkloadIdentity(env: Env): boolean {
  return Boolean(env.AZURE_FEDERATED_TOKEN_FILE && env.AZURE_CLIENT_ID && env.AZURE_TENANT_ID);
}

function noIdentityError(): Error {
  const error = new Error(
    "the operator pod has no workload identity (AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID are not set): label the operator's pods azure.workload.identity/use=true and annotate its ServiceAccount with azure.workload.identity/client-id, or use connectionStringSecretRef",
  );
  error.name = 'CredentialUnavailableError';
  return error;
}

export function noIdentityReader(): QueueReader {
  const fail = async (): Promise<never> => {
    throw noIdentityError();
  };
  return { counts: fail, status: fail };
}

/**
 * The SDK reader, or an immediate failure when workload identity is asked for but `env` (the
 * operator's environment: main passes process.env) lacks its variables. Without `env` there is
 * no identity, so only connection strings work.
 */
export function defaultQueueReader(cred: QueueCredential, env: Env = {}): QueueReader {
  if (cred.kind === 'workloadIdentity' && !hasWorkloadIdentity(env)) return noIdentityReader();
  return sdkQueueReader(adminClient(cred));
}

export function sdkQueueReader(client: ServiceBusAdministrationClient, timeoutMs = 10_000): QueueReader {
  const signal = () => AbortSignal.timeout(timeoutMs);
  return {
    async counts(queueName) {
      const p = await client.getQueueRuntimeProperties(queueName, { abortSignal: signal() });
      return {
        active: p.activeMessageCount,
        scheduled: p.scheduledMessageCount,
        deadLettered: p.deadLetterMessageCount,
        total: p.totalMessageCount ?? p.activeMessageCount + p.scheduledMessageCount + p.deadLetterMessageCount,
        transfer: p.transferMessageCount,
        transferDeadLettered: p.transferDeadLetterMessageCount,
      };
    },
    async status(queueName) {
      const q = await client.getQueue(queueName, { abortSignal: signal() });
      return q.status;
    },
  };
}
