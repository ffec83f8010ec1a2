// The targets over HTTP: Azurite and the Service Bus stand-in (test/integration/api/helpers.ts),
// the API and a real worker as child processes (processes.ts), configured as the operator
// would, with a 1 MiB upload limit so oversize bodies stay cheap and a webhook secret so
// webhook URLs are judged. Pipeline and queue match the worker harness, whose submitJob
// plays the API for forged queue messages.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceBusClient } from '@azure/service-bus';
import { ENV } from '../../src/contract/container.ts';
import { KEY, KEYS_FILE, QUEUE, startStack, type Stack } from '../integration/api/helpers.ts';
import { killAll, startApiProcess, startWorker, type Child } from '../integration/api/processes.ts';
import { PIPELINE, type Platform } from '../integration/worker/harness.ts';
import { serviceBusClient } from '../support/servicebus.ts';

export { KEY, PIPELINE, QUEUE };
/** The second key of KEYS_FILE (name `other`). */
export const OTHER_KEY = 'key-other-9876543210';
export const MAX_UPLOAD_BYTES = 1024 * 1024;

export interface Targets {
  stack: Stack;
  api: Child;
  /** Started by startWorker(), after the cases that must be queued before any worker runs. */
  worker: Child | undefined;
  /** The worker harness's view of the same storage and queue (for submitJob). */
  platform: Platform;
  sb: ServiceBusClient;
  env: Record<string, string>;
  startWorker(): Promise<Child>;
  /** Undefined while the process runs and answers its probe, else what is wrong. */
  health(child: Child | undefined, name: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

export async function startTargets(): Promise<Targets> {
  const stack = await startStack();
  const dir = await mkdtemp(join(tmpdir(), 'ocr-security-'));
  await writeFile(join(dir, 'keys'), KEYS_FILE);
  const env: Record<string, string> = {
    [ENV.pipeline]: PIPELINE,
    [ENV.queueName]: QUEUE,
    [ENV.languages]: 'eng',
    [ENV.serviceBusConnectionString]: stack.standin.connectionString,
    [ENV.blobConnectionString]: stack.azurite.connectionString,
    [ENV.blobContainer]: stack.storage.container,
    [ENV.jobsTable]: stack.storage.table,
  };
  const sb = serviceBusClient(stack.standin);
  const targets: Targets = {
    stack,
    sb,
    env,
    worker: undefined,
    api: await startApiProcess({
      ...env,
      [ENV.apiKeysFile]: join(dir, 'keys'),
      [ENV.apiMaxUploadBytes]: String(MAX_UPLOAD_BYTES),
      [ENV.webhookSecret]: 'security-suite-secret',
      [ENV.syncTimeoutSeconds]: '90',
      [ENV.apiPollIntervalMs]: '100',
      [ENV.apiRateLimitPerMinute]: '100000',
    }),
    platform: {
      azurite: stack.azurite,
      standin: stack.standin,
      sb,
      records: stack.records,
      blobs: stack.blobs,
      createQueue: () => undefined,
      close: async () => undefined,
    },
    startWorker: async () => {
      targets.worker = await startWorker({ ...env, [ENV.workerMaxJobSeconds]: '60' });
      return targets.worker;
    },
    health: async (child, name) => {
      if (!child) return undefined;
      if (child.child.exitCode !== null || child.child.signalCode !== null) return `${name} exited (${child.child.exitCode ?? child.child.signalCode})`;
      const live = await fetch(`${child.url}/live`, { signal: AbortSignal.timeout(5_000) }).catch((error: Error) => error);
      if (live instanceof Error) return `${name} /live did not answer: ${live.message}`;
      await live.body?.cancel();
      return live.status === 200 ? undefined : `${name} /live answered ${live.status}`;
    },
    stop: async () => {
      await targets.api.stop().catch(() => undefined);
      await targets.worker?.stop().catch(() => undefined);
      killAll();
      await sb.close().catch(() => undefined);
      await stack.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return targets;
}
