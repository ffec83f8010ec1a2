// Where the queue poller may send a request, decided before any is sent. The poller
// authenticates with the operator's own workload identity (a token for servicebus.azure.net,
// valid on every namespace the identity has rights on) or with a tenant's connection string,
// and it reports refused / timeout / 404 / 401 in the pipeline's conditions. Without a check,
// anyone who may create a pipeline could send the operator's token to a host of their choice
// or use the conditions as a port scanner. So:
// - a namespace (workload identity) or a connection string's Endpoint host must end in one of
//   the allowed suffixes: Azure's public, US Government and China clouds, plus the operator's
//   --servicebus-suffixes;
// - a development-emulator connection string (UseDevelopmentEmulator=true: plain HTTP to any
//   host:port) is honoured only with --allow-development-emulator (npm start and the tests).
// Pure: a credential and the policy in, a QueueReachable problem (or nothing) out.
import { parseServiceBusConnectionString } from '@azure/service-bus';
import type { QueueProblem } from '../conditions/checks.ts';
import { REASON } from '../conditions/reasons.ts';
import { isDevelopmentEmulator } from '../../shared/emulator-http.ts';
import type { QueueCredential } from './client.ts';

/**
 * Service Bus DNS suffixes of the Azure clouds: public (AzureCloud), US Government
 * (AzureUSGovernment) and China (AzureChinaCloud, operated by 21Vianet).
 */
export const DEFAULT_SERVICEBUS_SUFFIXES: readonly string[] = ['.servicebus.windows.net', '.servicebus.usgovcloudapi.net', '.servicebus.chinacloudapi.cn'];

export interface EgressPolicy {
  /** Allowed namespace suffixes, lower case with a leading dot (the defaults plus --servicebus-suffixes). */
  suffixes: readonly string[];
  /** Honour UseDevelopmentEmulator=true connection strings (--allow-development-emulator). Default false. */
  allowDevelopmentEmulator: boolean;
}

export const DEFAULT_EGRESS_POLICY: EgressPolicy = { suffixes: DEFAULT_SERVICEBUS_SUFFIXES, allowDevelopmentEmulator: false };

/** One DNS label: letters, digits and inner hyphens (no percent signs, backslashes or user info). */
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const SUFFIX = new RegExp(`^(?:\\.${LABEL}){2,}$`);
const AUTHORITY = new RegExp(`^(${LABEL}(?:\\.${LABEL})+)(?::(\\d{1,5}))?$`);

/**
 * A suffix as the policy compares it: lower case with a leading dot (servicebus.example.net
 * becomes .servicebus.example.net). Throws on anything but two or more DNS labels.
 */
export function normalizeSuffix(raw: string): string {
  const s = raw.trim().toLowerCase();
  const dotted = s.startsWith('.') ? s : `.${s}`;
  if (!SUFFIX.test(dotted)) throw new Error(`"${raw}" is not a DNS suffix such as .servicebus.example.net`);
  return dotted;
}

/** The default suffixes plus extra ones (normalised, without duplicates). */
export function egressPolicy(extraSuffixes: readonly string[], allowDevelopmentEmulator: boolean): EgressPolicy {
  const suffixes = [...new Set([...DEFAULT_SERVICEBUS_SUFFIXES, ...extraSuffixes.map(normalizeSuffix)])];
  return { suffixes, allowDevelopmentEmulator };
}

/**
 * The host[:port] the SDK will connect to, computed as @azure/service-bus does
 * (core-amqp's parser, then Endpoint.match(".*://([^/]*)")), so the check and the request
 * cannot disagree about a crafted Endpoint such as sb://evil.example\@x.servicebus.windows.net/.
 */
function sdkAuthority(connectionString: string): string | undefined {
  try {
    return parseServiceBusConnectionString(connectionString).fullyQualifiedNamespace;
  } catch {
    return undefined;
  }
}

const FLAG_HINT = 'the operator flag --servicebus-suffixes (chart value serviceBus.extraNamespaceSuffixes) adds more';

/** Whether host (lower case, no port) ends in an allowed suffix, with at least one label before it. */
function allowedHost(host: string, suffixes: readonly string[]): boolean {
  return suffixes.some((s) => host.endsWith(s) && host.length > s.length);
}

function notAllowed(what: string, host: string, policy: EgressPolicy): QueueProblem {
  return {
    reason: REASON.namespaceNotAllowed,
    message:
      `The Service Bus namespace "${host}" (${what}) is not in an allowed domain, so the operator sends it nothing. ` +
      `Allowed: *${policy.suffixes.join(', *')}; ${FLAG_HINT}.`,
  };
}

/** Checks a namespace host, or a host:port authority from a connection string (only the default HTTPS port 443 passes). */
function checkAuthority(authority: string, what: string, policy: EgressPolicy): QueueProblem | undefined {
  const m = AUTHORITY.exec(authority.toLowerCase());
  const host = m?.[1];
  if (!m || host === undefined || !allowedHost(host, policy.suffixes)) return notAllowed(what, authority, policy);
  if (m[2] !== undefined && m[2] !== '443') {
    return {
      reason: REASON.namespaceNotAllowed,
      message: `The Service Bus namespace "${authority}" (${what}) names port ${m[2]}; Azure Service Bus answers on 443 only, so the operator sends it nothing.`,
    };
  }
  return undefined;
}

/** Undefined when the poller may contact the credential's namespace; else the QueueReachable=False problem. */
export function checkEgress(cred: QueueCredential, policy: EgressPolicy): QueueProblem | undefined {
  if (cred.kind === 'workloadIdentity') return checkAuthority(cred.namespace, 'spec.queue.serviceBus.namespace', policy);
  const field = 'the Endpoint of the connection string in spec.queue.serviceBus.connectionStringSecretRef';
  if (isDevelopmentEmulator(cred.connectionString)) {
    if (policy.allowDevelopmentEmulator) return undefined;
    return {
      reason: REASON.emulatorNotAllowed,
      message:
        'The Service Bus connection string says UseDevelopmentEmulator=true (plain HTTP to any host), which this operator does not honour, ' +
        'so it sends nothing. Use a connection string of an Azure Service Bus namespace; for local development only, ' +
        'start the operator with --allow-development-emulator.',
    };
  }
  const authority = sdkAuthority(cred.connectionString);
  if (authority === undefined) return notAllowed(field, '(none)', policy);
  return checkAuthority(authority, field, policy);
}
