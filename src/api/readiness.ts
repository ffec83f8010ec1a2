// Dependency checks for /ready and /health: storage (records and blobs) and the
// queue, each bounded by a timeout and reused for `cacheMs` so that probes from
// the kubelet and load balancers do not turn into load on Azure.
import { systemClock, type Clock } from '../shared/clock.ts';

export interface CheckResult {
  ok: boolean;
  latencyMs: number;
  checkedAt: string;
  error?: string;
}

export type Check = () => Promise<void>;

export class Readiness {
  private readonly checks: Record<string, Check>;
  private readonly cacheMs: number;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private last: { at: number; results: Record<string, CheckResult> } | undefined;
  private running: Promise<Record<string, CheckResult>> | undefined;
  private closing = false;

  /** Results are reused for `cacheMs`; one check gets `timeoutMs` to answer (default 3 s). */
  constructor(checks: Record<string, Check>, cacheMs: number, clock: Clock = systemClock, timeoutMs = 3_000) {
    this.checks = checks;
    this.cacheMs = cacheMs;
    this.clock = clock;
    this.timeoutMs = timeoutMs;
  }

  /** From now on /ready answers 503, so load balancers stop sending traffic during shutdown. */
  markClosing(): void {
    this.closing = true;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  private async runOne(check: Check): Promise<CheckResult> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
      return { ok: true, latencyMs: Math.round(performance.now() - started), checkedAt: new Date(this.clock()).toISOString() };
    } catch (error) {
      return {
        ok: false,
        latencyMs: Math.round(performance.now() - started),
        checkedAt: new Date(this.clock()).toISOString(),
        error: error instanceof Error ? error.message.split('\n')[0] : String(error),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async results(): Promise<Record<string, CheckResult>> {
    if (this.last && this.clock() - this.last.at < this.cacheMs) return this.last.results;
    this.running ??= (async () => {
      const entries = await Promise.all(Object.entries(this.checks).map(async ([name, check]) => [name, await this.runOne(check)] as const));
      const results = Object.fromEntries(entries);
      this.last = { at: this.clock(), results };
      return results;
    })().finally(() => {
      this.running = undefined;
    });
    return await this.running;
  }

  async ready(): Promise<{ ready: boolean; results: Record<string, CheckResult> }> {
    const results = await this.results();
    return { ready: !this.closing && Object.values(results).every((r) => r.ok), results };
  }
}
