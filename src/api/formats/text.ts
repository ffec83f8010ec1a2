// format=text: the plain text the worker read; pages separated by a form feed (U+000C), as
// OcrResult.text already joins them, and one newline at the end.
import type { OcrResult } from '../../jobs/index.ts';

export const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

export function renderText(result: OcrResult): string {
  const text = result.text.replace(/\s+$/u, '');
  return text === '' ? '' : `${text}\n`;
}
