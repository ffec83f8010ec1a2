// Candidate settings the benchmark compares (--tuning a,b or --sweep for all).
// `default` is what the worker ships with (src/worker/ocr/defaults.ts) for an English pipeline with
// spec.ocr.tesseractModel auto: Debian's fast model when its file is on this machine (as in the image), else best_int.
// `default_best` and `default_fast` name the two explicitly.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chooseTesseractModel, DEBIAN_TESSDATA, DEFAULT_TUNING, type OcrTuning } from '../../src/worker/ocr/defaults.ts';

const plain: OcrTuning = {
  preprocess: { minWidth: 0, maxWidth: 0, threshold: 0 },
  engine: { variant: 'best_int', autoPsm: '3', params: {}, initConfig: {} },
};

function tune(base: OcrTuning, change: { preprocess?: Partial<OcrTuning['preprocess']>; engine?: Partial<OcrTuning['engine']> }): OcrTuning {
  return { preprocess: { ...base.preprocess, ...change.preprocess }, engine: { ...base.engine, ...change.engine } };
}

const noInvert = { tessedit_do_invert: '0' };
const psm6 = tune(plain, { engine: { autoPsm: '6' } });
const psm6NoInvert = tune(psm6, { engine: { params: noInvert } });

const fastModel = tune(DEFAULT_TUNING, { engine: { dataDir: DEBIAN_TESSDATA } });
/** The model `auto` resolves to here, as the worker resolves it (src/worker/config.ts). */
export const DEFAULT_MODEL = chooseTesseractModel('auto', ['eng'], (language) => existsSync(join(DEBIAN_TESSDATA, `${language}.traineddata`))).model;

export const TUNINGS: Record<string, OcrTuning> = {
  default: DEFAULT_MODEL === 'fast' ? fastModel : DEFAULT_TUNING,
  default_best: DEFAULT_TUNING,
  default_fast: fastModel,
  plain,
  psm4: tune(plain, { engine: { autoPsm: '4' } }),
  psm6,
  psm6_noinvert: psm6NoInvert,
  psm4_noinvert: tune(plain, { engine: { autoPsm: '4', params: noInvert } }),
  psm6_noinvert_max1000: tune(psm6NoInvert, { preprocess: { maxWidth: 1000 } }),
  psm6_noinvert_min1000: tune(psm6NoInvert, { preprocess: { minWidth: 1000 } }),
  psm6_noinvert_nodict: tune(psm6NoInvert, { engine: { initConfig: { load_system_dawg: '0', load_freq_dawg: '0' } } }),
  psm6_noinvert_threshold: tune(psm6NoInvert, { preprocess: { threshold: 160 } }),
  legacy: tune(plain, { engine: { variant: 'legacy' } }),
  debian_fast_psm6_noinvert: tune(psm6NoInvert, { engine: { dataDir: DEBIAN_TESSDATA } }),
};
