// The Azure credential used when no connection string is given: workload identity (or
// whatever DefaultAzureCredential finds). One instance per process, created on first use.
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';

let credential: TokenCredential | undefined;

export function workloadIdentity(): TokenCredential {
  credential ??= new DefaultAzureCredential();
  return credential;
}
