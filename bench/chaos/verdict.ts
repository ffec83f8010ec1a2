// Pure: what a chaos run found. Each submitted job is judged from its record and result as read
// at the end, the webhook deliveries are counted from the receiver's log, and the table and the
// final line are formatted from those numbers only.
//
// lost: a submitted job with no record. stuck: a record not terminal at the end. wrong: a result
// whose text does not match the image's known text (character error rate over the threshold,
// bench/ocr/cer.ts), or a poison image that did not end `failed`. A good image that ended `failed`
// is a clear failure, not a wrong result: it has its own row in the table, by error code.
import { cer } from '../ocr/cer.ts';
import type { Delivery } from './receiver.ts';

const TERMINAL = new Set(['succeeded', 'failed', 'expired']);

export interface JudgedInput {
  id: string;
  poison: boolean;
  /** The image's known text; undefined for poison. */
  text: string | undefined;
  webhook: boolean;
  /** The record at the end; undefined when there is none. */
  status: string | undefined;
  errorCode: string | undefined;
  errorMessage?: string | undefined;
  /** The result's text when the job succeeded and its result could be read. */
  resultText: string | undefined;
}

export interface Verdict {
  outcome: string;
  lost: boolean;
  stuck: boolean;
  wrong: boolean;
  /** The character error rate of a succeeded good image. */
  cer?: number;
}

export function judge(job: JudgedInput, maxCer: number): Verdict {
  const none = { lost: false, stuck: false, wrong: false };
  if (job.status === undefined) return { ...none, outcome: 'lost (no record)', lost: true };
  if (!TERMINAL.has(job.status)) return { ...none, outcome: `stuck in ${job.status}`, stuck: true };
  if (job.poison) {
    return job.status === 'failed'
      ? { ...none, outcome: `poison failed (${job.errorCode ?? 'no code'})` }
      : { ...none, outcome: `poison ${job.status}`, wrong: true };
  }
  if (job.status !== 'succeeded') return { ...none, outcome: `good image ${job.status} (${job.errorCode ?? 'no code'})` };
  if (job.resultText === undefined) return { ...none, outcome: 'succeeded without a readable result', wrong: true };
  const rate = cer(job.resultText, job.text ?? '');
  return rate <= maxCer
    ? { ...none, outcome: 'succeeded, text matches', cer: rate }
    : { ...none, outcome: `succeeded, wrong text (CER > ${maxCer})`, wrong: true, cer: rate };
}

export interface WebhookCount {
  /** Terminal jobs submitted with a webhook URL. */
  expected: number;
  /** Of those, the jobs with at least one delivery answered 2xx. */
  delivered: number;
  /** 2xx deliveries whose delivery id was delivered before. */
  duplicates: number;
  /** Jobs delivered (2xx) under more than one delivery id. */
  jobsWithSeveralIds: number;
  /** Requests answered 500 during the receiver outage. */
  refusedDuringOutage: number;
  invalidSignatures: number;
  /** Deliveries whose event disagrees with the job's final status. */
  wrongEvent: number;
}

export function countWebhooks(jobs: readonly JudgedInput[], deliveries: readonly Delivery[]): WebhookCount {
  const ok = deliveries.filter((d) => d.answered < 300);
  const seen = new Set<string>();
  let duplicates = 0;
  const idsByJob = new Map<string, Set<string>>();
  const statusOf = new Map(jobs.map((j) => [j.id, j.status]));
  let wrongEvent = 0;
  for (const d of ok) {
    if (seen.has(d.deliveryId)) duplicates++;
    seen.add(d.deliveryId);
    if (d.jobId === undefined) continue;
    idsByJob.set(d.jobId, (idsByJob.get(d.jobId) ?? new Set()).add(d.deliveryId));
    if (statusOf.has(d.jobId) && d.status !== statusOf.get(d.jobId)) wrongEvent++;
  }
  const expectedJobs = jobs.filter((j) => j.webhook && j.status !== undefined && TERMINAL.has(j.status));
  return {
    expected: expectedJobs.length,
    delivered: expectedJobs.filter((j) => idsByJob.has(j.id)).length,
    duplicates,
    jobsWithSeveralIds: [...idsByJob.values()].filter((ids) => ids.size > 1).length,
    refusedDuringOutage: deliveries.filter((d) => d.answered >= 500).length,
    invalidSignatures: deliveries.filter((d) => !d.signatureValid).length,
    wrongEvent,
  };
}

export interface ChaosSummary {
  jobs: number;
  lost: number;
  stuck: number;
  wrong: number;
  /** Good images that ended failed or expired (clear failures, not wrong results; each is in the table by error code). */
  goodFailed: number;
  webhooks: WebhookCount;
  outcomes: Map<string, number>;
  faults: Map<string, number>;
  /** Other lines for the table: name, value. */
  notes: [string, string][];
  /** Up to 10 jobs that did not end right (not lost, stuck, wrong or a good image that failed), with their error. */
  examples: string[];
}

export function summarise(jobs: readonly JudgedInput[], deliveries: readonly Delivery[], faults: Map<string, number>, maxCer: number): ChaosSummary {
  const outcomes = new Map<string, number>();
  let lost = 0;
  let stuck = 0;
  let wrong = 0;
  let goodFailed = 0;
  const examples: string[] = [];
  for (const job of jobs) {
    const v = judge(job, maxCer);
    const bad = v.lost || v.stuck || v.wrong || v.outcome.startsWith('good image');
    if (bad && examples.length < 10) examples.push(`${job.id}: ${v.outcome}${job.errorMessage ? `: ${job.errorMessage}` : ''}`);
    outcomes.set(v.outcome, (outcomes.get(v.outcome) ?? 0) + 1);
    if (v.lost) lost++;
    if (v.stuck) stuck++;
    if (v.wrong) wrong++;
    if (v.outcome.startsWith('good image')) goodFailed++;
  }
  return { jobs: jobs.length, lost, stuck, wrong, goodFailed, webhooks: countWebhooks(jobs, deliveries), outcomes, faults, notes: [], examples };
}

/** The line the run ends with (issue 12, item 8), exactly in this shape. */
export function finalLine(s: ChaosSummary): string {
  return `chaos: ${s.jobs} jobs, ${s.lost} lost, ${s.stuck} stuck, ${s.wrong} wrong results, webhooks ${s.webhooks.delivered}/${s.webhooks.expected}, ${s.webhooks.duplicates} duplicate deliveries`;
}

function section(title: string, rows: readonly [string, string | number][]): string[] {
  const width = Math.max(title.length, ...rows.map(([name]) => name.length));
  return [`${title.padEnd(width)}  count`, `${'-'.repeat(width)}  -----`, ...rows.map(([name, n]) => `${name.padEnd(width)}  ${n}`)];
}

export function formatTable(s: ChaosSummary): string {
  const w = s.webhooks;
  const byCount = (m: Map<string, number>): [string, number][] => [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return [
    ...section('fault', [...s.faults.entries()]),
    '',
    ...section('outcome', byCount(s.outcomes)),
    '',
    ...section('webhooks', [
      ['expected (terminal jobs with a webhook URL)', w.expected],
      ['delivered (2xx at least once)', w.delivered],
      ['duplicate deliveries (same delivery id)', w.duplicates],
      ['jobs delivered under several delivery ids', w.jobsWithSeveralIds],
      ['attempts answered 500 by the receiver', w.refusedDuringOutage],
      ['invalid signatures', w.invalidSignatures],
      ['events disagreeing with the final status', w.wrongEvent],
    ]),
    ...(s.notes.length > 0 ? ['', ...section('run', s.notes)] : []),
    ...(s.examples.length > 0 ? ['', 'jobs that did not end right (first 10):', ...s.examples.map((e) => `  ${e}`)] : []),
  ].join('\n');
}
