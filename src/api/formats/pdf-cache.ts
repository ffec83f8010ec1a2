// Searchable PDFs already built, kept in this API replica's memory (issue 15, item 5): building one reads the job's
// input blob and runs pdf-lib (tens to hundreds of ms of CPU for a multi-page scan), and a client that asks for a PDF
// tends to ask again (a viewer's range requests, a retry, a second download). Least recently used first out, within
// a byte budget (default 64 MiB) and an entry count (default 256); a PDF larger than a quarter of the budget is not
// kept. Requests for a PDF being built wait for that build rather than starting another.
//
// Why memory and not a blob beside the result: a blob would need retention, deletion with the job and a size
// limit of its own (src/jobs owns those), and it doubles the stored bytes of every job whose PDF was read once;
// the PDF is a pure function of the result and the input, both kept, so losing it on a restart costs one rebuild.
// The route checks that the input is still stored before it answers from here (a PDF holds the input's pages:
// it must not outlive the input's retention), and only after it authorised the caller for the job.

export interface SearchablePdfCacheOptions {
  /** Sum of the kept PDFs' sizes at most, in bytes (default 64 MiB). */
  maxBytes?: number;
  /** PDFs kept at most (default 256). */
  maxEntries?: number;
}

export const DEFAULT_PDF_CACHE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_PDF_CACHE_ENTRIES = 256;

export class SearchablePdfCache {
  private readonly kept = new Map<string, Uint8Array>();
  private readonly building = new Map<string, Promise<Uint8Array>>();
  private readonly maxBytes: number;
  private readonly maxEntries: number;
  private bytes = 0;

  constructor(options: SearchablePdfCacheOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_PDF_CACHE_BYTES;
    this.maxEntries = options.maxEntries ?? DEFAULT_PDF_CACHE_ENTRIES;
    if (!(this.maxBytes >= 0) || !(this.maxEntries >= 0)) throw new RangeError('the searchable PDF cache needs a budget of 0 or more bytes and entries');
  }

  /** The kept PDF of `key` (it becomes the most recently used), or undefined. */
  peek(key: string): Uint8Array | undefined {
    const pdf = this.kept.get(key);
    if (pdf) {
      this.kept.delete(key);
      this.kept.set(key, pdf);
    }
    return pdf;
  }

  /** The PDF of `key`: kept, being built (awaited), or built now by `build` and kept. `built` says whether this call built it. */
  async get(key: string, build: () => Promise<Uint8Array>): Promise<{ pdf: Uint8Array; built: boolean }> {
    const kept = this.peek(key);
    if (kept) return { pdf: kept, built: false };
    const pending = this.building.get(key);
    if (pending) return { pdf: await pending, built: false };
    const started = build();
    this.building.set(key, started);
    try {
      const pdf = await started;
      this.keep(key, pdf);
      return { pdf, built: true };
    } finally {
      this.building.delete(key);
    }
  }

  /** Forgets the PDF of `key` (its input is gone). */
  delete(key: string): void {
    const pdf = this.kept.get(key);
    if (!pdf) return;
    this.kept.delete(key);
    this.bytes -= pdf.byteLength;
  }

  /** PDFs kept and their bytes. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.kept.size, bytes: this.bytes };
  }

  private keep(key: string, pdf: Uint8Array): void {
    this.delete(key);
    if (pdf.byteLength > this.maxBytes / 4 || this.maxEntries === 0) return;
    this.kept.set(key, pdf);
    this.bytes += pdf.byteLength;
    while (this.kept.size > this.maxEntries || this.bytes > this.maxBytes) this.delete(this.kept.keys().next().value as string);
  }
}
