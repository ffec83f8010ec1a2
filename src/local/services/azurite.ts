// Starts a real Azurite (Blob + Table) on free loopback ports, in memory (or in a data directory), for one
// test file or one local platform run. Azurite is the real Azure Storage emulator:
// the same SDK calls that work here work against Azure.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort, waitFor } from '../../shared/net.ts';
import { trackChild } from '../children.ts';

export const AZURITE_ACCOUNT = 'devstoreaccount1';
// The well-known development key that every Azurite install uses; it protects nothing.
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  connectionString: string;
  blobPort: number;
  tablePort: number;
  stop(): Promise<void>;
}

export function azuriteConnectionString(blobPort: number, tablePort: number, host = '127.0.0.1'): string {
  return (
    [
      'DefaultEndpointsProtocol=http',
      `AccountName=${AZURITE_ACCOUNT}`,
      `AccountKey=${AZURITE_KEY}`,
      `BlobEndpoint=http://${host}:${blobPort}/${AZURITE_ACCOUNT}`,
      `TableEndpoint=http://${host}:${tablePort}/${AZURITE_ACCOUNT}`,
    ].join(';') + ';'
  );
}

function azuriteMain(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
}

export interface AzuriteOptions {
  host?: string;
  blobPort?: number;
  tablePort?: number;
  stdio?: 'ignore' | 'inherit';
  /**
   * A data directory: blobs and tables persist there, so Azurite started again on the same
   * directory (and ports) finds them (the chaos run restarts it). Default: in memory.
   */
  location?: string;
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const host = options.host ?? '127.0.0.1';
  const blobPort = options.blobPort ?? (await freePort());
  const tablePort = options.tablePort ?? (await freePort());
  const queuePort = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      azuriteMain(),
      ...(options.location === undefined ? ['--inMemoryPersistence'] : ['--location', options.location]),
      '--silent',
      '--skipApiVersionCheck',
      '--loose',
      '--disableTelemetry',
      '--blobHost',
      host,
      '--blobPort',
      String(blobPort),
      '--tableHost',
      host,
      '--tablePort',
      String(tablePort),
      '--queueHost',
      host,
      '--queuePort',
      String(queuePort),
    ],
    { stdio: ['ignore', options.stdio ?? 'ignore', 'inherit'] },
  );
  trackChild(child.pid, 'azurite', { group: false });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const stop = async (): Promise<void> => {
    if (exited) return;
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await done;
    clearTimeout(timer);
  };
  try {
    await waitFor(
      'Azurite to listen',
      async () => {
        if (exited) throw new Error('Azurite exited during start-up');
        const [blob, table] = await Promise.all([
          fetch(`http://${host}:${blobPort}/`).then(
            () => true,
            () => false,
          ),
          fetch(`http://${host}:${tablePort}/`).then(
            () => true,
            () => false,
          ),
        ]);
        return blob && table;
      },
      30_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { connectionString: azuriteConnectionString(blobPort, tablePort, host), blobPort, tablePort, stop };
}
