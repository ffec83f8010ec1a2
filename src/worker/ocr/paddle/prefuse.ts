// Writes the fused PP-OCRv4 graphs (fuse.ts) as graph-cache.ts entries, at image build:
//   node dist/worker/ocr/paddle/prefuse.js        (the Dockerfile's build stage; into PREFUSED_DIR)
//   node src/worker/ocr/paddle/prefuse.ts <dir>   (anywhere else)
// A worker then loads them instead of rewriting both graphs at every start. The entries are keyed by
// the source models' bytes and FUSE_VERSION, so an image whose models or rewrites changed without
// running this again only loses the speed-up: its worker fuses at start, as before.
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { fuseModel } from './fuse.ts';
import { PREFUSED_DIR, entryName, writeEntry } from './graph-cache.ts';
import { bundledModels, type PaddleModels } from './models.ts';

/** Fuses the detector and the recogniser of `models` into `dir`; returns the paths written. */
export async function prefuse(dir: string, models: Pick<PaddleModels, 'detectionPath' | 'recognitionPath'>): Promise<string[]> {
  const written: string[] = [];
  for (const path of [models.detectionPath, models.recognitionPath]) {
    const source = await readFile(path);
    const name = entryName(source);
    await writeEntry(dir, name, fuseModel(source).model);
    written.push(join(dir, name));
  }
  return written;
}

if (import.meta.main) {
  const dir = process.argv[2] ?? PREFUSED_DIR;
  for (const path of await prefuse(dir, bundledModels())) console.log(`prefused ${path}`);
}
