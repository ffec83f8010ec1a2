// The hostile-input suite's runner: each case is one attack with the answer the docs promise
// for it. A case passes ("as documented") when the observed answer equals the expected one.
// A crash is worse than a wrong answer: the target died or stopped answering its probe, it
// answered 5xx where the docs promise a refusal, or it gave no answer within the case's bound.
// Rows from every group are collected here and printed as one table, then the final line
// `security: <cases> cases, <refused> refused as documented, <crashes> crashes`.

export interface Case {
  /** Short and stable, e.g. api-ssrf-metadata. */
  id: string;
  attack: string;
  /** The documented answer, in the same words `run` reports: `400 WEBHOOK_URL_REFUSED (loopback)`, `dead-lettered CONTENT_MISMATCH`. */
  expected: string;
  /** Makes the attack and reports what the target answered. */
  run(): Promise<string>;
  /** How long the target may take to answer, in ms (default 30 000); longer counts as a hang. */
  timeoutMs?: number;
}

export interface Group {
  name: string;
  /** What is attacked, for the table: "API process (HTTP)", "stand-in (SDK, raw sockets)". */
  target: string;
  cases: Case[];
  /** Set when the group cannot run here (its rows are listed as skipped and not counted). */
  skipped?: string;
  /** After each case: undefined while the target is healthy, else what went wrong (a crash). */
  health?(): Promise<string | undefined>;
}

export type Verdict = 'as documented' | 'WRONG ANSWER' | 'CRASH' | 'skipped';

export interface Row {
  group: string;
  id: string;
  attack: string;
  expected: string;
  observed: string;
  verdict: Verdict;
}

export interface Tally {
  cases: number;
  refused: number;
  crashes: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const rows: Row[] = [];

class Hung extends Error {}

async function bounded<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Hung(`no answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, hung]);
  } finally {
    clearTimeout(timer);
  }
}

const is5xx = (answer: string): boolean => /^5\d\d\b/.test(answer);

async function runCase(group: Group, c: Case): Promise<Row> {
  const row: Row = { group: group.name, id: c.id, attack: c.attack, expected: c.expected, observed: '', verdict: 'WRONG ANSWER' };
  let crashed = false;
  try {
    row.observed = await bounded(c.run(), c.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    crashed = is5xx(row.observed) && !is5xx(c.expected);
  } catch (error) {
    row.observed = `error: ${error instanceof Error ? error.message : String(error)}`.replace(/\s+/g, ' ');
    crashed = error instanceof Hung;
  }
  const sick = group.health ? await bounded(group.health(), 10_000).catch((error: unknown) => String(error)) : undefined;
  if (sick !== undefined) {
    row.observed += `; target: ${sick}`;
    crashed = true;
  }
  row.verdict = crashed ? 'CRASH' : row.observed === c.expected ? 'as documented' : 'WRONG ANSWER';
  return row;
}

/** Runs a group's cases one after another, records their rows, and returns the group's tally. */
export async function runGroup(group: Group): Promise<Tally> {
  const mine: Row[] = [];
  for (const c of group.cases) {
    if (group.skipped !== undefined) {
      mine.push({ group: group.name, id: c.id, attack: c.attack, expected: c.expected, observed: '-', verdict: 'skipped' });
      continue;
    }
    mine.push(await runCase(group, c));
  }
  rows.push(...mine);
  return tally(mine);
}

export function tally(of: readonly Row[] = rows): Tally {
  const counted = of.filter((r) => r.verdict !== 'skipped');
  return {
    cases: counted.length,
    refused: counted.filter((r) => r.verdict === 'as documented').length,
    crashes: counted.filter((r) => r.verdict === 'CRASH').length,
  };
}

export function finalLine(t: Tally = tally()): string {
  return `security: ${t.cases} cases, ${t.refused} refused as documented, ${t.crashes} crashes`;
}

/** Cells wider than this are cut in the table; rows that did not match print in full below it. */
const MAX_CELL = 64;

function cell(text: string, width: number): string {
  const cut = text.length > width ? `${text.slice(0, width - 1)}…` : text;
  return cut.padEnd(width);
}

/** The table of every row so far, grouped, with the skipped groups' reason and the final line last. */
export function report(skips: ReadonlyMap<string, string> = new Map()): string {
  const columns = ['id', 'attack', 'expected', 'observed', 'verdict'] as const;
  const widths = columns.map((k) => Math.min(MAX_CELL, Math.max(k.length, ...rows.map((r) => r[k].length))));
  const line = (values: readonly string[]): string => values.map((v, i) => cell(v, widths[i] ?? MAX_CELL)).join(' | ');
  const out: string[] = ['', line(columns), widths.map((w) => '-'.repeat(w)).join('-+-')];
  let group = '';
  for (const r of rows) {
    if (r.group !== group) {
      group = r.group;
      const skip = skips.get(group);
      out.push(`# ${group}${skip ? ` (skipped: ${skip}; counted neither as cases nor as refused)` : ''}`);
    }
    out.push(line(columns.map((k) => r[k])));
  }
  const odd = rows.filter((r) => r.verdict === 'WRONG ANSWER' || r.verdict === 'CRASH');
  if (odd.length > 0) {
    out.push('', 'Not as documented:');
    for (const r of odd) out.push(`  ${r.id} [${r.verdict}]`, `    expected: ${r.expected}`, `    observed: ${r.observed}`);
  }
  out.push('', finalLine());
  return out.join('\n') + '\n';
}
