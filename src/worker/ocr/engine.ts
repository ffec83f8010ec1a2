// The OCR engine: a pool of tesseract.js workers (each one a worker thread running the
// wasm build), each used by one job at a time.
//
// Language data comes from npm packages baked into the image, never from the network:
// `@tesseract.js-data/<lang>` ships `<variant>/<lang>.traineddata.gz`, where the variant
// `4.0.0_best_int` is the LSTM-only integer model (~3 MB gzipped) and `4.0.0` the larger
// model that also carries the legacy engine. tesseract.js reads `${langPath}/${lang}.traineddata.gz`
// from disk when langPath is a local path; with `cacheMethod: 'none'` it neither reads nor
// writes its cache (by default it would write `./eng.traineddata` into the working
// directory, which fails on a read-only root filesystem).
//
// Adding a language: `npm install @tesseract.js-data/<lang>` and list it in the pipeline's
// spec.languages (the operator passes it as OCR_LANGUAGES).
import { mkdirSync, mkdtempSync, existsSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createWorker, OEM, type Bbox, type Line, type Worker, type Page } from 'tesseract.js';
import type { OcrLine, OcrWord, PageSegmentation } from '../../jobs/schema.ts';
import { OcrTimeoutError, TransientJobError } from '../errors.ts';
import { quadOf } from './geometry.ts';
import type { PreparedImage } from './preprocess.ts';

export type ModelVariant = 'best_int' | 'legacy';

const VARIANT_FOLDER: Record<ModelVariant, string> = { best_int: '4.0.0_best_int', legacy: '4.0.0' };

/** tesseract page segmentation modes for the job option. */
export const PSM_FOR: Record<PageSegmentation, string> = {
  auto: '3',
  single_column: '4',
  single_block: '6',
  sparse_text: '11',
};

export interface EngineSettings {
  languages: readonly string[];
  poolSize: number;
  variant: ModelVariant;
  /** Page segmentation mode used for `auto` (the benchmark picks it). */
  autoPsm: string;
  /** Parameters set once per tesseract worker after initialisation. */
  params: Record<string, string>;
  /** Parameters that tesseract only accepts at initialisation (e.g. dictionary loading). */
  initConfig: Record<string, string>;
  /** Scratch folder for the multi-language data links; must be writable (/tmp in the pod). */
  scratchDir?: string;
  /**
   * Read `<lang>.traineddata` (plain or .gz) from this folder instead of the npm packages,
   * e.g. a distribution's tessdata (Debian's tesseract-ocr-eng ships the smaller `fast` model).
   */
  dataDir?: string;
}

export interface Recognition {
  text: string;
  lines: OcrLine[];
  meanConfidence: number;
  /** The engine and models that read it, when the caller routes between engines (engines.ts EngineRouter). */
  engine?: { name: 'tesseract' | 'paddle'; model: string };
}

/**
 * What a job asks of the engine: its page segmentation, for tesseract the languages on its page (default: the pipeline's),
 * and the engine it asked for (default: the pipeline's; engines.ts EngineRouter routes by it).
 */
export interface RecognizeRequest {
  pageSegmentation: PageSegmentation;
  languages?: readonly string[];
  engine?: 'tesseract' | 'paddle' | undefined;
}

export interface OcrEngine {
  recognize(image: PreparedImage, request: RecognizeRequest, timeoutMs: number): Promise<Recognition>;
  close(): Promise<void>;
}

export class LanguageNotInstalledError extends Error {
  override name = 'LanguageNotInstalledError';
}

/** The folder holding `<lang>.traineddata.gz` for an installed `@tesseract.js-data/<lang>` package. */
export function languageDataFolder(language: string, variant: ModelVariant): string {
  const require = createRequire(import.meta.url);
  let packageDir: string;
  try {
    packageDir = dirname(require.resolve(`@tesseract.js-data/${language}/package.json`));
  } catch {
    throw new LanguageNotInstalledError(`language ${language} is not installed: run \`npm install @tesseract.js-data/${language}\` and rebuild the image`);
  }
  const folder = join(packageDir, VARIANT_FOLDER[variant]);
  if (!existsSync(join(folder, `${language}.traineddata.gz`))) {
    throw new LanguageNotInstalledError(`@tesseract.js-data/${language} has no ${VARIANT_FOLDER[variant]}/${language}.traineddata.gz`);
  }
  return folder;
}

/**
 * tesseract.js takes one langPath for all languages. One language: its package folder,
 * read in place. Several: a scratch folder of symlinks to each package's file.
 */
export function languagePath(languages: readonly string[], variant: ModelVariant, scratchDir = tmpdir()): string {
  const folders = languages.map((language) => languageDataFolder(language, variant));
  if (folders.length === 1) return folders[0]!;
  mkdirSync(scratchDir, { recursive: true });
  const linked = mkdtempSync(join(scratchDir, 'ocr-tessdata-'));
  languages.forEach((language, i) => symlinkSync(join(folders[i]!, `${language}.traineddata.gz`), join(linked, `${language}.traineddata.gz`)));
  return linked;
}

/**
 * Lines from tesseract's block tree, in its reading order (block, paragraph, line, word), each with its confidence,
 * box and words. tesseract reports upright (axis-aligned) boxes in the image's pixels, even for slanted text, so every
 * quad is its box's four corners. The tree is the `blocks` output `recognize` asks for anyway: on sroie-dev receipts,
 * asking for it cost no measurable CPU over text alone, and this walk with words takes well under 0.1 ms against
 * ~700 ms of recognition per receipt (A/B in one run, busy machine).
 */
export function linesOf(page: Page): OcrLine[] {
  const lines: OcrLine[] = [];
  for (const block of page.blocks ?? []) {
    for (const paragraph of block.paragraphs) {
      for (const line of paragraph.lines) {
        const text = line.text.trim();
        if (text === '') continue;
        const bbox = boxOf(line.bbox);
        lines.push({ text, confidence: clampConfidence(line.confidence), bbox, quad: quadOf(bbox), words: wordsOf(line) });
      }
    }
  }
  return lines;
}

function wordsOf(line: Line): OcrWord[] {
  const words: OcrWord[] = [];
  for (const word of line.words) {
    const text = word.text.trim();
    if (text === '') continue;
    const bbox = boxOf(word.bbox);
    words.push({ text, confidence: clampConfidence(word.confidence), bbox, quad: quadOf(bbox) });
  }
  return words;
}

/** A copy with only the four coordinates, so nothing else tesseract.js might add ends up in the stored result. */
const boxOf = (b: Bbox): OcrLine['bbox'] => ({ x0: b.x0, y0: b.y0, x1: b.x1, y1: b.y1 });

function clampConfidence(value: number): number {
  return Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : 0;
}

/** A pool of tesseract workers; `recognize` waits for a free one. */
export class TesseractPool implements OcrEngine {
  private readonly settings: EngineSettings;
  private readonly langPath: string;
  private readonly idle: Worker[] = [];
  private readonly waiting: ((worker: Worker) => void)[] = [];
  private readonly all = new Set<Worker>();
  private closed = false;

  private constructor(settings: EngineSettings, langPath: string) {
    this.settings = settings;
    this.langPath = langPath;
  }

  /** Loads `poolSize` workers in parallel; resolves when every one is ready. */
  static async create(settings: EngineSettings): Promise<TesseractPool> {
    const langPath = settings.dataDir ?? languagePath(settings.languages, settings.variant, settings.scratchDir);
    const pool = new TesseractPool(settings, langPath);
    try {
      const workers = await Promise.all(Array.from({ length: settings.poolSize }, () => pool.spawn()));
      for (const worker of workers) pool.release(worker);
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  private async spawn(): Promise<Worker> {
    const oem = this.settings.variant === 'legacy' ? OEM.TESSERACT_LSTM_COMBINED : OEM.LSTM_ONLY;
    const worker = await createWorker(
      this.settings.languages.join('+'),
      oem,
      {
        langPath: this.langPath,
        // Packages ship .gz; a plain tessdata folder has uncompressed files.
        gzip: !(this.settings.dataDir && existsSync(join(this.settings.dataDir, `${this.settings.languages[0]}.traineddata`))),
        cacheMethod: 'none',
        legacyCore: this.settings.variant === 'legacy',
        legacyLang: this.settings.variant === 'legacy',
        logger: () => {},
        // Without a handler tesseract.js rethrows worker errors as uncaught exceptions.
        errorHandler: () => {},
      },
      this.settings.initConfig,
    );
    this.all.add(worker);
    // debug_file: tesseract's own diagnostics ("Estimating resolution as ...") would go to
    // stdout as non-JSON lines between our JSON logs.
    await worker.setParameters({ debug_file: '/dev/null', ...this.settings.params });
    return worker;
  }

  private async acquire(): Promise<Worker> {
    if (this.closed) throw new TransientJobError('OCR_FAILED', 'the OCR engine is shutting down');
    const worker = this.idle.pop();
    if (worker) return worker;
    return await new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(worker: Worker): void {
    const next = this.waiting.shift();
    if (next) next(worker);
    else this.idle.push(worker);
  }

  async recognize(image: PreparedImage, request: RecognizeRequest, timeoutMs: number): Promise<Recognition> {
    const worker = await this.acquire();
    const psm = request.pageSegmentation === 'auto' ? this.settings.autoPsm : PSM_FOR[request.pageSegmentation];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new OcrTimeoutError('OCR_FAILED', `recognition took longer than ${Math.round(timeoutMs / 1000)} s (WORKER_MAX_JOB_SECONDS)`)),
        timeoutMs,
      );
    });
    try {
      const work = (async () => {
        await worker.setParameters({ tessedit_pageseg_mode: psm as never });
        return await worker.recognize(image.data, {}, { text: true, blocks: true });
      })();
      const { data } = await Promise.race([work, timeout]);
      this.release(worker);
      return { text: data.text, lines: linesOf(data), meanConfidence: clampConfidence(data.confidence) };
    } catch (error) {
      // The worker may be stuck mid-page or broken: replace it rather than reuse it.
      this.replace(worker);
      if (error instanceof TransientJobError) throw error;
      throw new TransientJobError('OCR_FAILED', `tesseract failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  private replace(worker: Worker): void {
    this.all.delete(worker);
    void worker.terminate().catch(() => {});
    if (this.closed) return;
    this.spawn().then(
      (fresh) => {
        if (this.closed) void fresh.terminate();
        else this.release(fresh);
      },
      () => {
        // Leave the pool one worker short; the next failure or a restart will tell.
      },
    );
  }

  /** Terminates every worker. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(workers.map((worker) => worker.terminate().catch(() => {})));
  }
}
