// One chaos run (issue 12, item 8): starts the platform (platform.ts), submits jobs through the
// API replicas while the faults (faults.ts) are injected, waits for every job to end, then reads
// every record and result and counts the webhook deliveries (verdict.ts). `npm run chaos`
// (run.ts) and test/integration/chaos/chaos.test.ts both call runChaos.
import { loadavg } from 'node:os';
import { PIPELINE, API_KEY, WEBHOOK_SECRET, ChaosPlatform } from './platform.ts';
import { ChaosClient, type SubmittedJob } from './client.ts';
import { FaultInjector, type FaultPlan } from './faults.ts';
import { poisonImage, receiptImage, type ChaosImage } from './images.ts';
import { WebhookReceiver } from './receiver.ts';
import { settingsEnv, stuckAfterSeconds, type PipelineSettings } from './settings.ts';
import { summarise, type ChaosSummary, type JudgedInput } from './verdict.ts';

export interface ChaosOptions extends FaultPlan {
  /** Jobs submitted, poison images included. */
  jobs: number;
  poison: number;
  /** Upload URLs created and never used: they must end `expired`. */
  unsubmitted: number;
  /** The window in which jobs are submitted and faults injected, in seconds; the wait for the end comes after it. */
  windowSeconds: number;
  /** Cap on the wait after the window, in seconds (a stall of stuckAfterSeconds ends it sooner). */
  maxWaitSeconds: number;
  apis: number;
  workers: number;
  /** A succeeded job whose character error rate is above this is a wrong result. */
  maxCer: number;
  settings: PipelineSettings;
  /** Seconds between progress lines. */
  progressSeconds: number;
  log: (line: string) => void;
}

const TERMINAL = new Set(['succeeded', 'failed', 'expired']);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `work` over `items` with at most `limit` at once. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

class ChaosRun {
  readonly jobs: SubmittedJob[] = [];
  readonly unsubmitted: string[] = [];
  readonly status = new Map<string, string>();
  /** The last error reading a job's record, by job id (cleared by a good read). */
  readonly readErrors = new Map<string, string>();
  private readonly options: ChaosOptions;
  private readonly platform: ChaosPlatform;
  private readonly receiver: WebhookReceiver;
  readonly client: ChaosClient;
  readonly faults: FaultInjector;
  private readonly started = Date.now();
  private submitting = true;

  constructor(options: ChaosOptions, platform: ChaosPlatform, receiver: WebhookReceiver) {
    this.options = options;
    this.platform = platform;
    this.receiver = receiver;
    this.client = new ChaosClient({ apiUrl: (i) => platform.apiUrl(i), apis: options.apis, apiKey: API_KEY, webhookUrl: receiver.url, retryForMs: 90_000 });
    this.faults = new FaultInjector(platform, receiver, {
      pendingWebhooks: (slot) => this.pendingWebhooks(slot),
      workLeft: () => this.submitting || this.terminal() < this.jobs.length,
      killGraceMs: stuckAfterSeconds(options.settings) * 1000,
      log: options.log,
    });
  }

  /** Jobs accepted by an API slot whose webhook has not been delivered yet. */
  private pendingWebhooks(slot: number): number {
    const delivered = this.receiver.deliveredJobs();
    return this.jobs.filter((j) => j.via === slot && j.webhook && !delivered.has(j.id)).length;
  }

  terminal(): number {
    return this.jobs.filter((j) => TERMINAL.has(this.status.get(j.id) ?? '')).length;
  }

  progressLine(): string {
    const faults = [...this.faults.counts.values()].join('/');
    const up = (slots: { child: unknown }[]): string => `${slots.filter((s) => s.child).length}/${slots.length}`;
    const q = this.platform.queueCounts();
    return (
      `[${Math.round((Date.now() - this.started) / 1000)} s] submitted ${this.jobs.length}/${this.options.jobs}, terminal ${this.terminal()}, ` +
      `webhooks delivered ${this.receiver.deliveredJobs().size}, faults ${faults} (worker/api/azurite/stand-in/500 s), ` +
      `apis up ${up(this.platform.apis)}, workers up ${up(this.platform.workers)}, queue ${q ? `${q.active} active ${q.deadLettered} DLQ` : 'down'}`
    );
  }

  /** Submits every job, evenly spread over 80% of the window, at most 8 at once. */
  async submitAll(images: ChaosImage[]): Promise<void> {
    const spacing = (this.options.windowSeconds * 800) / Math.max(1, images.length);
    const start = Date.now();
    const inFlight = new Set<Promise<void>>();
    for (const [index, image] of images.entries()) {
      await sleep(Math.max(0, start + index * spacing - Date.now()));
      while (inFlight.size >= 8) await Promise.race(inFlight);
      const task = this.client
        .submit(index, image, index % 5 !== 4, index % 2 === 0 ? 'multipart' : 'upload-url')
        .then((job) => {
          if (job) this.jobs.push(job);
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
    }
    await Promise.all(inFlight);
    this.submitting = false;
  }

  async createUnsubmitted(): Promise<void> {
    for (let i = 0; i < this.options.unsubmitted; i++) {
      const id = await this.client.createUnsubmitted();
      if (id) this.unsubmitted.push(id);
    }
  }

  /** Re-reads the records of jobs not terminal yet (errors while Azurite restarts are skipped). */
  async refresh(): Promise<void> {
    const open = [...this.jobs.map((j) => j.id), ...this.unsubmitted].filter((id) => !TERMINAL.has(this.status.get(id) ?? ''));
    await eachLimited(open, 16, async (id) => {
      try {
        const record = await this.platform.records.get(PIPELINE, id);
        this.readErrors.delete(id);
        if (record) this.status.set(id, record.status);
      } catch (error) {
        this.readErrors.set(id, (error as Error).message.split('\n')[0]!.slice(0, 200));
      }
    });
  }

  /** Jobs delivered by webhook that the client has no id for. */
  unknownDelivered(): number {
    const known = new Set(this.jobs.map((j) => j.id));
    return [...this.receiver.deliveredJobs()].filter((id) => !known.has(id)).length;
  }

  /** Every job terminal and every terminal job's webhook delivered. */
  done(): boolean {
    if (this.submitting) return false;
    const delivered = this.receiver.deliveredJobs();
    return this.jobs.every((j) => TERMINAL.has(this.status.get(j.id) ?? '') && (!j.webhook || delivered.has(j.id)));
  }

  /** Waits until done(), until nothing changed for stuckAfterSeconds, or until maxWaitSeconds. */
  async waitForEnd(): Promise<string> {
    const stallMs = stuckAfterSeconds(this.options.settings) * 1000;
    const capAt = Date.now() + this.options.maxWaitSeconds * 1000;
    let lastChange = Date.now();
    let last = '';
    for (;;) {
      await this.refresh();
      if (this.done()) return 'every job terminal and every webhook delivered';
      const now = `${this.terminal()}/${this.receiver.deliveredJobs().size}`;
      if (now !== last) [last, lastChange] = [now, Date.now()];
      if (Date.now() - lastChange > stallMs) return `nothing changed for ${stallMs / 1000} s (the longest deadline plus one recovery interval)`;
      if (Date.now() > capAt) return `the wait cap of ${this.options.maxWaitSeconds} s was reached`;
      await sleep(2_000);
    }
  }

  /** Reads every record and result once more, for the verdict. */
  async judgedInputs(): Promise<JudgedInput[]> {
    const inputs: JudgedInput[] = [];
    await eachLimited(this.jobs, 16, async (job) => {
      const record = await retry(() => this.platform.records.get(PIPELINE, job.id));
      const resultOf = record?.status === 'succeeded' ? (record.resultOf ?? job.id) : undefined;
      const result = resultOf ? await retry(() => this.platform.blobs.readResult(resultOf)) : undefined;
      inputs.push({
        id: job.id,
        poison: job.image.poison,
        text: job.image.text,
        webhook: job.webhook,
        status: record?.status,
        errorCode: record?.errorCode,
        errorMessage: record?.errorMessage,
        resultText: result?.text,
      });
    });
    return inputs;
  }
}

async function retry<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= 5) throw error;
      await sleep(1_000);
    }
  }
}

async function renderImages(options: ChaosOptions): Promise<ChaosImage[]> {
  const images: ChaosImage[] = [];
  // Poison images spread evenly through the run.
  const every = options.poison > 0 ? Math.floor(options.jobs / options.poison) : Number.POSITIVE_INFINITY;
  for (let i = 0; i < options.jobs; i++) {
    const poison = i % every === every - 1 && images.filter((x) => x.poison).length < options.poison;
    images.push(poison ? await poisonImage(i) : await receiptImage(i));
  }
  return images;
}

function unsubmittedNotes(run: ChaosRun): [string, string][] {
  const byStatus = new Map<string, number>();
  for (const id of run.unsubmitted) {
    const status = run.status.get(id) ?? (run.readErrors.has(id) ? 'unreadable record' : 'no record');
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  }
  const parts = [...byStatus.entries()].map(([status, n]) => `${n} ${status}`).join(', ');
  const errors = [...run.readErrors.values()];
  return [
    // An API that writes the record only at submit (signed job tokens) leaves none for these; one that writes it at create must expire it.
    ['upload URLs never submitted (expired, or no record)', `${run.unsubmitted.length}${parts ? `: ${parts}` : ''}`],
    ...(errors.length > 0 ? ([[`records unreadable at the end (${errors.length}), first error`, errors[0]!]] as [string, string][]) : []),
  ];
}

export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const log = options.log;
  const load = loadavg()[0]!.toFixed(2);
  const images = await renderImages(options);
  const receiver = new WebhookReceiver(WEBHOOK_SECRET);
  await receiver.listen();
  log(`starting Azurite, the stand-in, ${options.apis} API and ${options.workers} worker processes (load ${load})`);
  const platform = await ChaosPlatform.start({
    apis: options.apis,
    workers: options.workers,
    queue: { lockDurationSeconds: options.settings.lockDurationSeconds, maxDeliveryCount: options.settings.maxDeliveryCount },
    env: settingsEnv(options.settings),
  }).catch(async (error: unknown) => {
    await receiver.close();
    throw error;
  });
  const run = new ChaosRun(options, platform, receiver);
  const ticker = setInterval(() => log(run.progressLine()), options.progressSeconds * 1000);
  const refresher = setInterval(() => void run.refresh(), 3_000);
  try {
    const began = Date.now();
    await run.createUnsubmitted();
    await Promise.all([run.submitAll(images), run.faults.run(options, options.windowSeconds * 1000)]);
    log(`window over after ${Math.round((Date.now() - began) / 1000)} s; waiting for every job to end`);
    await run.faults.settled();
    const why = await run.waitForEnd();
    clearInterval(refresher);
    await run.refresh();
    log(run.progressLine());
    const summary = summarise(await run.judgedInputs(), receiver.deliveries, run.faults.counts, options.maxCer);
    summary.notes.push(
      ['wait ended because', why],
      ['run time (s)', String(Math.round((Date.now() - began) / 1000))],
      ['load average (1 min) at start / end', `${load} / ${loadavg()[0]!.toFixed(2)}`],
      ['client requests tried again', String(run.client.retries)],
      ['jobs the client gave up on before a job id', String(run.client.abandoned)],
      ['webhooks of jobs the client never learned of (a create tried again after its answer was lost)', String(run.unknownDelivered())],
      ...unsubmittedNotes(run),
      ...run.faults.notes,
      ['API or worker processes that exited by themselves (not killed by the run)', String(platform.unexpectedExits.length)],
    );
    summary.notes.push(...platform.unexpectedExits.slice(0, 5).map((line): [string, string] => ['  exited by itself', line]));
    return summary;
  } finally {
    clearInterval(ticker);
    clearInterval(refresher);
    await platform.stop().catch(() => undefined);
    await receiver.close();
  }
}
