// The dedupe key: the same image with the same languages and options (the engine among them) always
// gives the same result, so it can be answered from a finished job; a paddle result never answers a tesseract job.
import { createHash } from 'node:crypto';
import type { OcrOptions } from './schema.ts';

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function dedupeKey(contentHash: string, languages: readonly string[], options: OcrOptions): string {
  // The engine only when the job names one, so keys of jobs without it stay what they were.
  const o =
    options.engine === undefined ? { pageSegmentation: options.pageSegmentation } : { pageSegmentation: options.pageSegmentation, engine: options.engine };
  const canonical = JSON.stringify({ h: contentHash, l: [...languages].sort(), o });
  return createHash('sha256').update(canonical).digest('hex');
}
