// spec.ocr.engine resolved for one pipeline: the engine its workers run (OCR_ENGINE) and the one
// status.ocr.engine shows. Pure. auto follows issue 15's rule: the engine with the lower CER on the
// receipts benchmark unless it is over 2x slower per core. paddle (CER 0.098 at 0.79x native CPU)
// beats tesseract.js (CER 0.187 at 0.78x) on both, so auto is paddle wherever paddle reads every
// language of the pipeline (eng, chi_sim), and tesseract otherwise.
import { PADDLE_LANGUAGES, type OcrEngineName, type OcrPipelineSpec } from '../../crds/ocrpipeline.ts';

export function resolveEngine(spec: { languages: readonly string[]; ocr: Pick<OcrPipelineSpec['ocr'], 'engine'> }): OcrEngineName {
  if (spec.ocr.engine !== 'auto') return spec.ocr.engine;
  const paddleReadsAll = spec.languages.every((language) => (PADDLE_LANGUAGES as readonly string[]).includes(language));
  return paddleReadsAll ? 'paddle' : 'tesseract';
}
