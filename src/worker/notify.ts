// "Job finished" notices: a sync job's message names the API replica that waits for it
// (the message's NOTIFY_PROPERTY application property, `http://<pod IP>:<internal port>/internal/v1/jobs/<jobId>/done`),
// and once the processor has written the terminal record (succeeded or failed) the worker POSTs there, so the
// waiting POST /v1/ocr answers at once instead of at its next poll (src/api/jobs/wait.ts).
//
// A notice never delays the job: the processor starts it right after the terminal record
// write (ProcessorDeps.onFinished) and does not wait for it; one attempt and at most one
// retry, each within NOTICE_TIMEOUT_MS. A lost notice costs only latency: the API also polls.
//
// The message is not trusted (anyone who may send to the queue can write one), so the worker
// contacts only what a notice can be: plain http to an IP literal (no DNS, not link-local:
// no instance metadata service), on the API's internal port (WORKER_NOTIFY_PORT), at exactly
// the path of the message's own job, with no body. The pipeline's NetworkPolicy allows worker
// pods that port on the pipeline's API pods only (src/operator/desired/network-policy.ts).
import { isIP } from 'node:net';
import { NOTIFY_PROPERTY } from '../jobs/queue.ts';
import { completionPath, type JobMessage } from '../jobs/schema.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';

/** Time one notice attempt may take, in ms. */
export const NOTICE_TIMEOUT_MS = 1_000;

/** Least time between two log lines of the same warning, in ms (the others are counted in the next line's alsoSince). */
export const LOG_EVERY_MS = 60_000;

export type NoticeOutcome = 'sent' | 'failed' | 'refused';

export interface NotifierOptions {
  /** The only port notices go to (the API's internal port); 0 = any port (local runs where ports are mapped). */
  port: number;
  log: Logger;
  /** Per attempt, in ms; default NOTICE_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Counts each notice's outcome (metrics, tests). */
  onNotice?: (outcome: NoticeOutcome) => void;
  /** For the log throttle; default systemClock. */
  clock?: Clock;
}

/** Link-local and unspecified addresses: never a pod. */
const NEVER = [/^169\.254\./, /^0\.0\.0\.0$/, /^fe[89ab][0-9a-f]:/i, /^::$/];

/** Why `url` is not a notice address for job `jobId` on `port`, or undefined when it is one. Pure. */
export function refuseNoticeUrl(url: string, jobId: string, port: number): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a URL';
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (parsed.protocol !== 'http:') return `scheme ${parsed.protocol} (only http)`;
  if (parsed.username || parsed.password || parsed.search || parsed.hash) return 'credentials, query or fragment';
  if (isIP(host) === 0) return `host ${host.slice(0, 100)} is not an IP address`;
  if (NEVER.some((pattern) => pattern.test(host))) return `host ${host} is link-local or unspecified`;
  const actual = Number(parsed.port || 80);
  if (port !== 0 && actual !== port) return `port ${actual} is not the API's internal port ${port}`;
  if (parsed.pathname !== completionPath(jobId)) return `path ${parsed.pathname.slice(0, 200)} is not this job's notice path`;
  return undefined;
}

export class CompletionNotifier {
  private readonly options: NotifierOptions;
  private readonly pending = new Set<Promise<void>>();
  /** Per message: when it was last logged (ms) and how many were left out since; see warn(). */
  private readonly logged = new Map<string, { at: number; skipped: number }>();

  constructor(options: NotifierOptions) {
    this.options = options;
  }

  /** Starts the notice a finished job's message asks for (its NOTIFY_PROPERTY application property), if any; returns at once. */
  notify(job: Pick<JobMessage, 'jobId'>, properties: Record<string, unknown> | undefined): void {
    const url = properties?.[NOTIFY_PROPERTY];
    if (url === undefined) return;
    if (typeof url !== 'string') {
      this.warn({ jobId: job.jobId }, 'Refused to send a job-finished notice');
      this.options.onNotice?.('refused');
      return;
    }
    const refused = refuseNoticeUrl(url, job.jobId, this.options.port);
    if (refused) {
      this.warn({ jobId: job.jobId, reason: refused }, 'Refused to send a job-finished notice');
      this.options.onNotice?.('refused');
      return;
    }
    const sending = this.send(url, job.jobId).finally(() => this.pending.delete(sending));
    this.pending.add(sending);
  }

  /** Waits for the notices on the wire (at most two attempts each); for shutdown and tests. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  /**
   * Logs a warning at most once per LOG_EVERY_MS per message, with the number left out since: a replica that cannot be
   * reached (or a flood of forged messages) would otherwise log one line per job.
   */
  private warn(fields: Record<string, unknown>, message: string): void {
    const now = (this.options.clock ?? systemClock)();
    const last = this.logged.get(message);
    if (last && now - last.at < LOG_EVERY_MS) {
      last.skipped++;
      return;
    }
    this.options.log.warn({ ...fields, ...(last?.skipped ? { alsoSince: last.skipped } : {}) }, message);
    this.logged.set(message, { at: now, skipped: 0 });
  }

  private async send(url: string, jobId: string): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? NOTICE_TIMEOUT_MS;
    let lastError: unknown;
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        const response = await fetch(url, { method: 'POST', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
        await response.body?.cancel();
        this.options.onNotice?.(response.ok ? 'sent' : 'failed');
        if (!response.ok) this.warn({ jobId, status: response.status }, 'Failed to deliver a job-finished notice');
        return;
      } catch (error) {
        lastError = error; // connection refused or timed out: one more try
      }
    }
    this.options.onNotice?.('failed');
    this.warn({ jobId, err: lastError }, 'Failed to deliver a job-finished notice; the API finds the job by polling');
  }
}
