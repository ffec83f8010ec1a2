// Scans what we ship to a cluster with kube-score (built by hack/tools.sh into the tool cache):
// the chart rendered by helm with its default values and with every optional feature on, and
// the children the operator renders from config/samples/ocrpipeline-full.yaml. It fails on
// any finding that hack/kube-score.yaml does not justify, and on any exception there that no
// longer matches a finding (so the list only holds what is still true).
//   node scripts/scan-manifests.ts              scan, print the findings, exit 1 when any is unjustified
//   node scripts/scan-manifests.ts --keep DIR   also leave the rendered manifests in DIR
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { desiredChildren } from '../src/operator/desired/index.ts';
import { input, pipeline } from '../src/operator/testing/fixtures.ts';
import { KUBE_VERSION, findTool, runHelm, templateArgs } from '../test/chart/helm.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const EXCEPTIONS_FILE = join(root, 'hack', 'kube-score.yaml');
export const KUBE_SCORE_MISSING = 'kube-score not found: run `npm run tools` (hack/tools.sh builds it into $HOME/.cache/ocr-platform/bin) or put it on PATH';

/** One rendered set of manifests, scanned on its own (a NetworkPolicy only counts for pods of the same render). */
export interface Target {
  /** The name exceptions refer to. */
  name: string;
  /** Multi-document YAML. */
  manifests: () => Promise<string>;
}

/** Every chart feature that is off by default, switched on (values.yaml documents each). */
export const CHART_FEATURES: Record<string, unknown> = {
  'serviceMonitor.enabled': true,
  'networkPolicy.enabled': true,
  'prometheusAdapter.enabled': true,
  'keda.enabled': true,
  'dashboard.enabled': true,
};

async function helmTemplate(set: Record<string, unknown>): Promise<string> {
  const result = await runHelm(templateArgs({ set }));
  if (result.code !== 0) throw new Error(`helm template failed (exit ${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** The children of the full sample, as desired.test.ts builds them (secret hashes are placeholders). */
export function sampleChildren(): string {
  const hashes = { 'ocr-servicebus/connectionString': 'h1', 'ocr-storage/connectionString': 'h2', 'ocr-api-keys/keys': 'h3' };
  return desiredChildren(input(pipeline('full'), hashes))
    .map((child) => stringify(child))
    .join('---\n');
}

export const TARGETS: Target[] = [
  { name: 'chart-default', manifests: () => helmTemplate({}) },
  { name: 'chart-features', manifests: () => helmTemplate(CHART_FEATURES) },
  { name: 'children-full', manifests: () => Promise.resolve(sampleChildren()) },
];

/** One kube-score comment on one object: what a user would have to fix. */
export interface Finding {
  target: string;
  /** "Kind/name", as exceptions name it. */
  object: string;
  check: string;
  /** kube-score's grade: 1 critical, 5 warning, 7 almost ok (10 is ok and never a finding). */
  grade: number;
  /** The comment's summary, e.g. "(operator) CPU limit is not set". */
  summary: string;
}

const reportSchema = z.array(
  z.object({
    type_meta: z.object({ kind: z.string() }),
    object_meta: z.object({ name: z.string() }),
    checks: z.array(
      z.object({
        check: z.object({ id: z.string() }),
        grade: z.number(),
        skipped: z.boolean(),
        comments: z.array(z.object({ summary: z.string() })).nullable(),
      }),
    ),
  }),
);

/** The findings in kube-score's JSON report (`-o json`, v2): every comment of a check graded under 10 and not skipped. */
export function parseReport(target: string, json: string): Finding[] {
  const findings: Finding[] = [];
  for (const object of reportSchema.parse(JSON.parse(json))) {
    for (const { check, grade, skipped, comments } of object.checks) {
      if (skipped || grade >= 10) continue;
      const base = { target, object: `${object.type_meta.kind}/${object.object_meta.name}`, check: check.id, grade };
      const summaries = comments?.length ? comments.map((c) => c.summary) : [''];
      for (const summary of summaries) findings.push({ ...base, summary });
    }
  }
  return findings;
}

export const exceptionSchema = z
  .object({
    /** kube-score check id (`kube-score list`). */
    check: z.string().min(1),
    /** Target names; `*` matches every target. */
    targets: z.array(z.string().min(1)).min(1),
    /** "Kind/name" of the objects; `*` in a name matches any run of characters. */
    objects: z.array(z.string().min(1)).min(1),
    /** Only comments whose summary contains this text (e.g. "CPU limit"); absent: every comment of the check. */
    summary: z.string().min(1).optional(),
    /** One line: why this finding is right for this project. */
    why: z.string().min(20),
  })
  .strict();
export type ScanException = z.infer<typeof exceptionSchema>;

export async function loadExceptions(file = EXCEPTIONS_FILE): Promise<ScanException[]> {
  const doc = z
    .object({ exceptions: z.array(exceptionSchema) })
    .strict()
    .parse(parse(await readFile(file, 'utf8')));
  return doc.exceptions;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const glob = (pattern: string): RegExp => new RegExp(`^${pattern.split('*').map(escape).join('.*')}$`);

export function justifies(exception: ScanException, finding: Finding): boolean {
  return (
    exception.check === finding.check &&
    exception.targets.some((t) => glob(t).test(finding.target)) &&
    exception.objects.some((o) => glob(o).test(finding.object)) &&
    (exception.summary === undefined || finding.summary.includes(exception.summary))
  );
}

export interface Verdict {
  justified: { finding: Finding; exception: ScanException }[];
  unjustified: Finding[];
  /** Exceptions that matched no finding: stale, to be deleted. */
  unused: ScanException[];
}

/** Pure: sorts findings into justified and unjustified, and finds exceptions that justify nothing. */
export function judge(findings: Finding[], exceptions: ScanException[]): Verdict {
  const verdict: Verdict = { justified: [], unjustified: [], unused: [] };
  const used = new Set<ScanException>();
  for (const finding of findings) {
    const exception = exceptions.find((e) => justifies(e, finding));
    if (exception) {
      used.add(exception);
      verdict.justified.push({ finding, exception });
    } else verdict.unjustified.push(finding);
  }
  verdict.unused = exceptions.filter((e) => !used.has(e));
  return verdict;
}

/** Runs kube-score on one file; exit codes 0 and 1 both carry a report (1 means critical findings). */
export function kubeScore(file: string): Promise<string> {
  const path = findTool('kube-score');
  if (!path) return Promise.reject(new Error(KUBE_SCORE_MISSING));
  // kube-score knows Kubernetes versions as vMAJOR.MINOR.
  const kubeVersion = KUBE_VERSION.split('.').slice(0, 2).join('.');
  const args = ['score', '--output-format', 'json', '--kubernetes-version', kubeVersion, file];
  return new Promise((resolve, reject) => {
    execFile(path, args, { timeout: 60_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? error.code : 0;
      if (code === 0 || code === 1) resolve(stdout);
      else reject(new Error(`kube-score failed on ${file} (exit ${String(code)}): ${stderr.trim()}`));
    });
  });
}

/** Renders every target into dir and scans it. */
export async function scan(targets: Target[], dir: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const target of targets) {
    const file = join(dir, `${target.name}.yaml`);
    await writeFile(file, await target.manifests());
    findings.push(...parseReport(target.name, await kubeScore(file)));
  }
  return findings;
}

const GRADES: Record<number, string> = { 1: 'CRITICAL', 5: 'WARNING', 7: 'ALMOST OK' };
const line = (f: Finding): string => `${GRADES[f.grade] ?? `grade ${f.grade}`} ${f.target} ${f.object} ${f.check}: ${f.summary}`;

/** The report, grouped by exception so each why is printed once; returns the exit code. */
export function report(verdict: Verdict, out: (text: string) => void = console.log): number {
  const where = relative(root, EXCEPTIONS_FILE);
  const scope = (e: ScanException): string => `${e.check} on ${e.objects.join(', ')} (${e.targets.join(', ')})`;
  const byException = Map.groupBy(verdict.justified, (j) => j.exception);
  for (const [e, matched] of byException) {
    out(`justified   ${scope(e)}: ${matched.length} finding(s)\n            why: ${e.why}`);
  }
  for (const finding of verdict.unjustified) out(`UNJUSTIFIED ${line(finding)}`);
  for (const e of verdict.unused) out(`STALE       exception ${scope(e)} matches no finding: delete it from ${where}`);
  const { justified, unjustified, unused } = verdict;
  const total = justified.length + unjustified.length;
  out(`scan: ${total} findings, ${justified.length} justified, ${unjustified.length} unjustified, ${unused.length} stale exceptions`);
  if (unjustified.length > 0) out(`Fix the manifest (chart or src/operator/desired), or justify the finding in ${where}.`);
  return unjustified.length + unused.length > 0 ? 1 : 0;
}

async function main(): Promise<void> {
  const keepAt = process.argv.indexOf('--keep');
  const keep = keepAt >= 0 ? process.argv[keepAt + 1] : undefined;
  const dir = keep ?? (await mkdtemp(join(tmpdir(), 'ocr-scan-')));
  await mkdir(dir, { recursive: true });
  try {
    const verdict = judge(await scan(TARGETS, dir), await loadExceptions());
    process.exitCode = report(verdict);
  } finally {
    if (!keep) await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
