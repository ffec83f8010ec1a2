// Whether the pipeline's image carries the languages it asks for. The operator cannot open an image,
// so an image declares its languages: the platform image's are IMAGE_LANGUAGES (src/contract/image.ts,
// kept equal to the Dockerfile by a test), a custom image's are spec.ocr.imageLanguages. Pure.
import { IMAGE_LANGUAGES } from '../../contract/image.ts';
import type { OcrPipelineSpec } from '../../crds/ocrpipeline.ts';

/** What the LanguageNotInImage check reads (ConditionFacts.languagesNotInImage). */
export interface ImageLanguageFacts {
  /** spec.languages the image lacks, in spec order; empty when it carries them all. */
  missing: string[];
  /** The image's languages the check used. */
  carried: readonly string[];
  /** Where they were declared. */
  declaredBy: 'spec.ocr.imageLanguages' | 'the ocr-platform image';
}

export function imageLanguageFacts(spec: { languages: readonly string[]; ocr: Pick<OcrPipelineSpec['ocr'], 'imageLanguages'> }): ImageLanguageFacts {
  const own = spec.ocr.imageLanguages;
  const carried: readonly string[] = own ?? IMAGE_LANGUAGES;
  return {
    missing: spec.languages.filter((language) => !carried.includes(language)),
    carried,
    declaredBy: own ? 'spec.ocr.imageLanguages' : 'the ocr-platform image',
  };
}
