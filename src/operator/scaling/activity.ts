// The data-plane signal that wakes an idle queue poller (issue 14, item 8). While every queue
// of a Service Bus namespace is empty the poller reads it once a minute (Microsoft's advice
// for the runtime counters, schedule.ts), so a backlog could wait up to 72 s (60 s + 20 %
// jitter) before the operator saw it. The API counts every job it creates
// (ocr_api_jobs_created_total, scraped by Prometheus with namespace and pipeline labels): one
// Prometheus instant query per activityMs for all pipelines tells which ones just received
// work, and their pollers read at once instead of at their timer. No Service Bus management
// call is added: a wake only moves a read that was due anyway forward, at most once per
// busyMs per poller, never during a failure backoff (namespace-poller.ts wake()).
//
// Worst case from the first job to the HPA desiring more, at production defaults (scrape
// interval 15 s for the API pods and the operator, activityMs 1 s, HPA sync 15 s):
// 15 + 1 + 15 + 15 = 46 s, against 105 s without the wake; KEDA's default is 30 + 15 = 45 s.
import type { Logger } from '../../shared/logger.ts';
import { API_METRIC } from '../../contract/metrics.ts';
import { byPipeline, instantQuery } from './prometheus.ts';

/** The API's created-jobs counter per pipeline key (namespace/name), summed over its pods. */
export type ActivitySource = () => Promise<Map<string, number>>;

export function prometheusActivity(prometheusUrl: string): ActivitySource {
  return async () => byPipeline(await instantQuery(prometheusUrl, `sum by (namespace, pipeline) (${API_METRIC.jobsCreated})`));
}

/**
 * Pure: the pipelines whose counter rose since the previous reading. A pipeline seen for the
 * first time is a baseline, not activity (the operator just started or the series is new);
 * a counter that fell (an API pod restarted) is a new baseline too.
 */
export function risen(previous: ReadonlyMap<string, number> | undefined, current: ReadonlyMap<string, number>): string[] {
  if (!previous) return [];
  return [...current.entries()].filter(([key, value]) => value > (previous.get(key) ?? value)).map(([key]) => key);
}

export interface ActivityProbeOptions {
  source: ActivitySource;
  /** Interval between queries (ms). */
  everyMs: number;
  /** The pipelines with new jobs since the last query. */
  onActivity: (keys: string[]) => void;
  log: Logger;
}

/** Queries the source every everyMs (one query at a time) and reports the pipelines that received jobs. */
export class ActivityProbe {
  readonly #o: ActivityProbeOptions;
  #previous: Map<string, number> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #failing = false;

  constructor(o: ActivityProbeOptions) {
    this.#o = o;
  }

  start(): void {
    if (this.#timer === undefined && !this.#closed) this.#schedule();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  async #tick(): Promise<void> {
    try {
      const current = await this.#o.source();
      const keys = risen(this.#previous, current);
      this.#previous = current;
      if (this.#failing) this.#o.log.info('Read the API job counters from Prometheus again');
      this.#failing = false;
      if (keys.length > 0) this.#o.onActivity(keys);
    } catch (err) {
      // Without the signal the pollers keep their own pace: log once per failure streak.
      if (!this.#failing) this.#o.log.warn({ err }, 'Failed to read the API job counters from Prometheus; queue pollers keep their own pace');
      this.#failing = true;
    }
    if (!this.#closed) this.#schedule();
  }

  /** unref: the probe alone never keeps a process (or a test) alive. */
  #schedule(): void {
    this.#timer = setTimeout(() => void this.#tick(), this.#o.everyMs);
    this.#timer.unref();
  }
}
