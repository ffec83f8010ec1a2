// The real parts the chaos run breaks, on this machine and without Kubernetes: Azurite on a data
// directory (so a restart keeps blobs and tables), the Service Bus stand-in in this process (it
// keeps messages in memory only: a restart loses every queued, scheduled and dead-lettered
// message, which the recovery loop's re-enqueue of stale `queued` jobs must repair), and API and
// worker replicas as real child processes started by the integration tests' starter, each in a
// fixed slot (an API replica comes back on the same ports, as a pod behind its Service would).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobBlobs, JobRecords, blobServiceClient, sharedKeyCredential, tableClient, type StorageSettings } from '../../src/jobs/index.ts';
import { startServiceBusStandin, DEFAULT_KEY_NAME, type ServiceBusStandin } from '../../src/servicebus-standin/index.ts';
import { ENV } from '../../src/contract/container.ts';
import { LOOPBACK_WEBHOOKS_ENV } from '../../test/support/api-config.ts';
import { startAzurite, type Azurite } from '../../test/support/azurite.ts';
import { freePort } from '../../test/support/ports.ts';
import { killAll, startApiProcess, startWorker, type Child } from '../../test/integration/api/processes.ts';

export const PIPELINE = 'chaos';
export const QUEUE = 'ocr-jobs';
export const API_KEY_NAME = 'chaos';
export const API_KEY = `key-chaos-${randomBytes(8).toString('hex')}`;
export const WEBHOOK_SECRET = `chaos-webhook-${randomBytes(8).toString('hex')}`;

export interface QueueSettings {
  /** Peek-lock duration of the queue, in seconds: how soon a SIGKILLed worker's message comes back. */
  lockDurationSeconds: number;
  /** Deliveries before the broker dead-letters a message (the worker gets the same value). */
  maxDeliveryCount: number;
}

export interface PlatformOptions {
  apis: number;
  workers: number;
  queue: QueueSettings;
  /** Extra environment for every API and worker process (the pipeline settings the run shortens). */
  env: Record<string, string>;
}

/** One replica slot: the process running in it now (undefined while it is down or starting). */
export interface Slot {
  name: string;
  child: Child | undefined;
  starting: boolean;
  restarts: number;
}

export class ChaosPlatform {
  readonly records: JobRecords;
  readonly blobs: JobBlobs;
  readonly apis: Slot[];
  readonly workers: Slot[];
  /** Processes that exited without being killed by the run: what their last log lines said. */
  readonly unexpectedExits: string[] = [];
  private stopping = false;
  private azurite: Azurite;
  private standin: ServiceBusStandin | undefined;
  private readonly options: PlatformOptions;
  private readonly dir: string;
  private readonly standinKey: string;
  private readonly apiPorts: { port: string; admin: string }[];

  private constructor(
    options: PlatformOptions,
    dir: string,
    azurite: Azurite,
    standin: ServiceBusStandin,
    key: string,
    apiPorts: { port: string; admin: string }[],
  ) {
    this.options = options;
    this.dir = dir;
    this.azurite = azurite;
    this.standin = standin;
    this.standinKey = key;
    this.apiPorts = apiPorts;
    const storage = this.storage();
    this.records = new JobRecords(tableClient(storage));
    this.blobs = new JobBlobs(blobServiceClient(storage), storage.container, sharedKeyCredential(storage));
    this.apis = apiPorts.map((_, i) => ({ name: `api-${i}`, child: undefined, starting: false, restarts: 0 }));
    this.workers = Array.from({ length: options.workers }, (_, i) => ({ name: `worker-${i}`, child: undefined, starting: false, restarts: 0 }));
  }

  static async start(options: PlatformOptions): Promise<ChaosPlatform> {
    const dir = await mkdtemp(join(tmpdir(), 'ocr-chaos-'));
    await writeFile(join(dir, 'keys'), `${API_KEY_NAME}:${API_KEY}\n`);
    const azurite = await startAzurite({ location: join(dir, 'azurite') });
    const key = randomBytes(32).toString('base64');
    let standin: ServiceBusStandin;
    try {
      standin = await startServiceBusStandin(standinOptions(key, options.queue, 0, 0));
    } catch (error) {
      await azurite.stop();
      throw error;
    }
    const apiPorts = [];
    for (let i = 0; i < options.apis; i++) apiPorts.push({ port: String(await freePort()), admin: String(await freePort()) });
    const platform = new ChaosPlatform(options, dir, azurite, standin, key, apiPorts);
    try {
      await platform.records.ensureTable();
      await platform.blobs.ensureContainer();
      // Settle every start before judging, so a failed start never leaves another one spawning after stop().
      const started = await Promise.allSettled([
        ...platform.apis.map((_, i) => withRetries(() => platform.startApi(i))),
        ...platform.workers.map((_, i) => withRetries(() => platform.startWorker(i))),
      ]);
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (error) {
      await platform.stop();
      throw error;
    }
    return platform;
  }

  storage(): StorageSettings {
    return { connectionString: this.azurite.connectionString, container: 'ocr', table: 'ocrjobs' };
  }

  /** The URL of the API in slot i (the same after a restart). */
  apiUrl(i: number): string {
    return `http://127.0.0.1:${this.apiPorts[i]!.port}`;
  }

  /** Connections and settings every API and worker process gets, as the operator would set them. */
  private sharedEnv(): Record<string, string> {
    return {
      [ENV.pipeline]: PIPELINE,
      [ENV.queueName]: QUEUE,
      [ENV.languages]: 'eng',
      [ENV.serviceBusConnectionString]: this.standin?.connectionString ?? '',
      [ENV.blobConnectionString]: this.azurite.connectionString,
      [ENV.blobContainer]: 'ocr',
      [ENV.jobsTable]: 'ocrjobs',
      [ENV.logLevel]: 'warn',
      ...this.options.env,
    };
  }

  async startApi(i: number): Promise<void> {
    const slot = this.apis[i]!;
    slot.starting = true;
    try {
      const child = await startApiProcess({
        ...this.sharedEnv(),
        [ENV.port]: this.apiPorts[i]!.port,
        [ENV.apiAdminPort]: this.apiPorts[i]!.admin,
        [ENV.apiKeysFile]: join(this.dir, 'keys'),
        [ENV.webhookSecret]: WEBHOOK_SECRET,
        ...LOOPBACK_WEBHOOKS_ENV,
        [ENV.apiRateLimitPerMinute]: '0',
        [ENV.apiMaxConcurrentUploadsPerKey]: '64',
        [ENV.apiMaxUploadBytes]: String(4 * 1024 * 1024),
      });
      this.watch(slot, child, () => this.startApi(i));
    } finally {
      slot.starting = false;
    }
  }

  async startWorker(i: number): Promise<void> {
    const slot = this.workers[i]!;
    slot.starting = true;
    try {
      const child = await startWorker({
        ...this.sharedEnv(),
        [ENV.workerConcurrency]: '1',
        [ENV.workerMaxDeliveryCount]: String(this.options.queue.maxDeliveryCount),
        [ENV.workerMaxJobSeconds]: '60',
      });
      this.watch(slot, child, () => this.startWorker(i));
    } finally {
      slot.starting = false;
    }
  }

  /**
   * Puts a started process in its slot and watches it: a process that exits while it still holds its slot was not killed by the
   * run (kill() empties the slot first) but died by itself; that is counted, its last log lines kept, and it is started again.
   */
  private watch(slot: Slot, child: Child, start: () => Promise<void>): void {
    slot.child = child;
    void child.exited.then((code) => {
      if (this.stopping || slot.child !== child) return;
      slot.child = undefined;
      this.unexpectedExits.push(`${slot.name} exited by itself with ${code}: ${child.logs().trim().split('\n').slice(-3).join(' | ').slice(0, 400)}`);
      slot.starting = true;
      withRetries(start).catch((error: unknown) => this.unexpectedExits.push(`${slot.name} failed to start again: ${(error as Error).message.slice(0, 200)}`));
    });
  }

  /** SIGKILLs the process in a slot and starts a new one (in the background; `restarted` settles when it is ready). */
  kill(slot: Slot, start: () => Promise<void>): { restarted: Promise<void> } {
    const child = slot.child;
    slot.child = undefined;
    child?.child.kill('SIGKILL');
    slot.restarts++;
    slot.starting = true;
    const restarted = (async () => {
      await child?.exited;
      await withRetries(start);
    })();
    return { restarted };
  }

  /** Stops Azurite (SIGTERM: it saves its data directory) and starts it again on the same ports and directory. */
  async restartAzurite(downMs: number): Promise<void> {
    const { blobPort, tablePort } = this.azurite;
    await this.azurite.stop();
    await new Promise((r) => setTimeout(r, downMs));
    this.azurite = await startAzurite({ location: join(this.dir, 'azurite'), blobPort, tablePort });
  }

  /** Closes the stand-in (its messages are gone) and starts an empty one on the same ports with the same key. */
  async restartStandin(downMs: number): Promise<void> {
    const old = this.standin!;
    this.standin = undefined;
    await old.close();
    await new Promise((r) => setTimeout(r, downMs));
    this.standin = await startServiceBusStandin(standinOptions(this.standinKey, this.options.queue, old.amqpPort, old.httpPort));
  }

  /** Messages in the queue now (active, scheduled, locked) and in its dead-letter subqueue; undefined while the stand-in is down. */
  queueCounts(): { active: number; scheduled: number; deadLettered: number } | undefined {
    if (!this.standin) return undefined;
    const counts = this.standin.counts(QUEUE);
    return { active: counts.activeMessageCount, scheduled: counts.scheduledMessageCount, deadLettered: counts.deadLetterMessageCount };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.apis, ...this.workers].map(async (slot) => await slot.child?.stop('SIGKILL')));
    killAll();
    await this.standin?.close().catch(() => undefined);
    await this.azurite.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts a process, up to 5 times: a start may meet Azurite or the stand-in restarting, and on a busy machine an API can miss
 * the starter's 30 s readiness wait (it was seen at a load average of 20 on 2 cores).
 */
async function withRetries(start: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      return;
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
}

function standinOptions(key: string, queue: QueueSettings, port: number, httpPort: number): Parameters<typeof startServiceBusStandin>[0] {
  return {
    port,
    httpPort,
    keys: { [DEFAULT_KEY_NAME]: { key } },
    queues: [{ name: QUEUE, lockDurationSeconds: queue.lockDurationSeconds, maxDeliveryCount: queue.maxDeliveryCount }],
  };
}
