// A work queue keyed by "namespace/name", in the client-go shape:
// - coalesces: adding a key that is already waiting is a no-op;
// - never runs one key twice at once: a key added while it runs is run once more after;
// - retries failures with capped exponential backoff and jitter, and forgets the failure
//   count after a success;
// - runs up to `concurrency` different keys in parallel.

export interface BackoffOptions {
  /** First retry delay in ms (default 500). */
  baseMs: number;
  /** Largest retry delay in ms (default 300000 = 5 min). */
  maxMs: number;
  /** Spread as a fraction of the delay, 0..1 (default 0.2 = ±20%), so retries of many keys do not align. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 300_000, jitter: 0.2 };

/** Delay before retry number `failures` (1 = first retry). Never above maxMs. */
export function backoffDelay(failures: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = opts.baseMs * 2 ** Math.max(0, failures - 1);
  const capped = Math.min(opts.maxMs, exp);
  const jittered = capped * (1 + opts.jitter * (2 * random() - 1));
  return Math.max(0, Math.min(opts.maxMs, Math.round(jittered)));
}

export interface WorkQueueHooks {
  /** Waiting keys changed (for a depth gauge). */
  depth?(n: number): void;
  added?(): void;
  retried?(): void;
  /** Seconds a key waited between being added and starting to run. */
  waited?(seconds: number): void;
  failed?(key: string, err: unknown, failures: number, retryInMs: number): void;
}

export interface WorkQueueOptions {
  process: (key: string) => Promise<void>;
  concurrency?: number;
  backoff?: Partial<BackoffOptions>;
  random?: () => number;
  hooks?: WorkQueueHooks;
}

export class WorkQueue {
  #process: (key: string) => Promise<void>;
  #concurrency: number;
  #backoff: BackoffOptions;
  #random: () => number;
  #hooks: WorkQueueHooks;

  #waiting = new Set<string>(); // insertion order = FIFO
  #addedAt = new Map<string, number>();
  #running = new Set<string>();
  #again = new Set<string>(); // added while running
  #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  #failures = new Map<string, number>();
  #inflight = new Set<Promise<void>>();
  #stopped = false;

  constructor(opts: WorkQueueOptions) {
    this.#process = opts.process;
    this.#concurrency = opts.concurrency ?? 2;
    this.#backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.#random = opts.random ?? Math.random;
    this.#hooks = opts.hooks ?? {};
  }

  get depth(): number {
    return this.#waiting.size;
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  add(key: string): void {
    if (this.#stopped) return;
    this.#hooks.added?.();
    if (this.#running.has(key)) {
      this.#again.add(key);
      return;
    }
    if (this.#waiting.has(key)) return;
    this.#waiting.add(key);
    this.#addedAt.set(key, performance.now());
    this.#hooks.depth?.(this.#waiting.size);
    this.#pump();
  }

  /** Adds the key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.#stopped) return;
    if (ms <= 0) return this.add(key);
    const at = performance.now() + ms;
    const pending = this.#timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.#timers.set(key, { at, timer });
  }

  /** Stops taking work, cancels pending retries and waits for running keys to finish. */
  async shutdown(): Promise<void> {
    this.#stopped = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#waiting.clear();
    this.#again.clear();
    await Promise.allSettled([...this.#inflight]);
  }

  #pump(): void {
    while (!this.#stopped && this.#running.size < this.#concurrency && this.#waiting.size > 0) {
      const key = this.#waiting.values().next().value as string;
      this.#waiting.delete(key);
      this.#hooks.depth?.(this.#waiting.size);
      const addedAt = this.#addedAt.get(key);
      this.#addedAt.delete(key);
      if (addedAt !== undefined) this.#hooks.waited?.((performance.now() - addedAt) / 1000);
      this.#running.add(key);
      const run = this.#run(key);
      this.#inflight.add(run);
      void run.finally(() => this.#inflight.delete(run));
    }
  }

  async #run(key: string): Promise<void> {
    try {
      await this.#process(key);
      this.#failures.delete(key);
    } catch (err) {
      const failures = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, failures);
      const delay = backoffDelay(failures, this.#backoff, this.#random);
      this.#hooks.retried?.();
      this.#hooks.failed?.(key, err, failures, delay);
      this.addAfter(key, delay);
    } finally {
      this.#running.delete(key);
      if (this.#again.delete(key)) this.add(key);
      this.#pump();
    }
  }
}
