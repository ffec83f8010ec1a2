// How the API and the worker reach Azure: a connection string from a Secret
// (Azurite locally), or workload identity with no secret at all.
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { TableClient } from '@azure/data-tables';
import { ServiceBusAdministrationClient, ServiceBusClient } from '@azure/service-bus';
import { ConfigError } from '../shared/env.ts';

export interface StorageSettings {
  /** A storage connection string (Blob and Table endpoints); wins over accountUrl. */
  connectionString?: string;
  /** https://<account>.blob.core.windows.net, used with workload identity. */
  accountUrl?: string;
  container: string;
  /** Table holding job records; one table, partitioned by pipeline. */
  table: string;
}

export interface QueueSettings {
  connectionString?: string;
  /** Fully qualified namespace, e.g. contoso.servicebus.windows.net, used with workload identity. */
  namespace?: string;
  queueName: string;
}

let credential: TokenCredential | undefined;
function workloadIdentity(): TokenCredential {
  credential ??= new DefaultAzureCredential();
  return credential;
}

export function parseConnectionString(connectionString: string): Record<string, string> {
  const parts: Record<string, string> = {};
  for (const segment of connectionString.split(';')) {
    const at = segment.indexOf('=');
    if (at > 0) parts[segment.slice(0, at).trim()] = segment.slice(at + 1).trim();
  }
  return parts;
}

export function blobServiceClient(settings: StorageSettings): BlobServiceClient {
  if (settings.connectionString) return BlobServiceClient.fromConnectionString(settings.connectionString);
  if (settings.accountUrl) return new BlobServiceClient(settings.accountUrl, workloadIdentity());
  throw new ConfigError('storage needs BLOB_CONNECTION_STRING or BLOB_ACCOUNT_URL');
}

/** Shared-key credential when the connection string carries a key (SAS signing without a delegation key). */
export function sharedKeyCredential(settings: StorageSettings): StorageSharedKeyCredential | undefined {
  if (!settings.connectionString) return undefined;
  const parts = parseConnectionString(settings.connectionString);
  if (!parts.AccountName || !parts.AccountKey) return undefined;
  return new StorageSharedKeyCredential(parts.AccountName, parts.AccountKey);
}

export function tableClient(settings: StorageSettings): TableClient {
  if (settings.connectionString) {
    const insecure = /TableEndpoint=http:/i.test(settings.connectionString) || /DefaultEndpointsProtocol=http;/i.test(settings.connectionString);
    return TableClient.fromConnectionString(settings.connectionString, settings.table, { allowInsecureConnection: insecure });
  }
  if (settings.accountUrl) {
    const tableUrl = settings.accountUrl.replace('.blob.', '.table.');
    return new TableClient(tableUrl, settings.table, workloadIdentity());
  }
  throw new ConfigError('storage needs BLOB_CONNECTION_STRING or BLOB_ACCOUNT_URL');
}

export function serviceBusClient(settings: QueueSettings): ServiceBusClient {
  if (settings.connectionString) return new ServiceBusClient(settings.connectionString);
  if (settings.namespace) return new ServiceBusClient(settings.namespace, workloadIdentity());
  throw new ConfigError('the queue needs SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE');
}

export function serviceBusAdminClient(settings: QueueSettings): ServiceBusAdministrationClient {
  if (settings.connectionString) return new ServiceBusAdministrationClient(settings.connectionString);
  if (settings.namespace) return new ServiceBusAdministrationClient(settings.namespace, workloadIdentity());
  throw new ConfigError('the queue needs SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE');
}

/** Reads storage and queue settings from the environment the operator gives API and worker pods. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): { storage: StorageSettings; queue: QueueSettings; pipeline: string } {
  const pipeline = env.OCR_PIPELINE || 'default';
  const storage: StorageSettings = {
    connectionString: env.BLOB_CONNECTION_STRING || undefined,
    accountUrl: env.BLOB_ACCOUNT_URL || undefined,
    container: env.BLOB_CONTAINER || 'ocr',
    table: env.JOBS_TABLE || 'ocrjobs',
  };
  const queue: QueueSettings = {
    connectionString: env.SERVICEBUS_CONNECTION_STRING || undefined,
    namespace: env.SERVICEBUS_NAMESPACE || undefined,
    queueName: env.OCR_QUEUE_NAME || 'ocr-jobs',
  };
  return { storage, queue, pipeline };
}
