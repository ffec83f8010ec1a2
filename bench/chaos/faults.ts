// The faults of a chaos run, each on its own schedule inside the injection window:
// - SIGKILL of a worker while it runs OCR (its ocr_worker_jobs_in_flight gauge is above 0), then a restart;
// - SIGKILL of an API replica that accepted jobs whose webhooks are not delivered yet, then a restart on the same ports;
// - one Azurite restart (same data directory and ports: data persists);
// - one stand-in restart (messages are in memory only: every queued message is gone);
// - a window in which the webhook receiver answers 500.
// Kills are spread evenly; a kill whose condition is not met (no OCR in flight, no webhook pending)
// waits for it, so the counts are the kills that happened, never attempts.
import { WORKER_METRIC } from '../../src/contract/metrics.ts';
import type { ChaosPlatform, Slot } from './platform.ts';
import type { WebhookReceiver } from './receiver.ts';

export const FAULT = {
  workerKill: 'worker SIGKILL mid-OCR (then restarted)',
  apiKill: 'API SIGKILL with webhooks pending (then restarted)',
  azuriteRestart: 'Azurite restart (data directory kept)',
  standinRestart: 'stand-in restart (in-memory messages lost)',
  receiverOutage: 'webhook receiver answering 500 (seconds)',
} as const;

export interface FaultPlan {
  workerKills: number;
  apiKills: number;
  azuriteRestarts: number;
  standinRestarts: number;
  receiverOutageSeconds: number;
}

/** What the injector asks of the run. */
export interface FaultHooks {
  /** Jobs accepted by an API slot whose webhook has not been delivered yet. */
  pendingWebhooks: (apiSlot: number) => number;
  /** False once every job is submitted and terminal: nothing is left to interrupt. */
  workLeft: () => boolean;
  /** How long kills go on after the window while work is left (ms): workers that stopped receiving never become busy again. */
  killGraceMs: number;
  log: (line: string) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function inFlight(slot: Slot): Promise<number> {
  if (!slot.child) return 0;
  const response = await fetch(`${slot.child.url}/metrics`, { signal: AbortSignal.timeout(1_000) });
  const text = await response.text();
  const match = new RegExp(`^${WORKER_METRIC.inFlight}(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

export class FaultInjector {
  readonly counts = new Map<string, number>(Object.values(FAULT).map((name) => [name, 0]));
  /** What the faults found on the way: messages the stand-in restart dropped, restarts that failed. */
  readonly notes: [string, string][] = [];
  private readonly platform: ChaosPlatform;
  private readonly receiver: WebhookReceiver;
  private readonly pendingWebhooks: (apiSlot: number) => number;
  private readonly workLeft: () => boolean;
  private readonly killGraceMs: number;
  private readonly restarts: Promise<void>[] = [];
  private readonly log: (line: string) => void;

  constructor(platform: ChaosPlatform, receiver: WebhookReceiver, run: FaultHooks) {
    this.platform = platform;
    this.receiver = receiver;
    this.pendingWebhooks = run.pendingWebhooks;
    this.workLeft = run.workLeft;
    this.killGraceMs = run.killGraceMs;
    this.log = run.log;
  }

  private count(name: string, by = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + by);
  }

  /** Runs every fault of the plan within windowMs (from now); resolves when the last has been injected. */
  async run(plan: FaultPlan, windowMs: number): Promise<void> {
    const start = Date.now();
    const at = async (fraction: number, what: () => Promise<void>): Promise<void> => {
      await sleep(Math.max(0, start + fraction * windowMs - Date.now()));
      await what();
    };
    const once = (n: number, fraction: number, what: () => Promise<void>): Promise<void> => (n > 0 ? at(fraction, what) : Promise.resolve());
    await Promise.all([
      this.kills(plan.workerKills, start, windowMs, () => this.killBusyWorker()),
      this.kills(plan.apiKills, start, windowMs, () => this.killApiWithPendingWebhooks()),
      once(plan.azuriteRestarts, 0.35, () => this.restartAzurite()),
      once(plan.receiverOutageSeconds, 0.45, () => this.receiverOutage(plan.receiverOutageSeconds)),
      once(plan.standinRestarts, 0.6, () => this.restartStandin()),
    ]);
  }

  /** Waits for every restart started by a kill (call before judging). */
  async settled(): Promise<void> {
    await Promise.all(this.restarts);
  }

  /**
   * `n` kills spread over the first three quarters of the window; each tries until `attempt` kills something (true). On a busy machine restarted workers
   * may take longer than the window to be back, so kills go on after it, until nothing is left to interrupt or killGraceMs has passed.
   */
  private async kills(n: number, start: number, windowMs: number, attempt: () => Promise<boolean>): Promise<void> {
    // Within the first 75 % of the window, while jobs are still being submitted (over its first 80 %): on a quiet machine the
    // workers finish each job within a second, and a kill planned after the last submission found nothing left to interrupt.
    const spacing = (windowMs * 0.75) / Math.max(1, n);
    for (let k = 0; k < n; k++) {
      await sleep(Math.max(0, start + spacing * (k + 0.3) - Date.now()));
      while (!(await attempt().catch(() => false))) {
        if (!this.workLeft() || Date.now() > start + windowMs + this.killGraceMs) return;
        await sleep(100);
      }
    }
  }

  private restart(slot: Slot, start: () => Promise<void>): void {
    const { restarted } = this.platform.kill(slot, start);
    this.restarts.push(
      restarted.catch((error: unknown) => {
        this.notes.push([`${slot.name} failed to restart`, (error as Error).message.slice(0, 200)]);
      }),
    );
  }

  private async killBusyWorker(): Promise<boolean> {
    for (const [i, slot] of this.platform.workers.entries()) {
      if (!slot.child || slot.starting || (await inFlight(slot).catch(() => 0)) === 0) continue;
      this.restart(slot, () => this.platform.startWorker(i));
      this.count(FAULT.workerKill);
      this.log(`fault: SIGKILLed ${slot.name} mid-OCR`);
      return true;
    }
    return false;
  }

  private killApiWithPendingWebhooks(): Promise<boolean> {
    const up = this.platform.apis.filter((s) => s.child && !s.starting).length;
    for (const [i, slot] of this.platform.apis.entries()) {
      // Keep one replica serving, as a rollout or an eviction would.
      if (!slot.child || slot.starting || up < 2 || this.pendingWebhooks(i) === 0) continue;
      const pending = this.pendingWebhooks(i);
      this.restart(slot, () => this.platform.startApi(i));
      this.count(FAULT.apiKill);
      this.log(`fault: SIGKILLed ${slot.name} with ${pending} webhooks pending`);
      return Promise.resolve(true);
    }
    return Promise.resolve(false);
  }

  private async restartAzurite(): Promise<void> {
    this.log('fault: restarting Azurite');
    await this.platform.restartAzurite(2_000);
    this.count(FAULT.azuriteRestart);
    this.log('fault: Azurite is back');
  }

  private async restartStandin(): Promise<void> {
    const before = this.platform.queueCounts();
    this.log(`fault: restarting the stand-in (${before?.active ?? 0} active, ${before?.scheduled ?? 0} scheduled messages will be lost)`);
    await this.platform.restartStandin(1_000);
    this.count(FAULT.standinRestart);
    this.notes.push([
      'messages the stand-in restart dropped (active + scheduled + dead-lettered)',
      String((before?.active ?? 0) + (before?.scheduled ?? 0) + (before?.deadLettered ?? 0)),
    ]);
  }

  private async receiverOutage(seconds: number): Promise<void> {
    this.log(`fault: the webhook receiver answers 500 for ${seconds} s`);
    this.receiver.failing = true;
    await sleep(seconds * 1000);
    this.receiver.failing = false;
    this.count(FAULT.receiverOutage, seconds);
    this.log('fault: the webhook receiver answers 204 again');
  }
}
