// OCR benchmark: tesseract.js (as the worker runs it: sharp preprocessing + a pool of
// tesseract workers) beside the native `tesseract` command, same images, same run.
//
//   npm run bench:ocr -- [--limit N] [--offset N] [--tuning name,name...] [--sweep] [--workers 1,2] [--no-native]
//                        [--engine tesseract,paddle,paddle-unfused] (paddle-unfused: paddle without fuse.ts, for A/B)
//
// Part 1 (per core): every receipt is read by native tesseract and by each tuning in
// turn (round-robin), one at a time, so load from other processes on a shared machine
// falls on all of them alike. It reports wall ms and CPU ms per receipt (CPU time is
// the fairer "per core" figure on a busy machine) and the mean CER.
// Part 2 (scaling): receipts/s of the first tuning with 1, 2, ... tesseract workers.
//
// Reads ../shared/datasets/sroie-dev (never copied into the repo).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { availableParallelism, loadavg } from 'node:os';
import { TesseractPool, type OcrEngine } from '../../src/worker/ocr/engine.ts';
import { DEFAULT_PADDLE, PaddleEngine } from '../../src/worker/ocr/paddle/engine.ts';
import { preprocess, type PreprocessSettings } from '../../src/worker/ocr/preprocess.ts';
import { DEFAULT_TUNING } from '../../src/worker/ocr/defaults.ts';
import { cer, referenceFromCsv } from './cer.ts';
import { FIELD_NAMES, scoreFields, type FieldName, type ReceiptKey } from './fields.ts';
import { receiptFields } from '../../src/fields/receipt.ts';
import { DEFAULT_MODEL, TUNINGS } from './tunings.ts';

const DATASET = resolve(import.meta.dirname, '../../../shared/datasets/sroie-dev');

interface Sample {
  id: string;
  image: Buffer;
  path: string;
  reference: string;
  /** key/NNN.json: the receipt's company, date, address and total, when the data set has it. */
  key: ReceiptKey | undefined;
}
interface Tally {
  label: string;
  wallMs: number;
  cpuMs: number;
  cers: number[];
  /** Receipt fields found right, and receipts whose key has the field. */
  fields: Record<FieldName, { hit: number; of: number }>;
}

/** `limit` receipts in name order after skipping `offset` (to tune on the first half and confirm on the second). */
function loadSamples(limit: number, offset = 0): Sample[] {
  const ids = readdirSync(join(DATASET, 'images'))
    .filter((f) => f.endsWith('.jpg'))
    .map((f) => f.slice(0, -4))
    .sort()
    .slice(offset, offset + limit);
  return ids.map((id) => {
    const path = join(DATASET, 'images', `${id}.jpg`);
    const keyPath = join(DATASET, 'key', `${id}.json`);
    const key = existsSync(keyPath) ? (JSON.parse(readFileSync(keyPath, 'utf8')) as ReceiptKey) : undefined;
    return { id, path, image: readFileSync(path), reference: referenceFromCsv(readFileSync(join(DATASET, 'ground-truth', `${id}.csv`), 'utf8')), key };
  });
}

function parseTimes(line: string): number {
  // `times` prints "0m0.512s 0m0.043s": user and system seconds of the children.
  const [user, sys] = line
    .trim()
    .split(/\s+/)
    .map((t) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(t);
      return m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN;
    });
  return ((user ?? Number.NaN) + (sys ?? Number.NaN)) * 1000;
}

/** Native tesseract, one thread; CPU time from the shell's `times` (user + sys of the child). */
async function native(sample: Sample): Promise<{ text: string; wallMs: number; cpuMs: number }> {
  const started = performance.now();
  const output = await new Promise<string>((resolveText, reject) => {
    const child = spawn('sh', ['-c', 'tesseract "$1" stdout -l eng 2>/dev/null; status=$?; echo "@@TIMES@@"; times; exit $status', 'sh', sample.path], {
      env: { ...process.env, OMP_THREAD_LIMIT: '1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolveText(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`tesseract exited ${code}`))));
  });
  const wallMs = performance.now() - started;
  const [text, times = ''] = output.split('@@TIMES@@\n');
  const childLine = times.trim().split('\n')[1] ?? '';
  return { text: text ?? '', wallMs, cpuMs: parseTimes(childLine) };
}

function nativeAvailable(): Promise<boolean> {
  return new Promise((ok) => {
    const child = spawn('tesseract', ['--version'], { stdio: 'ignore' });
    child.on('error', () => ok(false));
    child.on('close', (code) => ok(code === 0));
  });
}

function cpuNowMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function emptyFieldScore(): Tally['fields'] {
  return Object.fromEntries(FIELD_NAMES.map((f) => [f, { hit: 0, of: 0 }])) as Tally['fields'];
}

function addFieldScore(into: Tally['fields'], add: Tally['fields']): void {
  for (const f of FIELD_NAMES) {
    into[f].hit += add[f].hit;
    into[f].of += add[f].of;
  }
}

/** Mean over the fields of each field's accuracy (fields no key has are left out). */
function fieldAccuracy(fields: Tally['fields']): number | undefined {
  const scored = FIELD_NAMES.filter((f) => fields[f].of > 0);
  return scored.length === 0 ? undefined : scored.reduce((sum, f) => sum + fields[f].hit / fields[f].of, 0) / scored.length;
}

/** One engine setting the benchmark reads every receipt with: a tesseract tuning or the paddle engine. */
interface Reader {
  label: string;
  /** Which engine's summary line this reader feeds. */
  engine: 'tesseract' | 'paddle';
  ocr: OcrEngine;
  preprocess: Omit<PreprocessSettings, 'maxPixels'>;
}

async function openReaders(tunings: string[], engines: readonly string[]): Promise<Reader[]> {
  const readers: Reader[] = [];
  if (engines.includes('tesseract')) {
    for (const name of tunings) {
      const tuning = TUNINGS[name]!;
      readers.push({
        label: name === 'default' ? `default (${DEFAULT_MODEL} model)` : name,
        engine: 'tesseract',
        ocr: await TesseractPool.create({ languages: ['eng'], poolSize: 1, ...tuning.engine }),
        preprocess: tuning.preprocess,
      });
    }
  }
  if (engines.includes('paddle')) readers.push({ label: 'paddle', engine: 'paddle', ocr: await PaddleEngine.create(), preprocess: DEFAULT_TUNING.preprocess });
  // The A/B of the load-time graph rewrites (src/worker/ocr/paddle/fuse.ts): the model files as shipped.
  if (engines.includes('paddle-unfused')) {
    const ocr = await PaddleEngine.create({ ...DEFAULT_PADDLE, fuseGraphs: false });
    readers.push({ label: 'paddle, graphs as shipped', engine: 'paddle', ocr, preprocess: DEFAULT_TUNING.preprocess });
  }
  return readers;
}

async function perCore(samples: Sample[], readers: Reader[], withNative: boolean): Promise<Tally[]> {
  const tallies = new Map<string, Tally>();
  const tally = (label: string): Tally => {
    let t = tallies.get(label);
    if (!t) tallies.set(label, (t = { label, wallMs: 0, cpuMs: 0, cers: [], fields: emptyFieldScore() }));
    return t;
  };
  if (withNative) tally('native tesseract');
  for (const sample of samples) {
    if (withNative) {
      const r = await native(sample);
      const t = tally('native tesseract');
      t.wallMs += r.wallMs;
      t.cpuMs += r.cpuMs;
      t.cers.push(cer(r.text, sample.reference));
    }
    for (const reader of readers) {
      const cpu0 = cpuNowMs();
      const wall0 = performance.now();
      const prepared = await preprocess(sample.image, { maxPixels: 40_000_000, ...reader.preprocess });
      const result = await reader.ocr.recognize(prepared, { pageSegmentation: 'auto' }, 300_000);
      const t = tally(reader.label);
      t.wallMs += performance.now() - wall0;
      t.cpuMs += cpuNowMs() - cpu0;
      t.cers.push(cer(result.text, sample.reference));
      if (sample.key) addFieldScore(t.fields, scoreFields(sample.key, receiptFields(result.lines)));
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  return [...tallies.values()];
}

async function throughput(samples: Sample[], name: string, workers: number): Promise<number> {
  const tuning = TUNINGS[name]!;
  const pool = await TesseractPool.create({ languages: ['eng'], poolSize: workers, ...tuning.engine });
  try {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (next < samples.length) {
          const sample = samples[next++]!;
          const prepared = await preprocess(sample.image, { maxPixels: 40_000_000, ...tuning.preprocess });
          await pool.recognize(prepared, { pageSegmentation: 'auto' }, 300_000);
        }
      }),
    );
    return samples.length / ((performance.now() - started) / 1000);
  } finally {
    await pool.close();
  }
}

/**
 * One line per engine, from its first reader (the shipped setting): CER beside native's,
 * native CPU divided by ours (above 1 = faster than native), and the mean receipt-field
 * accuracy (src/fields/receipt.ts on the engine's lines, scored by fields.ts).
 */
function printSummaries(tallies: readonly Tally[], readers: readonly Reader[], anchor: Tally | undefined): void {
  console.log(`\n| run | ${FIELD_NAMES.join(' | ')} | mean |`);
  console.log(`|---|${FIELD_NAMES.map(() => '---|').join('')}---|`);
  for (const t of tallies.filter((x) => x !== anchor)) {
    const cells = FIELD_NAMES.map((f) => (t.fields[f].of === 0 ? '-' : `${(t.fields[f].hit / t.fields[f].of).toFixed(2)}`));
    console.log(`| ${t.label} | ${cells.join(' | ')} | ${fieldAccuracy(t.fields)?.toFixed(2) ?? '-'} |`);
  }
  console.log('');
  for (const engine of ['tesseract', 'paddle'] as const) {
    const reader = readers.find((r) => r.engine === engine);
    const t = reader && tallies.find((x) => x.label === reader.label);
    if (!t) continue;
    const nativeCer = anchor ? mean(anchor.cers).toFixed(3) : 'n/a';
    const cpu = anchor ? (anchor.cpuMs / t.cpuMs).toFixed(2) : 'n/a';
    const fields = fieldAccuracy(t.fields);
    console.log(
      `ocr ${engine}: CER ${mean(t.cers).toFixed(3)} (native ${nativeCer}), CPU ${cpu}x native, fields ${fields === undefined ? 'n/a' : fields.toFixed(2)}`,
    );
  }
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      limit: { type: 'string', default: '32' },
      offset: { type: 'string', default: '0' },
      workers: { type: 'string', default: '1,2' },
      tuning: { type: 'string', default: 'default' },
      engine: { type: 'string', default: 'tesseract,paddle' },
      'no-native': { type: 'boolean', default: false },
      sweep: { type: 'boolean', default: false },
    },
  });
  if (!existsSync(join(DATASET, 'images'))) {
    console.log(`bench:ocr skipped: dataset not found at ${DATASET} (expected ../shared/datasets/sroie-dev beside the repo)`);
    return;
  }
  const samples = loadSamples(Number(values.limit), Number(values.offset));
  const names = values.sweep ? Object.keys(TUNINGS) : values.tuning.split(',');
  for (const name of names) if (!TUNINGS[name]) throw new Error(`unknown tuning ${name}; known: ${Object.keys(TUNINGS).join(', ')}`);
  let withNative = !values['no-native'];
  if (withNative && !(await nativeAvailable())) {
    console.log('native tesseract not found (install: apt-get update && apt-get install -y tesseract-ocr); running without the anchor');
    withNative = false;
  }
  console.log(
    `bench:ocr ${new Date().toISOString()}: ${samples.length} receipts, ${availableParallelism()} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );

  const engines = values.engine.split(',');
  const readers = await openReaders(names, engines);
  let tallies: Tally[];
  try {
    tallies = await perCore(samples, readers, withNative);
  } finally {
    await Promise.all(readers.map((reader) => reader.ocr.close()));
  }
  const anchor = withNative ? tallies[0] : undefined;
  const n = samples.length;
  console.log('\n| run | wall ms/receipt | CPU ms/receipt | CER | CPU vs native | wall vs native | CER vs native |');
  console.log('|---|---|---|---|---|---|---|');
  for (const t of tallies) {
    const ratio = (a: number | undefined, b: number): string => (a === undefined ? '-' : `${(a / b).toFixed(2)}x`);
    console.log(
      `| ${t.label} | ${(t.wallMs / n).toFixed(0)} | ${(t.cpuMs / n).toFixed(0)} | ${mean(t.cers).toFixed(4)} | ${ratio(anchor?.cpuMs, t.cpuMs)} faster | ${ratio(anchor?.wallMs, t.wallMs)} faster | ${anchor ? (mean(t.cers) / mean(anchor.cers)).toFixed(2) : '-'} |`,
    );
  }

  printSummaries(tallies, readers, anchor);

  const workerCounts = values.workers
    .split(',')
    .map(Number)
    .filter((w) => w > 0);
  if (workerCounts.length > 0 && !values.sweep) {
    console.log(`\n| ${names[0]}: tesseract workers | receipts/s | vs 1 worker |`);
    console.log('|---|---|---|');
    let single: number | undefined;
    for (const workers of workerCounts) {
      const rate = await throughput(samples, names[0]!, workers);
      single ??= rate;
      console.log(`| ${workers} | ${rate.toFixed(2)} | ${(rate / single).toFixed(2)}x |`);
    }
  }
}

await main();
