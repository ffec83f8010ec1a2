// Which engine a worker runs (OCR_ENGINE, from spec.ocr.engine). Both implement OcrEngine, so
// the processor never knows which one it has.
import { DEBIAN_TESSDATA, DEFAULT_TUNING } from './defaults.ts';
import { TesseractPool, type OcrEngine } from './engine.ts';
import { PaddleEngine } from './paddle/engine.ts';

export type EngineName = 'tesseract' | 'paddle';

export interface EngineChoice {
  name: EngineName;
  /** tesseract only: best (npm @tesseract.js-data best_int) or fast (Debian's tesseract-ocr-<lang> in DEBIAN_TESSDATA). */
  tesseractModel?: 'best' | 'fast' | undefined;
  languages: readonly string[];
  /** Jobs at once: tesseract loads one tesseract.js worker per job; paddle shares one model load. */
  concurrency: number;
}

/** Loads the chosen engine's models once for the process. */
export async function openEngine(choice: EngineChoice): Promise<OcrEngine> {
  if (choice.name === 'paddle') return await PaddleEngine.create();
  const dataDir = choice.tesseractModel === 'fast' ? { dataDir: DEBIAN_TESSDATA } : {};
  return await TesseractPool.create({ languages: choice.languages, poolSize: choice.concurrency, ...DEFAULT_TUNING.engine, ...dataDir });
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
