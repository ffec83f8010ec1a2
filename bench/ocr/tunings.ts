// Candidate settings the benchmark compares (--tuning name, or --sweep for all).
// `default` is what the worker ships with.
import { DEFAULT_TUNING, type OcrTuning } from '../../src/worker/ocr/defaults.ts';

const plain: OcrTuning = {
  preprocess: { minWidth: 0, maxWidth: 0, threshold: 0 },
  engine: { variant: 'best_int', autoPsm: '3', params: {}, initConfig: {} },
};

function tune(base: OcrTuning, change: { preprocess?: Partial<OcrTuning['preprocess']>; engine?: Partial<OcrTuning['engine']> }): OcrTuning {
  return { preprocess: { ...base.preprocess, ...change.preprocess }, engine: { ...base.engine, ...change.engine } };
}

export const TUNINGS: Record<string, OcrTuning> = {
  default: DEFAULT_TUNING,
  plain,
  legacy: tune(plain, { engine: { variant: 'legacy' } }),
  psm4: tune(plain, { engine: { autoPsm: '4' } }),
  psm6: tune(plain, { engine: { autoPsm: '6' } }),
  psm11: tune(plain, { engine: { autoPsm: '11' } }),
  w800: tune(plain, { preprocess: { maxWidth: 800 } }),
  w1000: tune(plain, { preprocess: { maxWidth: 1000 } }),
  w1200: tune(plain, { preprocess: { minWidth: 1200, maxWidth: 1200 } }),
  thr: tune(plain, { preprocess: { threshold: 160 } }),
  nodict: tune(plain, { engine: { initConfig: { load_system_dawg: '0', load_freq_dawg: '0' } } }),
};
