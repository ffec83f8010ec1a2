// Per-request languages (issue 15, item 4): a job may ask for fewer languages than its pipeline
// has (spec.languages eng, deu, chi_sim; a request for deu only). tesseract reads better and
// faster with only the languages on the page, so such a job is read by a small engine of its
// own language set (as many tesseract workers as the pipeline's pool), loaded on first use and
// kept for the next job of that set. A job without languages carries every language of the
// pipeline (the API's default; its first alone lost German umlauts) and is read by the pipeline's pool. The sets kept
// are bounded (each holds its models in memory): beyond `maxSubsets` (2) a job is read by the
// pipeline's own pool, with every language, as before this existed. Single-language pipelines
// and the paddle engine do not use this.
import type { Logger } from '../../shared/logger.ts';
import type { OcrEngine, RecognizeRequest, Recognition } from './engine.ts';
import type { PreparedImage } from './preprocess.ts';

export interface LanguagePoolsOptions {
  /** The pipeline's languages, which `main` reads all of. */
  languages: readonly string[];
  main: OcrEngine;
  /** Opens an engine for a subset of the languages, in the order the job asked. */
  open: (languages: readonly string[]) => Promise<OcrEngine>;
  /** Language sets besides the pipeline's kept loaded at most (default 2). */
  maxSubsets?: number;
  log: Logger;
}

/** Which engine reads a job asking for `asked`: the pipeline's pool (undefined) or the subset keyed by the returned key. */
export function subsetKey(pipeline: readonly string[], asked: readonly string[] | undefined): string | undefined {
  if (!asked || asked.length === 0) return undefined;
  const all = new Set(pipeline);
  // Languages this worker does not have are refused before OCR (processor.ts); here they just mean "not a subset".
  if (!asked.every((language) => all.has(language))) return undefined;
  if (new Set(asked).size === all.size) return undefined; // every language of the pipeline: its own pool
  return asked.join('+');
}

export class LanguagePools implements OcrEngine {
  private readonly options: LanguagePoolsOptions;
  private readonly subsets = new Map<string, Promise<OcrEngine>>();
  private warnedFull = false;

  constructor(options: LanguagePoolsOptions) {
    this.options = options;
  }

  /** The language sets loaded besides the pipeline's, for /health. */
  get loadedSubsets(): string[] {
    return [...this.subsets.keys()];
  }

  async recognize(image: PreparedImage, request: RecognizeRequest, timeoutMs: number): Promise<Recognition> {
    const engine = await this.engineFor(request.languages);
    return await engine.recognize(image, request, timeoutMs);
  }

  private async engineFor(asked: readonly string[] | undefined): Promise<OcrEngine> {
    const { main, log } = this.options;
    const key = subsetKey(this.options.languages, asked);
    if (key === undefined || !asked) return main;
    let opening = this.subsets.get(key);
    if (!opening) {
      if (this.subsets.size >= (this.options.maxSubsets ?? 2)) {
        if (!this.warnedFull) log.warn({ loaded: this.loadedSubsets, asked: key }, 'Read a job with every pipeline language: the language sets kept are full');
        this.warnedFull = true;
        return main;
      }
      opening = this.options.open(asked);
      this.subsets.set(key, opening);
      opening.then(
        () => log.info({ languages: key }, 'Loaded an OCR engine for a language set of its own'),
        (err: unknown) => {
          this.subsets.delete(key);
          log.warn({ err, languages: key }, 'Failed to load an OCR engine for a language set; reading with every pipeline language');
        },
      );
    }
    try {
      return await opening;
    } catch {
      return main;
    }
  }

  async close(): Promise<void> {
    const subsets = await Promise.allSettled([...this.subsets.values()]);
    await Promise.all([this.options.main.close(), ...subsets.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined))]);
  }
}
