// spec.ocr.engine resolved for one pipeline: the engine its workers run (OCR_ENGINE) and the one
// status.ocr.engine shows. Pure. auto follows issue 15's rule: the engine with the lower CER on the
// receipts benchmark unless it is over 2x slower per core. paddle (CER 0.098 at 0.79x native CPU)
// beats tesseract.js (CER 0.187 at 0.78x) on both, so auto is paddle wherever paddle reads every
// language of the pipeline (eng, chi_sim), and tesseract otherwise.
//
// spec.ocr.requestEngines resolved: the engines a job may ask for (OCR_REQUEST_ENGINES on the API, which
// refuses others, and on the workers, which load the second one on its first job). The pipeline engine is
// always one of them; the default adds every engine of the image that reads a language of the pipeline.
import { OCR_ENGINES, unreadableLanguages } from '../../contract/image.ts';
import type { OcrEngineName, OcrPipelineSpec } from '../../crds/ocrpipeline.ts';

export function resolveEngine(spec: { languages: readonly string[]; ocr: Pick<OcrPipelineSpec['ocr'], 'engine'> }): OcrEngineName {
  if (spec.ocr.engine !== 'auto') return spec.ocr.engine;
  return unreadableLanguages('paddle', spec.languages).length === 0 ? 'paddle' : 'tesseract';
}

/** The engines jobs may ask for, the pipeline engine first, then the others in OCR_ENGINES order. */
export function resolveRequestEngines(spec: { languages: readonly string[]; ocr: Pick<OcrPipelineSpec['ocr'], 'engine' | 'requestEngines'> }): OcrEngineName[] {
  const pipelineEngine = resolveEngine(spec);
  const others = spec.ocr.requestEngines ?? OCR_ENGINES.filter((engine) => unreadableLanguages(engine, spec.languages).length < spec.languages.length);
  return [pipelineEngine, ...OCR_ENGINES.filter((engine) => engine !== pipelineEngine && others.includes(engine))];
}

/** status.ocr: the engine the workers run and the engines jobs may ask for. */
export function ocrStatus(spec: Parameters<typeof resolveRequestEngines>[0]): { engine: OcrEngineName; requestEngines: OcrEngineName[] } {
  return { engine: resolveEngine(spec), requestEngines: resolveRequestEngines(spec) };
}
