// What the ocr-platform image carries, as the operator built from the same source knows it: the
// operator cannot open an image, so the image's languages are declared here and kept equal to the
// Dockerfile (its tesseract-ocr-<lang> packages) and package.json (its @tesseract.js-data/<lang>
// packages) by src/contract/image.test.ts. A pipeline may declare other ones for a custom image
// (spec.ocr.imageLanguages); the operator checks spec.languages against them
// (src/operator/conditions/image-languages.ts).

/** Tesseract languages of the image: both the npm best_int models and Debian's fast ones. */
export const IMAGE_LANGUAGES = ['eng', 'deu', 'fra', 'spa', 'ita', 'por', 'nld', 'chi_sim'] as const;

/** The OCR engines the image carries (src/worker/ocr/engines.ts): tesseract.js and paddle (PP-OCRv4 through onnxruntime-node). */
export const OCR_ENGINES = ['tesseract', 'paddle'] as const;
export type OcrEngineName = (typeof OCR_ENGINES)[number];

/** The languages paddle's recogniser reads (src/worker/ocr/paddle/models.ts); tesseract reads every language of the image. */
export const PADDLE_LANGUAGES = ['eng', 'chi_sim'] as const;

/** The names in `list` that are not engines of the image (for the config readers' errors). */
export function unknownEngines(list: readonly string[]): string[] {
  return list.filter((name) => !(OCR_ENGINES as readonly string[]).includes(name));
}

/** The languages of `languages` an engine cannot read (empty when it reads them all). Pure. */
export function unreadableLanguages(engine: OcrEngineName, languages: readonly string[]): string[] {
  if (engine === 'tesseract') return [];
  return languages.filter((language) => !(PADDLE_LANGUAGES as readonly string[]).includes(language));
}
