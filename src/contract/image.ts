// What the ocr-platform image carries, as the operator built from the same source knows it: the
// operator cannot open an image, so the image's languages are declared here and kept equal to the
// Dockerfile (its tesseract-ocr-<lang> packages) and package.json (its @tesseract.js-data/<lang>
// packages) by src/contract/image.test.ts. A pipeline may declare other ones for a custom image
// (spec.ocr.imageLanguages); the operator checks spec.languages against them
// (src/operator/conditions/image-languages.ts).

/** Tesseract languages of the image: both the npm best_int models and Debian's fast ones. */
export const IMAGE_LANGUAGES = ['eng', 'deu', 'fra', 'spa', 'ita', 'por', 'nld', 'chi_sim'] as const;
