// Candidate settings the benchmark compares (--tuning a,b or --sweep for all).
// `default` is what the worker ships with (src/worker/ocr/defaults.ts).
import { DEBIAN_TESSDATA, DEFAULT_TUNING, type OcrTuning } from '../../src/worker/ocr/defaults.ts';

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

export const TUNINGS: Record<string, OcrTuning> = {
  default: DEFAULT_TUNING,
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
