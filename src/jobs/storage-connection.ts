// How a process reaches Azure Storage (Blob for images and results, Table for job records):
// a connection string from a Secret (Azurite locally), or an account URL with workload identity.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { TableClient } from '@azure/data-tables';
import { CONNECTION_DEFAULTS, ENV } from '../contract/container.ts';
import { requireOneOf, type Setting, type Settings } from '../shared/config.ts';
import { workloadIdentity } from './identity.ts';
import { parseConnectionString } from './connection-string.ts';

export interface StorageSettings {
  /** A storage connection string (Blob and Table endpoints); wins over accountUrl. */
  connectionString?: string;
  /** https://<account>.blob.core.windows.net, used with workload identity. */
  accountUrl?: string;
  container: string;
  /** Table holding job records; one table, partitioned by pipeline. */
  table: string;
}

/** The storage rows of the API's and the worker's settings tables. */
export const STORAGE_SETTINGS = [
  { name: 'blobConnectionString', env: ENV.blobConnectionString, type: 'string', help: 'Storage connection string for Blob and Table (from a Secret); or' },
  { name: 'blobAccountUrl', env: ENV.blobAccountUrl, type: 'string', help: 'https://<account>.blob.core.windows.net, used with workload identity.' },
  {
    name: 'blobContainer',
    env: ENV.blobContainer,
    type: 'string',
    default: CONNECTION_DEFAULTS.blobContainer,
    help: 'Container holding uploads/<jobId>, inputs/<jobId> and results/<jobId>.json.',
  },
  { name: 'jobsTable', env: ENV.jobsTable, type: 'string', default: CONNECTION_DEFAULTS.jobsTable, help: 'Table Storage table of job records.' },
] as const satisfies readonly Setting[];

export function storageSettings(values: Settings<typeof STORAGE_SETTINGS>): StorageSettings {
  return { connectionString: values.blobConnectionString, accountUrl: values.blobAccountUrl, container: values.blobContainer, table: values.jobsTable };
}

/** Refuses settings with neither a connection string nor an account URL; `why` says what needs storage. */
export function requireStorage(settings: StorageSettings, why: string): void {
  requireOneOf({ [ENV.blobConnectionString]: settings.connectionString, [ENV.blobAccountUrl]: settings.accountUrl }, why);
}

export function blobServiceClient(settings: StorageSettings): BlobServiceClient {
  requireStorage(settings, 'the Blob client connects with one of them');
  return settings.connectionString
    ? BlobServiceClient.fromConnectionString(settings.connectionString)
    : new BlobServiceClient(settings.accountUrl ?? '', workloadIdentity());
}

/**
 * The SDK's shared-key credential with its HMAC key imported once: the SDK's own computeHMACSHA256
 * passes the key as a Buffer, so every SAS and every signed request imported it again (about
 * 13% of the API's CPU per upload URL, measured with --cpu-prof; bench/api/RESULTS.md).
 */
export class CachedKeyCredential extends StorageSharedKeyCredential {
  private readonly hmacKey: KeyObject;
  constructor(accountName: string, accountKey: string) {
    super(accountName, accountKey);
    this.hmacKey = createSecretKey(Buffer.from(accountKey, 'base64'));
  }
  override computeHMACSHA256(stringToSign: string): string {
    return createHmac('sha256', this.hmacKey).update(stringToSign, 'utf8').digest('base64');
  }
}

/** Shared-key credential when the connection string carries a key (SAS signing without a delegation key). */
export function sharedKeyCredential(settings: StorageSettings): StorageSharedKeyCredential | undefined {
  if (!settings.connectionString) return undefined;
  const parts = parseConnectionString(settings.connectionString);
  if (!parts.AccountName || !parts.AccountKey) return undefined;
  return new CachedKeyCredential(parts.AccountName, parts.AccountKey);
}

export function tableClient(settings: StorageSettings): TableClient {
  requireStorage(settings, 'the Table client connects with one of them');
  if (settings.connectionString) {
    const insecure = /TableEndpoint=http:/i.test(settings.connectionString) || /DefaultEndpointsProtocol=http;/i.test(settings.connectionString);
    return TableClient.fromConnectionString(settings.connectionString, settings.table, { allowInsecureConnection: insecure });
  }
  const tableUrl = (settings.accountUrl ?? '').replace('.blob.', '.table.');
  return new TableClient(tableUrl, settings.table, workloadIdentity());
}
