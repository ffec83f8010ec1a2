// Fused graphs (fuse.ts) kept on disk, so a worker start does not rewrite both PP-OCRv4 graphs again
// (0.3-1.1 s of CPU per start). Two places, looked in in this order:
//  1. prefused: written at image build by prefuse.ts into dist/worker/ocr/paddle/prefused/ (read-only);
//  2. the cache directory (OCR_PADDLE_GRAPH_CACHE; default $XDG_CACHE_HOME/ocr-platform-paddle, else
//     <tmpdir>/ocr-platform-paddle), written by the first start that had to fuse.
// An entry's name is its key: the SHA-256 of the source model's bytes and FUSE_VERSION, so another
// model file or other rewrites never find it. Its bytes are the SHA-256 of the fused model, then the
// fused model; an entry whose hash does not match (a torn or corrupted file) or that cannot be read is
// passed over with a warning and the graph is fused in memory. Entries are written to a temporary file
// and renamed into place, so a reader sees a whole entry or none. Nothing here ever fails a start:
// a directory that cannot be written is warned about and the fused graph used from memory.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUSE_VERSION, fuseModel } from './fuse.ts';

/** Where a loaded graph came from: the image, the on-disk cache, a rewrite at this start, or the file unrewritten. */
export type GraphOrigin = 'prefused' | 'cached' | 'fused-now' | 'as-is';

export interface GraphCacheSettings {
  /** Read-only directories of entries written at image build (prefuse.ts); looked in first. */
  prefusedDirs: readonly string[];
  /** The writable cache directory; undefined: no on-disk cache (fused in memory at every start). */
  cacheDir: string | undefined;
  /** Told why an entry was passed over or could not be written; the start goes on. */
  warn: (message: string, error: unknown) => void;
}

/** The directory prefuse.ts writes into at image build: beside this module (dist/worker/ocr/paddle/prefused in the image). */
export const PREFUSED_DIR = fileURLToPath(new URL('./prefused/', import.meta.url));

/** OCR_PADDLE_GRAPH_CACHE as given: unset or empty for the default directory, `off` for none, else the directory. */
export function graphCacheDir(setting: string | undefined, env: Record<string, string | undefined> = process.env): string | undefined {
  if (setting === 'off') return undefined;
  if (setting !== undefined && setting !== '') return setting;
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : tmpdir(), 'ocr-platform-paddle');
}

const sha256 = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();

/** An entry's file name for a source model: `<sha256 of the source, hex>-v<FUSE_VERSION>.fused.onnx`. */
export function entryName(source: Uint8Array, version: number = FUSE_VERSION): string {
  return `${sha256(source).toString('hex')}-v${version}.fused.onnx`;
}

export class CorruptGraphEntryError extends Error {
  override name = 'CorruptGraphEntryError';
}

/** An entry's fused model; undefined when there is no such file. Throws CorruptGraphEntryError when its hash does not match, and what fs throws otherwise. */
export async function readEntry(path: string): Promise<Uint8Array | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    // No such file, or a path through a file where a directory should be: no entry either way.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
  const model = bytes.subarray(32);
  if (bytes.length <= 32 || !sha256(model).equals(bytes.subarray(0, 32))) {
    throw new CorruptGraphEntryError(`${path} is not a whole fused graph (its hash does not match its ${bytes.length} bytes)`);
  }
  return model;
}

/** Writes an entry atomically (temporary file, then rename) and removes the same source's entries of other FUSE_VERSIONs. */
export async function writeEntry(dir: string, name: string, model: Uint8Array): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temporary = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, Buffer.concat([sha256(model), model]));
    await rename(temporary, join(dir, name));
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  const source = name.slice(0, name.indexOf('-v'));
  for (const other of await readdir(dir)) {
    if (other !== name && other.startsWith(`${source}-v`) && other.endsWith('.fused.onnx')) await rm(join(dir, other), { force: true });
  }
}

export interface LoadedGraph {
  model: Uint8Array;
  origin: Exclude<GraphOrigin, 'as-is'>;
}

/** The fused graph of a source model: from a prefused directory, the cache, or fused now (then written to the cache). */
export async function fusedGraph(source: Uint8Array, settings: GraphCacheSettings): Promise<LoadedGraph> {
  const name = entryName(source);
  const places: { dir: string; origin: LoadedGraph['origin'] }[] = settings.prefusedDirs.map((dir) => ({ dir, origin: 'prefused' }));
  if (settings.cacheDir !== undefined) places.push({ dir: settings.cacheDir, origin: 'cached' });
  for (const { dir, origin } of places) {
    const path = join(dir, name);
    try {
      const model = await readEntry(path);
      if (model) return { model, origin };
    } catch (error) {
      settings.warn(`paddle graph cache: passing over ${path}: ${(error as Error).message}; fusing the graph in memory`, error);
    }
  }
  const { model } = fuseModel(source);
  if (settings.cacheDir !== undefined) {
    try {
      await writeEntry(settings.cacheDir, name, model);
    } catch (error) {
      settings.warn(`paddle graph cache: cannot write ${join(settings.cacheDir, name)}: ${(error as Error).message}; the next start fuses again`, error);
    }
  }
  return { model, origin: 'fused-now' };
}
