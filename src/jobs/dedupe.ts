// The dedupe key: the same image with the same languages and options always
// gives the same result, so it can be answered from a finished job.
import { createHash } from 'node:crypto';
import type { OcrOptions } from './schema.ts';

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function dedupeKey(contentHash: string, languages: readonly string[], options: OcrOptions): string {
  const canonical = JSON.stringify({ h: contentHash, l: [...languages].sort(), o: { pageSegmentation: options.pageSegmentation } });
  return createHash('sha256').update(canonical).digest('hex');
}
