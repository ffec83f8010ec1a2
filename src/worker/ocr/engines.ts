// Which engine a worker runs (OCR_ENGINE, from spec.ocr.engine). Both implement OcrEngine, so
// the processor never knows which one it has.
import { DEBIAN_TESSDATA, DEFAULT_TUNING } from './defaults.ts';
import { TesseractPool, type OcrEngine } from './engine.ts';
import { PaddleEngine } from './paddle/engine.ts';

export type EngineName = 'tesseract' | 'paddle';

export interface EngineChoice {
  name: EngineName;
  /** tesseract only: best (npm @tesseract.js-data best_int) or fast (Debian's tesseract-ocr-<lang> in DEBIAN_TESSDATA). */
  tesseractModel?: 'best' | 'fast';
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
