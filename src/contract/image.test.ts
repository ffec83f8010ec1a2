// The operator knows the image's languages from IMAGE_LANGUAGES: these tests keep it equal to what the image build installs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OCR_ENGINES, PADDLE_LANGUAGES } from '../crds/ocrpipeline.ts';
import { IMAGE_LANGUAGES } from './image.ts';

const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
const sorted = (list: readonly string[]) => [...list].sort();

/** The value of a LABEL key in the Dockerfile, split at commas. */
function label(key: string): string[] {
  const match = new RegExp(`${key.replaceAll('.', '\\.')}="([^"]*)"`).exec(dockerfile);
  assert.ok(match, `the Dockerfile has no label ${key}`);
  return match[1]!.split(',');
}

const sources: { name: string; languages: () => string[] }[] = [
  {
    // tesseract-ocr-chi-sim is chi_sim: Debian spells the script suffix with a dash.
    name: "the Dockerfile's Debian tesseract-ocr-<lang> packages (the fast models)",
    languages: () => [...dockerfile.matchAll(/\btesseract-ocr-([a-z]{3}(?:-[a-z]+)?)\b/g)].map((m) => m[1]!.replace('-', '_')),
  },
  {
    name: "package.json's @tesseract.js-data/<lang> dependencies (the best models)",
    languages: () =>
      Object.keys(packageJson.dependencies)
        .filter((name) => name.startsWith('@tesseract.js-data/'))
        .map((name) => name.slice('@tesseract.js-data/'.length)),
  },
  { name: "the image's io.ocr-platform.languages label", languages: () => label('io.ocr-platform.languages') },
];

for (const source of sources) {
  void test(`IMAGE_LANGUAGES are exactly ${source.name}`, () => {
    assert.deepEqual(sorted([...new Set(source.languages())]), sorted(IMAGE_LANGUAGES));
  });
}

void test("the image's io.ocr-platform.engines label lists the engines the CRD offers", () => {
  assert.deepEqual(sorted(label('io.ocr-platform.engines')), sorted(OCR_ENGINES));
});

void test('the image carries every language the paddle engine reads', () => {
  for (const language of PADDLE_LANGUAGES) assert.ok((IMAGE_LANGUAGES as readonly string[]).includes(language), language);
});
