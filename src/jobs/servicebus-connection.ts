// How a process reaches Service Bus: a connection string from a Secret (the stand-in
// locally), or a namespace with workload identity. This file imports neither the Blob nor
// the Table SDK, so the operator's queue reader can use it without pulling them in.
import { ServiceBusAdministrationClient, ServiceBusClient } from '@azure/service-bus';
import { CONNECTION_DEFAULTS, ENV } from '../contract/container.ts';
import { requireOneOf, type Setting, type Settings } from '../shared/config.ts';
import { workloadIdentity } from './identity.ts';

export interface QueueSettings {
  connectionString?: string;
  /** Fully qualified namespace, e.g. contoso.servicebus.windows.net, used with workload identity. */
  namespace?: string;
  queueName: string;
}

/** The queue rows of the API's and the worker's settings tables. */
export const QUEUE_SETTINGS = [
  { name: 'serviceBusConnectionString', env: ENV.serviceBusConnectionString, type: 'string', help: 'Service Bus connection string (from a Secret); or' },
  {
    name: 'serviceBusNamespace',
    env: ENV.serviceBusNamespace,
    type: 'string',
    help: 'Fully qualified namespace (x.servicebus.windows.net), used with workload identity.',
  },
  { name: 'queueName', env: ENV.queueName, type: 'string', default: CONNECTION_DEFAULTS.queueName, help: 'Service Bus queue the jobs go through.' },
] as const satisfies readonly Setting[];

export function queueSettings(values: Settings<typeof QUEUE_SETTINGS>): QueueSettings {
  return { connectionString: values.serviceBusConnectionString, namespace: values.serviceBusNamespace, queueName: values.queueName };
}

/** Refuses settings with neither a connection string nor a namespace; `why` says what needs the queue. */
export function requireQueue(settings: QueueSettings, why: string): void {
  requireOneOf({ [ENV.serviceBusConnectionString]: settings.connectionString, [ENV.serviceBusNamespace]: settings.namespace }, why);
}

export function serviceBusClient(settings: QueueSettings): ServiceBusClient {
  requireQueue(settings, 'the Service Bus client connects with one of them');
  return settings.connectionString ? new ServiceBusClient(settings.connectionString) : new ServiceBusClient(settings.namespace ?? '', workloadIdentity());
}

export function serviceBusAdminClient(settings: QueueSettings): ServiceBusAdministrationClient {
  requireQueue(settings, 'the Service Bus administration client connects with one of them');
  return settings.connectionString
    ? new ServiceBusAdministrationClient(settings.connectionString)
    : new ServiceBusAdministrationClient(settings.namespace ?? '', workloadIdentity());
}
