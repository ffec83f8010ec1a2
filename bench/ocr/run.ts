// OCR benchmark: tesseract.js (as the worker runs it: sharp preprocessing + a pool of
// tesseract workers) beside the native `tesseract` command, same images, same run.
//
//   npm run bench:ocr -- [--limit N] [--workers 1,2] [--tuning name[,name...]] [--no-native] [--sweep]
//
// Prints ms per receipt per core, receipts/s, mean CER, and ratios to native.
// Reads ../shared/datasets/sroie-dev (never copied into the repo).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { TesseractPool } from '../../src/worker/ocr/engine.ts';
import { preprocess } from '../../src/worker/ocr/preprocess.ts';
import { cer, referenceFromCsv } from './cer.ts';
import { TUNINGS } from './tunings.ts';

const DATASET = resolve(import.meta.dirname, '../../../shared/datasets/sroie-dev');

interface Sample { id: string; image: Buffer; path: string; reference: string }
interface Figures { label: string; workers: number; count: number; wallMs: number; msPerReceiptPerCore: number; receiptsPerSecond: number; meanCer: number }

function loadSamples(limit: number): Sample[] {
  const ids = readdirSync(join(DATASET, 'images')).filter((f) => f.endsWith('.jpg')).map((f) => f.slice(0, -4)).sort().slice(0, limit);
  return ids.map((id) => {
    const path = join(DATASET, 'images', `${id}.jpg`);
    return { id, path, image: readFileSync(path), reference: referenceFromCsv(readFileSync(join(DATASET, 'ground-truth', `${id}.csv`), 'utf8')) };
  });
}

function figures(label: string, workers: number, samples: Sample[], wallMs: number, cers: number[]): Figures {
  return {
    label, workers, count: samples.length, wallMs,
    msPerReceiptPerCore: (wallMs * workers) / samples.length,
    receiptsPerSecond: samples.length / (wallMs / 1000),
    meanCer: cers.reduce((a, b) => a + b, 0) / cers.length,
  };
}

async function runNative(samples: Sample[]): Promise<Figures> {
  const cers: number[] = [];
  const started = performance.now();
  for (const sample of samples) {
    const text = await new Promise<string>((resolveText, reject) => {
      const child = spawn('tesseract', [sample.path, 'stdout', '-l', 'eng'], { env: { ...process.env, OMP_THREAD_LIMIT: '1' }, stdio: ['ignore', 'pipe', 'ignore'] });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.on('error', reject);
      child.on('close', (code) => code === 0 ? resolveText(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`tesseract exited ${code}`)));
    });
    cers.push(cer(text, sample.reference));
  }
  return figures('native tesseract (1 thread)', 1, samples, performance.now() - started, cers);
}

async function runTesseractJs(name: string, samples: Sample[], workers: number): Promise<Figures> {
  const tuning = TUNINGS[name];
  if (!tuning) throw new Error(`unknown tuning ${name}; known: ${Object.keys(TUNINGS).join(', ')}`);
  const pool = await TesseractPool.create({ languages: ['eng'], poolSize: workers, ...tuning.engine });
  try {
    const cers: number[] = new Array<number>(samples.length);
    let next = 0;
    const started = performance.now();
    // Same shape as the worker: `workers` jobs in flight, each preprocess + recognize.
    await Promise.all(Array.from({ length: workers }, async () => {
      while (next < samples.length) {
        const i = next++;
        const sample = samples[i]!;
        const prepared = await preprocess(sample.image, { maxPixels: 40_000_000, ...tuning.preprocess });
        const result = await pool.recognize(prepared, { pageSegmentation: 'auto' }, 120_000);
        cers[i] = cer(result.text, sample.reference);
      }
    }));
    return figures(`tesseract.js ${name}`, workers, samples, performance.now() - started, cers);
  } finally {
    await pool.close();
  }
}

function nativeAvailable(): Promise<boolean> {
  return new Promise((ok) => {
    const child = spawn('tesseract', ['--version'], { stdio: 'ignore' });
    child.on('error', () => ok(false));
    child.on('close', (code) => ok(code === 0));
  });
}

function print(rows: Figures[], anchor: Figures | undefined): void {
  const header = ['run', 'workers', 'n', 'ms/receipt/core', 'receipts/s', 'CER', 'speed vs native', 'CER vs native'];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const speed = anchor ? (anchor.msPerReceiptPerCore / r.msPerReceiptPerCore).toFixed(2) + 'x' : '-';
    const cerRatio = anchor ? (r.meanCer / anchor.meanCer).toFixed(2) : '-';
    console.log(`| ${r.label} | ${r.workers} | ${r.count} | ${r.msPerReceiptPerCore.toFixed(0)} | ${r.receiptsPerSecond.toFixed(2)} | ${r.meanCer.toFixed(4)} | ${speed} | ${cerRatio} |`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      limit: { type: 'string', default: '32' },
      workers: { type: 'string', default: '1,2' },
      tuning: { type: 'string', default: 'default' },
      'no-native': { type: 'boolean', default: false },
      sweep: { type: 'boolean', default: false },
    },
  });
  if (!existsSync(join(DATASET, 'images'))) {
    console.log(`bench:ocr skipped: dataset not found at ${DATASET} (expected ../shared/datasets/sroie-dev beside the repo)`);
    return;
  }
  const samples = loadSamples(Number(values.limit));
  const workerCounts = values.workers.split(',').map(Number);
  const tunings = values.sweep ? Object.keys(TUNINGS) : values.tuning.split(',');
  console.log(`bench:ocr ${new Date().toISOString()}  ${samples.length} receipts from ${DATASET}, ${availableParallelism()} cores`);

  const rows: Figures[] = [];
  let anchor: Figures | undefined;
  if (!values['no-native']) {
    if (await nativeAvailable()) {
      anchor = await runNative(samples);
      rows.push(anchor);
    } else {
      console.log('native tesseract not found: install it with `apt-get update && apt-get install -y tesseract-ocr` to get the anchor');
    }
  }
  for (const name of tunings) {
    for (const workers of values.sweep ? [1] : workerCounts) {
      const row = await runTesseractJs(name, samples, workers);
      rows.push(row);
      console.error(`  done: ${row.label} x${workers}: ${row.msPerReceiptPerCore.toFixed(0)} ms/receipt/core, CER ${row.meanCer.toFixed(4)}`);
    }
  }
  print(rows, anchor);
}

await main();
