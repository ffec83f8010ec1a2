// Which engines a worker runs. The pipeline engine (OCR_ENGINE, from spec.ocr.engine) loads at start and reads every
// job that names none; a job may name another one the pipeline allows (OCR_REQUEST_ENGINES, from spec.ocr.requestEngines),
// which the worker loads on the first job that asks for it and keeps (one model load per process). Both implement
// OcrEngine, so the processor never knows which one it has; the router tells it which one read (Recognition.engine).
import { unreadableLanguages } from '../../contract/image.ts';
import { DEBIAN_TESSDATA, DEFAULT_TUNING } from './defaults.ts';
import { TesseractPool, type OcrEngine, type RecognizeRequest, type Recognition } from './engine.ts';
import { PaddleEngine, openPaddle, type PaddleGraphs } from './paddle/engine.ts';
import { LanguagePools } from './language-pools.ts';
import type { PreparedImage } from './preprocess.ts';
import { PermanentJobError, TransientJobError } from '../errors.ts';
import type { Logger } from '../../shared/logger.ts';

export type EngineName = 'tesseract' | 'paddle';

export interface EngineChoice {
  name: EngineName;
  /** tesseract only: best (npm @tesseract.js-data best_int) or fast (Debian's tesseract-ocr-<lang> in DEBIAN_TESSDATA). */
  tesseractModel?: 'best' | 'fast' | undefined;
  languages: readonly string[];
  /** Jobs at once: tesseract loads one tesseract.js worker per job; paddle shares one model load. */
  concurrency: number;
  /** paddle only: OCR_PADDLE_GRAPH_CACHE, where its fused graphs are kept (paddle/graph-cache.ts; undefined: the default directory). */
  paddleGraphCache?: string | undefined;
}

/**
 * Loads the chosen engine's models once for the process. tesseract with several languages also reads a job that asks
 * for fewer of them with only those (language-pools.ts); paddle reads eng and chi_sim with one model either way.
 */
export async function openEngine(choice: EngineChoice, log: Logger): Promise<OcrEngine> {
  if (choice.name === 'paddle') return await openPaddle(choice.paddleGraphCache, log);
  const dataDir = choice.tesseractModel === 'fast' ? { dataDir: DEBIAN_TESSDATA } : {};
  const tesseract = (languages: readonly string[], poolSize: number) => TesseractPool.create({ languages, poolSize, ...DEFAULT_TUNING.engine, ...dataDir });
  const main = await tesseract(choice.languages, choice.concurrency);
  if (choice.languages.length < 2) return main;
  // A job that names fewer languages than the pipeline is read by an engine of its set (a job naming none carries every
  // pipeline language, the API's default, and the pipeline pool reads it): as many tesseract workers as the pipeline pool.
  return new LanguagePools({ languages: choice.languages, main, open: async (languages) => await tesseract(languages, choice.concurrency), log });
}

/** Which engine and models a worker runs, as its start log, /health and every result's `engine` say. */
export interface EngineInfo {
  name: EngineName;
  /** tesseract: best or fast (spec.ocr.tesseractModel as resolved); paddle: its model set, PP-OCRv4. */
  model: string;
}

export function engineInfo(choice: Pick<EngineChoice, 'name' | 'tesseractModel'>): EngineInfo {
  if (choice.name === 'paddle') return { name: 'paddle', model: 'PP-OCRv4' };
  return { name: 'tesseract', model: choice.tesseractModel ?? 'best' };
}

/**
 * Which engine reads a job: the one it names, else the pipeline engine. Pure. An engine the worker does not offer, or
 * one that cannot read a language of the job, is a permanent failure (the API refuses both before a job exists, so this
 * only happens when the pipeline's spec.ocr changed while the job was queued); never another engine in its place.
 */
export function engineFor(offered: readonly EngineName[], languages: readonly string[], asked: EngineName | undefined): EngineName {
  const name = asked ?? offered[0]!;
  if (!offered.includes(name)) {
    throw new PermanentJobError(
      'OCR_FAILED',
      `the job asks for the ${name} engine, which this pipeline does not offer (spec.ocr.requestEngines: ${offered.join(', ')})`,
    );
  }
  const unreadable = unreadableLanguages(name, languages);
  if (unreadable.length > 0) throw new PermanentJobError('OCR_FAILED', `the ${name} engine cannot read ${unreadable.join(', ')}`);
  return name;
}

export interface EngineRouterOptions {
  /** The pipeline engine first (it reads jobs that name none), then the others jobs may ask for. */
  engines: readonly EngineInfo[];
  /** Loads an engine's models; called at most once per engine while it succeeds. */
  open: (name: EngineName) => Promise<OcrEngine>;
  log: Logger;
}

/** An engine as /health shows it: loaded once its models are in memory. */
export interface EngineState extends EngineInfo {
  loaded: boolean;
  /** Seconds its model load took, once it finished. */
  loadSeconds?: number;
  /** paddle, once loaded: where each graph came from (prefused, cached, fused-now or as-is; paddle/graph-cache.ts). */
  graphs?: PaddleGraphs;
}

/** Routes each job to the engine it asks for; the pipeline engine opens with `start`, the others on their first job. */
export class EngineRouter implements OcrEngine {
  private readonly options: EngineRouterOptions;
  private readonly opened = new Map<EngineName, Promise<OcrEngine>>();
  private readonly states: EngineState[];
  private closed = false;

  constructor(options: EngineRouterOptions) {
    if (options.engines.length === 0) throw new Error('EngineRouter needs at least one engine');
    this.options = options;
    this.states = options.engines.map((info) => ({ ...info, loaded: false }));
  }

  /** Loads the pipeline engine (a failure rejects: the worker cannot work without it). */
  async start(): Promise<void> {
    await this.open(this.options.engines[0]!.name);
  }

  /** Every engine jobs may ask for, and whether it is loaded (for /health). */
  get engines(): readonly EngineState[] {
    return this.states.map((state) => ({ ...state }));
  }

  async recognize(image: PreparedImage, request: RecognizeRequest, timeoutMs: number): Promise<Recognition> {
    const offered = this.states.map((state) => state.name);
    const name = engineFor(offered, request.languages ?? [], request.engine);
    let engine: OcrEngine;
    try {
      engine = await this.open(name);
    } catch (error) {
      throw new TransientJobError('OCR_FAILED', `the ${name} engine failed to load: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    const recognition = await engine.recognize(image, request, timeoutMs);
    const state = this.states.find((s) => s.name === name)!;
    return { ...recognition, engine: { name: state.name, model: state.model } };
  }

  private async open(name: EngineName): Promise<OcrEngine> {
    if (this.closed) throw new TransientJobError('OCR_FAILED', 'the OCR engine is shutting down');
    let opening = this.opened.get(name);
    if (!opening) {
      const started = performance.now();
      const state = this.states.find((s) => s.name === name)!;
      const first = name === this.options.engines[0]!.name;
      opening = this.options.open(name);
      this.opened.set(name, opening);
      opening.then(
        (engine) => {
          state.loaded = true;
          state.loadSeconds = Number(((performance.now() - started) / 1000).toFixed(2));
          if (engine instanceof PaddleEngine) state.graphs = engine.graphs;
          if (!first)
            this.options.log.info(
              { engine: name, model: state.model, loadSeconds: state.loadSeconds },
              'Loaded a second OCR engine for a job that asked for it',
            );
        },
        (err: unknown) => {
          // Tried again on the next job that asks for it.
          this.opened.delete(name);
          if (!first) this.options.log.warn({ err, engine: name }, 'Failed to load a second OCR engine; its jobs are retried');
        },
      );
    }
    return await opening;
  }

  /** Closes every engine loaded or loading. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const engines = await Promise.allSettled([...this.opened.values()]);
    this.opened.clear();
    await Promise.all(engines.map(async (e) => (e.status === 'fulfilled' ? await e.value.close() : undefined)));
  }
}
