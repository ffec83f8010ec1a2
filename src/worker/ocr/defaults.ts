// The OCR settings the worker uses unless told otherwise. Chosen by measurement on real
// receipts (bench/ocr, numbers in bench/ocr/RESULTS.md); change them only with a new run.
import type { EngineSettings } from './engine.ts';
import type { PreprocessSettings } from './preprocess.ts';

/**
 * Debian's tesseract-ocr-<lang> packages (in the image): tesseract's `fast` LSTM models, the ones the
 * native CLI reads. spec.ocr.tesseractModel: fast reads them instead of the npm packages' best_int.
 */
export const DEBIAN_TESSDATA = '/usr/share/tesseract-ocr/5/tessdata';

export interface OcrTuning {
  preprocess: Omit<PreprocessSettings, 'maxPixels'>;
  engine: Pick<EngineSettings, 'variant' | 'autoPsm' | 'params' | 'initConfig' | 'dataDir'>;
}

// - PSM 6 (one uniform block) for `auto`: receipts are one column of lines; full layout
//   analysis (PSM 3) costs time and splits lines (sroie-dev: lower CER and CPU than PSM 3 or 4).
// - tessedit_do_invert 0: tesseract 5 re-reads low-confidence lines inverted (white on
//   black); scanned documents have none, so it is pure cost.
// - No scaling and no thresholding: tesseract's own Otsu binarisation beat a global threshold
//   (CER 0.23 vs 0.16), and upscaling narrow receipts to 1000 px helped CER a little (0.152)
//   at 17% more CPU, which loses the per-core race against native.
// - best_int (LSTM only) from @tesseract.js-data/eng: the legacy model is bigger and slower.
export const DEFAULT_TUNING: OcrTuning = {
  preprocess: { minWidth: 0, maxWidth: 0, threshold: 0 },
  engine: { variant: 'best_int', autoPsm: '6', params: { tessedit_do_invert: '0' }, initConfig: {} },
};

export type TesseractModel = 'best' | 'fast';

/** What spec.ocr.tesseractModel (OCR_TESSERACT_MODEL) resolved to, and the languages Debian's fast models lack. */
export interface TesseractModelChoice {
  model: TesseractModel;
  /** Languages without a file in DEBIAN_TESSDATA, in the order asked; fast needs none missing. */
  missing: string[];
}

/**
 * Pure: auto takes fast (about the same CER as best_int at about a quarter less CPU, bench/ocr/RESULTS.md)
 * when Debian's file exists for every language, else best; best and fast are taken as asked (the caller
 * refuses fast with files missing). `hasFastModel` says whether DEBIAN_TESSDATA has <language>.traineddata.
 */
export function chooseTesseractModel(
  requested: 'auto' | TesseractModel,
  languages: readonly string[],
  hasFastModel: (language: string) => boolean,
): TesseractModelChoice {
  const missing = languages.filter((language) => !hasFastModel(language));
  if (requested !== 'auto') return { model: requested, missing };
  return { model: missing.length === 0 ? 'fast' : 'best', missing };
}
