// Starter for tests that need Service Bus: the project's stand-in on free loopback
// ports, plus SDK clients wired to it (the admin client gets the http policy that
// SDK 7.9.x needs for the emulator). Close everything in an `after` hook.
import { ServiceBusAdministrationClient, ServiceBusClient, type ServiceBusClientOptions } from '@azure/service-bus';
import { emulatorHttpPolicy, startServiceBusStandin, type ServiceBusStandin, type StandinOptions } from '../../src/servicebus-standin/index.ts';

export type { ServiceBusStandin, StandinOptions };
export { startServiceBusStandin };

/** Short timeouts and no retries, so a broken contract fails in seconds, not minutes. */
export const fastClientOptions: ServiceBusClientOptions = {
  retryOptions: { maxRetries: 0, timeoutInMs: 10_000, retryDelayInMs: 100 },
};

export function serviceBusClient(standin: ServiceBusStandin, options: ServiceBusClientOptions = fastClientOptions): ServiceBusClient {
  return new ServiceBusClient(standin.connectionString, options);
}

export function adminClient(standin: ServiceBusStandin, keyName?: string): ServiceBusAdministrationClient {
  const cs = keyName === undefined ? standin.managementConnectionString : standin.connectionStringsFor(keyName).managementConnectionString;
  const admin = new ServiceBusAdministrationClient(cs, { retryOptions: { maxRetries: 0 } });
  admin.pipeline.addPolicy(emulatorHttpPolicy());
  return admin;
}
