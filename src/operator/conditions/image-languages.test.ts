import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IMAGE_LANGUAGES } from '../../contract/image.ts';
import { imageLanguageFacts, type ImageLanguageFacts } from './image-languages.ts';

const cases: { name: string; languages: string[]; imageLanguages?: string[]; facts: ImageLanguageFacts }[] = [
  {
    name: 'the platform image carries English, German and simplified Chinese',
    languages: ['eng', 'deu', 'chi_sim'],
    facts: { missing: [], carried: IMAGE_LANGUAGES, declaredBy: 'the ocr-platform image' },
  },
  {
    name: 'the platform image lacks Japanese, and only Japanese is named',
    languages: ['eng', 'jpn'],
    facts: { missing: ['jpn'], carried: IMAGE_LANGUAGES, declaredBy: 'the ocr-platform image' },
  },
  {
    name: "a custom image's declared languages replace the platform image's",
    languages: ['eng', 'jpn'],
    imageLanguages: ['eng', 'jpn'],
    facts: { missing: [], carried: ['eng', 'jpn'], declaredBy: 'spec.ocr.imageLanguages' },
  },
  {
    name: 'a custom image without German is reported as lacking it, even though the platform image has it',
    languages: ['deu', 'eng'],
    imageLanguages: ['eng'],
    facts: { missing: ['deu'], carried: ['eng'], declaredBy: 'spec.ocr.imageLanguages' },
  },
];

for (const c of cases) {
  void test(c.name, () => {
    const ocr = {
      engine: 'auto',
      tesseractModel: 'auto',
      maxPages: 20,
      pdfDpi: 200,
      ...(c.imageLanguages ? { imageLanguages: c.imageLanguages } : {}),
    } as const;
    assert.deepEqual(imageLanguageFacts({ languages: c.languages, ocr }), c.facts);
  });
}
