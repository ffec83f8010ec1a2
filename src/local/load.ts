// `npm start -- --load N`: sends N receipts to the running platform and shows, once a
// second, what a person wants to see while the autoscaler works: the queue backlog, the
// worker pods (ready on the local node / wanted by the HPA), throughput and latency.
// The receipts are four distinct till receipts of real size and length (receipts.ts,
// LOAD_RECEIPTS), each sent as a unique variant, so none is answered from the API's result
// cache: each one is real OCR work for the workers. At the end it prints the scaling
// reaction (reaction.ts): backlog first seen -> HPA desires more -> new worker pods Ready.
import type { Platform } from './platform.ts';
import { formatReaction, ReactionClock, type Reaction } from './reaction.ts';
import { receiptVariant, renderLoadReceipts } from './receipts.ts';

export interface LoadStats {
  sent: number;
  succeeded: number;
  failed: number;
  /** seconds from the first submission to the last result */
  seconds: number;
  /** receipts per second over that time */
  throughput: number;
  latencyMs: { p50: number; p95: number; max: number };
  maxWorkersReady: number;
  maxWorkersDesired: number;
  /** seconds until the workers were back at the minimum, when waited for */
  scaleInSeconds?: number;
  /** backlog first seen -> HPA desired more -> new worker pods Ready (reaction.ts) */
  reaction: Reaction;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface Snapshot {
  t: number;
  sent: number;
  total: number;
  done: number;
  failed: number;
  active: number;
  workersReady: number;
  workersDesired: number | undefined;
  throughput: number;
  latencies: readonly number[];
}

/** One status line, e.g. `  42s  sent 40/40  done 12  backlog 26  workers 3 ready / 4 wanted  0.8 receipts/s  latency p50 5.1 s p95 9.8 s`. */
export function formatSnapshot(s: Snapshot): string {
  const sorted = [...s.latencies].sort((a, b) => a - b);
  const lat = sorted.length ? `p50 ${(percentile(sorted, 50) / 1000).toFixed(1)} s  p95 ${(percentile(sorted, 95) / 1000).toFixed(1)} s` : '-';
  return [
    `${String(Math.round(s.t)).padStart(4)}s`,
    `sent ${s.sent}/${s.total}`,
    `done ${s.done}${s.failed ? ` (failed ${s.failed})` : ''}`,
    `backlog ${s.active}`,
    `workers ${s.workersReady} ready / ${s.workersDesired ?? '?'} wanted by the HPA`,
    `${s.throughput.toFixed(2)} receipts/s`,
    `latency ${lat}`,
  ].join('  ');
}

interface Job {
  id: string;
  status: string;
  createdAt: string;
  finishedAt?: string;
}

/**
 * POST /v1/jobs; a 429 or 503 (the API's per-key rate limit, or busy) is waited out for its
 * Retry-After (default 1 s) and sent again, up to 10 times, as a well-behaved client does:
 * the load is there to keep the workers busy, not to lose receipts to the rate limit.
 */
async function submitWaitingOutLimits(
  url: string,
  headers: Record<string, string>,
  form: FormData,
  stopped: () => boolean,
): Promise<{ res: Response; body: { job?: Job; error?: { code?: string } } }> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, { method: 'POST', headers, body: form, signal: AbortSignal.timeout(30_000) });
    const body = (await res.json()) as { job?: Job; error?: { code?: string } };
    if ((res.status !== 429 && res.status !== 503) || attempt >= 10 || stopped()) return { res, body };
    const seconds = Number(res.headers.get('retry-after') ?? '1');
    await new Promise((r) => setTimeout(r, (Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 30) : 1) * 1000));
  }
}

async function limit<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** The closing lines of a load run. */
function summary(stats: LoadStats, n: number, errors: ReadonlyMap<string, number>): string {
  const { maxWorkersReady: maxReady, maxWorkersDesired: maxDesired, scaleInSeconds, failed } = stats;
  return [
    '',
    `load: ${stats.succeeded}/${n} receipts read in ${stats.seconds.toFixed(1)} s: ${stats.throughput.toFixed(2)} receipts/s`,
    `      latency (created -> finished) p50 ${(stats.latencyMs.p50 / 1000).toFixed(1)} s, p95 ${(stats.latencyMs.p95 / 1000).toFixed(1)} s, max ${(stats.latencyMs.max / 1000).toFixed(1)} s`,
    `      workers: at most ${maxReady} ready, the HPA wanted at most ${maxDesired || '? (no external metric: is prometheus-adapter running?)'}`,
    ...(scaleInSeconds !== undefined ? [`      scaled back in to 1 worker ${scaleInSeconds.toFixed(0)} s after the load`] : []),
    ...formatReaction(stats.reaction).map((l) => `      ${l}`),
    ...(failed ? [`      failed: ${failed} (${[...errors].map(([k, v]) => `${k} x${v}`).join(', ')})`] : []),
    '',
  ].join('\n');
}

export async function runLoad(
  platform: Platform,
  n: number,
  options: { stopSignal?: Promise<void>; waitForScaleIn?: boolean; write?: (line: string) => void } = {},
): Promise<LoadStats> {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { apiUrl, apiKey, kube, namespace, pipeline } = platform;
  let stop = false;
  void options.stopSignal?.then(() => {
    stop = true;
  });
  const headers = { 'x-api-key': apiKey };
  const receipts = await renderLoadReceipts();
  const reaction = new ReactionClock();
  const salt = Date.now() % 1_000_000_000; // unique across runs too, so no run hits an earlier run's cache
  const pending = new Map<string, number>(); // job id -> submitted at
  const latencies: number[] = [];
  let sent = 0;
  let failed = 0;
  let firstSent = 0;
  let lastDone = 0;
  let maxReady = 0;
  let maxDesired = 0;
  const began = Date.now();
  const errors = new Map<string, number>();
  const noteError = (what: string) => errors.set(what, (errors.get(what) ?? 0) + 1);

  const workersReady = () => platform.agent.pods().filter((p) => p.name.includes(`${pipeline}-worker-`) && p.ready).length;
  const hpaDesired = async (): Promise<number | undefined> => {
    try {
      const hpa = await kube.request<{ status?: { desiredReplicas?: number } }>(
        'GET',
        `/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers/${pipeline}-worker`,
      );
      return hpa.status?.desiredReplicas;
    } catch {
      return undefined;
    }
  };
  const snapshot = async (): Promise<Snapshot> => {
    const ready = workersReady();
    const desired = await hpaDesired();
    maxReady = Math.max(maxReady, ready);
    maxDesired = Math.max(maxDesired, desired ?? 0);
    const done = latencies.length;
    const seconds = ((lastDone || Date.now()) - (firstSent || began)) / 1000;
    const t = (Date.now() - began) / 1000;
    const active = platform.standin.counts('ocr-jobs').activeMessageCount;
    reaction.observe({ t, backlog: active, desired, ready });
    return {
      t,
      sent,
      total: n,
      done,
      failed,
      active,
      workersReady: ready,
      workersDesired: desired,
      throughput: done > 0 && seconds > 0 ? done / seconds : 0,
      latencies,
    };
  };

  write(
    `\nload: sending ${n} receipts (${receipts.map((r) => r.name).join(', ')}, in turn, each a unique variant) ` +
      `to ${apiUrl}/v1/jobs (multipart), polling each job until it finishes`,
  );
  // on a terminal the status line is redrawn in place; in a log, a line is written when
  // something other than the clock changed, and at least every 10 s
  const tty = options.write === undefined && process.stdout.isTTY;
  let lastLine = '';
  let lastWritten = 0;
  const show = (s: Snapshot, force = false): void => {
    const line = formatSnapshot(s);
    if (tty) {
      process.stdout.write(`\r\x1b[2K${line}`);
      return;
    }
    const sameButClock = line.slice(6) === lastLine.slice(6);
    if (force || !sameButClock || Date.now() - lastWritten >= 10_000) {
      write(line);
      lastLine = line;
      lastWritten = Date.now();
    }
  };
  const ticker = setInterval(() => void snapshot().then((s) => show(s)), 1_000);

  // submit: a few at a time, like several clients
  const submitting = limit(
    Array.from({ length: n }, (_, i) => i),
    4,
    async (i) => {
      if (stop) return;
      const image = await receiptVariant(receipts[i % receipts.length]!.png, salt + i);
      const form = new FormData();
      form.set('file', new Blob([new Uint8Array(image)], { type: 'image/png' }), `receipt-${i}.png`);
      try {
        const { res, body } = await submitWaitingOutLimits(`${apiUrl}/v1/jobs`, headers, form, () => stop);
        if (res.status !== 201 || !body.job) {
          failed += 1;
          noteError(`submit ${res.status} ${body.error?.code ?? ''}`);
          return;
        }
        firstSent ||= Date.now();
        sent += 1;
        pending.set(body.job.id, Date.now());
      } catch (error) {
        failed += 1;
        noteError(`submit: ${(error as Error).message}`);
      }
    },
  );

  // poll: every pending job about once a second, at most 16 requests at a time
  const poll = async (): Promise<void> => {
    await limit([...pending.keys()], 16, async (id) => {
      try {
        const res = await fetch(`${apiUrl}/v1/jobs/${id}`, { headers, signal: AbortSignal.timeout(10_000) });
        if (!res.ok) {
          noteError(`poll ${res.status}`);
          return;
        }
        const job = (await res.json()) as Job;
        if (job.status === 'succeeded' || job.status === 'failed') {
          pending.delete(id);
          lastDone = Date.now();
          if (job.status === 'failed') failed += 1;
          else latencies.push(Date.parse(job.finishedAt ?? new Date().toISOString()) - Date.parse(job.createdAt));
        }
      } catch (error) {
        noteError(`poll: ${(error as Error).message}`);
      }
    });
  };
  let submitted = false;
  void submitting.then(() => {
    submitted = true;
  });
  while (!stop && (!submitted || pending.size > 0)) {
    await poll();
    await new Promise((r) => setTimeout(r, 1_000));
  }
  await submitting;

  let scaleInSeconds: number | undefined;
  if (options.waitForScaleIn && !stop && platform.prometheusUrl) {
    const t0 = Date.now();
    if (tty) process.stdout.write('\n');
    write('load done: waiting for the HPA to scale the workers back in (up to 3 min) ...');
    while (!stop && Date.now() - t0 < 180_000) {
      if (((await hpaDesired()) ?? 0) <= 1 && workersReady() <= 1) {
        scaleInSeconds = (Date.now() - t0) / 1000;
        break;
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  clearInterval(ticker);
  const final = await snapshot();
  const sorted = [...latencies].sort((a, b) => a - b);
  const seconds = ((lastDone || Date.now()) - (firstSent || began)) / 1000;
  const stats: LoadStats = {
    sent,
    succeeded: latencies.length,
    failed,
    seconds,
    throughput: latencies.length > 0 && seconds > 0 ? latencies.length / seconds : 0,
    latencyMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? 0 },
    maxWorkersReady: maxReady,
    maxWorkersDesired: maxDesired,
    ...(scaleInSeconds !== undefined ? { scaleInSeconds } : {}),
    reaction: reaction.reaction,
  };
  show(final, true);
  if (tty) process.stdout.write('\n');
  write(summary(stats, n, errors));
  return stats;
}
