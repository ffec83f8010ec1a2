// The dedupe key: the same image with the same languages, options and OCR engine always gives the
// same result, so it can be answered from a finished job; a paddle result never answers a tesseract job.
import { createHash } from 'node:crypto';
import { OCR_ENGINES } from '../contract/image.ts';
import type { OcrEngineName, OcrOptions } from './schema.ts';

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The key of a job's result. The engine is the job's own (options.engine), else `pipelineEngine`, the engine that reads
 * jobs naming none (the API's first OCR_REQUEST_ENGINES, the worker's OCR_ENGINE; each passes it only when
 * OCR_REQUEST_ENGINES is set, as the operator does on both): a job naming the pipeline engine and one naming none then
 * share a key. Without either the key is what it was before engines (older results still answer).
 */
export function dedupeKey(contentHash: string, languages: readonly string[], options: OcrOptions, pipelineEngine?: OcrEngineName): string {
  const engine = options.engine ?? pipelineEngine;
  const o = engine === undefined ? { pageSegmentation: options.pageSegmentation } : { pageSegmentation: options.pageSegmentation, engine };
  const canonical = JSON.stringify({ h: contentHash, l: [...languages].sort(), o });
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Every key a job's result may have been remembered under, for forgetting it (DELETE, retention): its engine's when it
 * named one; else each engine's (whichever was the pipeline's when it was read) and the key without one (older workers).
 */
export function dedupeKeysOf(contentHash: string, languages: readonly string[], options: OcrOptions): string[] {
  if (options.engine !== undefined) return [dedupeKey(contentHash, languages, options)];
  return [dedupeKey(contentHash, languages, options), ...OCR_ENGINES.map((engine) => dedupeKey(contentHash, languages, options, engine))];
}
