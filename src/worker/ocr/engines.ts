// Which engine a worker runs (OCR_ENGINE, from spec.ocr.engine). Both implement OcrEngine, so
// the processor never knows which one it has.
import { DEBIAN_TESSDATA, DEFAULT_TUNING } from './defaults.ts';
import { TesseractPool, type OcrEngine } from './engine.ts';
import { openPaddle } from './paddle/engine.ts';
import { LanguagePools } from './language-pools.ts';
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
