// Character error rate as the sroie-dev README defines it: Levenshtein distance between
// the normalised OCR output and the normalised reference (upper-cased, all whitespace
// removed), divided by the reference length.

export function normalise(text: string): string {
  return text.toUpperCase().replace(/\s+/gu, '');
}

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let previous = new Uint32Array(b.length + 1).map((_, i) => i);
  let current = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length]!;
}

export function cer(ocrText: string, referenceText: string): number {
  const reference = normalise(referenceText);
  return levenshtein(normalise(ocrText), reference) / Math.max(1, reference.length);
}

/** Reference text of a ground-truth CSV: the transcripts (after the first 8 commas), joined by newlines. */
export function referenceFromCsv(csv: string): string {
  return csv
    .split(/\r?\n/u)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      let at = -1;
      for (let i = 0; i < 8; i++) {
        at = line.indexOf(',', at + 1);
        if (at < 0) return '';
      }
      return line.slice(at + 1);
    })
    .join('\n');
}
