// The OCR settings the worker uses unless told otherwise. Chosen by measurement on real
// receipts (bench/ocr, numbers in bench/ocr/RESULTS.md); change them only with a new run.
import type { EngineSettings } from './engine.ts';
import type { PreprocessSettings } from './preprocess.ts';

export interface OcrTuning {
  preprocess: Omit<PreprocessSettings, 'maxPixels'>;
  engine: Pick<EngineSettings, 'variant' | 'autoPsm' | 'params' | 'initConfig' | 'dataDir'>;
}

export const DEFAULT_TUNING: OcrTuning = {
  preprocess: { minWidth: 0, maxWidth: 0, threshold: 0 },
  engine: { variant: 'best_int', autoPsm: '3', params: {}, initConfig: {} },
};
