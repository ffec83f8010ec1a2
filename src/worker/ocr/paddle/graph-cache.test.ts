// graph-cache.ts on real directories: a hit loads the stored graph, a miss fuses and stores it, an
// entry of other rewrites (FUSE_VERSION) is never loaded, and a corrupt or unreadable entry or a cache
// that cannot be written costs a warning and a rewrite, never the start. Then the engine itself, on
// the bundled PP-OCRv4 models: prefused, fused-now, cached, and a stored graph onnxruntime refuses.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FUSE_VERSION, fuseModel } from './fuse.ts';
import { CorruptGraphEntryError, entryName, fusedGraph, graphCacheDir, readEntry, writeEntry, type GraphCacheSettings } from './graph-cache.ts';
import { DEFAULT_PADDLE, PaddleEngine, openPaddle } from './engine.ts';
import { pino } from 'pino';
import { prefuse } from './prefuse.ts';
import { bundledModels } from './models.ts';
import { bytesField, textField, varintField } from './protobuf.ts';

const root = await mkdtemp(join(tmpdir(), 'graph-cache-test-'));
after(() => rm(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `d${++dirs}`);

/** A model with an empty graph named `name`: fuseModel parses it and writes it back. */
const tinyModel = (name: string): Uint8Array => Buffer.concat([varintField(1, 8), bytesField(7, textField(2, name))]);
const entryBytes = (model: Uint8Array): Buffer => Buffer.concat([createHash('sha256').update(model).digest(), model]);

function settings(cacheDir: string | undefined, prefusedDirs: string[] = []): GraphCacheSettings & { warnings: string[] } {
  const warnings: string[] = [];
  return { prefusedDirs, cacheDir, warn: (message) => warnings.push(message), warnings };
}

describe('graphCacheDir', () => {
  const cases: { setting: string | undefined; env: Record<string, string>; want: string | undefined }[] = [
    { setting: undefined, env: { XDG_CACHE_HOME: '/x' }, want: '/x/ocr-platform-paddle' },
    { setting: 'off', env: { XDG_CACHE_HOME: '/x' }, want: undefined },
    { setting: '/var/cache/paddle', env: { XDG_CACHE_HOME: '/x' }, want: '/var/cache/paddle' },
    { setting: '', env: { XDG_CACHE_HOME: '/x' }, want: '/x/ocr-platform-paddle' },
    { setting: '', env: { XDG_CACHE_HOME: '' }, want: join(tmpdir(), 'ocr-platform-paddle') },
    { setting: '', env: {}, want: join(tmpdir(), 'ocr-platform-paddle') },
  ];
  for (const { setting, env, want } of cases) {
    it(`${setting === undefined ? 'unset' : `'${setting}'`} with XDG_CACHE_HOME=${env['XDG_CACHE_HOME'] ?? '(unset)'} is ${want ?? 'no cache'}`, () => {
      assert.equal(graphCacheDir(setting, env), want);
    });
  }
});

describe('fusedGraph', () => {
  const source = tinyModel('source');
  const fused = fuseModel(source).model;

  it('fuses on a miss and stores the entry; the next load is a hit with the same bytes', async () => {
    const dir = freshDir();
    const first = await fusedGraph(source, settings(dir));
    assert.equal(first.origin, 'fused-now');
    assert.deepEqual(Buffer.from(first.model), Buffer.from(fused));
    assert.deepEqual(await readFile(join(dir, entryName(source))), entryBytes(fused));
    assert.deepEqual(await readdir(dir), [entryName(source)], 'no temporary file is left behind');
    const second = await fusedGraph(source, settings(dir));
    assert.equal(second.origin, 'cached');
    assert.deepEqual(Buffer.from(second.model), Buffer.from(fused));
  });

  it('a hit returns the stored graph, not a new rewrite, and a prefused entry comes before the cache', async () => {
    const [prefused, cache] = [freshDir(), freshDir()];
    const fromImage = tinyModel('from the image');
    const fromCache = tinyModel('from the cache');
    await writeEntry(prefused, entryName(source), fromImage);
    await writeEntry(cache, entryName(source), fromCache);
    const both = await fusedGraph(source, settings(cache, [prefused]));
    assert.equal(both.origin, 'prefused');
    assert.deepEqual(Buffer.from(both.model), Buffer.from(fromImage));
    const cacheOnly = await fusedGraph(source, settings(cache, [freshDir()]));
    assert.equal(cacheOnly.origin, 'cached');
    assert.deepEqual(Buffer.from(cacheOnly.model), Buffer.from(fromCache));
  });

  it('another source model misses: the key is the source bytes', async () => {
    const dir = freshDir();
    await writeEntry(dir, entryName(source), tinyModel('stored'));
    const other = await fusedGraph(tinyModel('another source'), settings(dir));
    assert.equal(other.origin, 'fused-now');
  });

  it('an entry of another FUSE_VERSION is never loaded, and is removed when the new one is written', async () => {
    const dir = freshDir();
    const stale = entryName(source, FUSE_VERSION - 1);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, stale), entryBytes(tinyModel('old rewrites')));
    const loaded = await fusedGraph(source, settings(dir));
    assert.equal(loaded.origin, 'fused-now');
    assert.deepEqual(Buffer.from(loaded.model), Buffer.from(fused));
    assert.deepEqual(await readdir(dir), [entryName(source)]);
  });

  const corruptions: { name: string; bytes: (whole: Buffer) => Buffer }[] = [
    { name: 'a torn entry (half written)', bytes: (whole) => whole.subarray(0, Math.floor(whole.length / 2)) },
    { name: 'a flipped byte', bytes: (whole) => Buffer.from(whole.map((b, i) => (i === whole.length - 1 ? b ^ 0xff : b))) },
    { name: 'an empty file', bytes: () => Buffer.alloc(0) },
    { name: 'a hash alone', bytes: (whole) => whole.subarray(0, 32) },
  ];
  for (const { name, bytes } of corruptions) {
    it(`${name} is passed over with a warning, fused again and replaced by a whole entry`, async () => {
      const dir = freshDir();
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, entryName(source)), bytes(entryBytes(fused)));
      await assert.rejects(readEntry(join(dir, entryName(source))), CorruptGraphEntryError);
      const cache = settings(dir);
      const loaded = await fusedGraph(source, cache);
      assert.equal(loaded.origin, 'fused-now');
      assert.deepEqual(Buffer.from(loaded.model), Buffer.from(fused));
      assert.equal(cache.warnings.length, 1);
      assert.match(cache.warnings[0]!, /passing over .*hash does not match/);
      assert.deepEqual(await readFile(join(dir, entryName(source))), entryBytes(fused));
    });
  }

  it('an entry that cannot be read (a directory in its place) is passed over with a warning', async () => {
    const dir = freshDir();
    await mkdir(join(dir, entryName(source)), { recursive: true });
    const cache = settings(dir);
    const loaded = await fusedGraph(source, cache);
    assert.equal(loaded.origin, 'fused-now');
    assert.equal(cache.warnings.length, 2, 'one for the read, one for the write over the directory');
    assert.match(cache.warnings[0]!, /passing over/);
    assert.match(cache.warnings[1]!, /cannot write/);
  });

  it('a cache directory that cannot be created or written costs a warning, not the start', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'not a directory');
    const cache = settings(join(file, 'cache'));
    const loaded = await fusedGraph(source, cache);
    assert.equal(loaded.origin, 'fused-now');
    assert.deepEqual(Buffer.from(loaded.model), Buffer.from(fused));
    assert.equal(cache.warnings.length, 1);
    assert.match(cache.warnings[0]!, /cannot write .*the next start fuses again/);
  });

  it('without a cache directory nothing is written', async () => {
    const cache = settings(undefined);
    assert.equal((await fusedGraph(source, cache)).origin, 'fused-now');
    assert.equal(cache.warnings.length, 0);
  });

  it('a source that is not an ONNX model still fails the load: there is nothing to fall back to', async () => {
    await assert.rejects(fusedGraph(Buffer.from('not a model'), settings(freshDir())), /not an ONNX model/);
  });
});

describe('PaddleEngine graph origins (bundled PP-OCRv4 models)', () => {
  const models = bundledModels();
  const create = async (cache: GraphCacheSettings) => {
    const engine = await PaddleEngine.create({ ...DEFAULT_PADDLE, graphCache: cache });
    await engine.close();
    return engine.graphs;
  };

  it('loads the graphs prefuse.ts wrote, then fuses now, then loads them from the cache', async () => {
    const image = freshDir();
    const written = await prefuse(image, models);
    assert.equal(written.length, 2);
    assert.deepEqual(await create(settings(undefined, [image])), { detection: 'prefused', recognition: 'prefused' });
    const cache = freshDir();
    assert.deepEqual(await create(settings(cache)), { detection: 'fused-now', recognition: 'fused-now' });
    assert.deepEqual(await create(settings(cache)), { detection: 'cached', recognition: 'cached' });
    // The cache holds the same bytes prefuse.ts wrote: one rewrite, two ways to store it.
    for (const path of written) assert.deepEqual(await readFile(path), await readFile(join(cache, path.slice(image.length + 1))));
  });

  it('a stored graph onnxruntime refuses is warned about and fused now', async () => {
    const image = freshDir();
    const source = await readFile(models.detectionPath);
    await writeEntry(image, entryName(source), tinyModel('not the detector'));
    const cache = settings(undefined, [image]);
    const graphs = await create(cache);
    assert.equal(graphs.detection, 'fused-now');
    assert.equal(cache.warnings.length, 1);
    assert.match(cache.warnings[0]!, /onnxruntime refused the prefused graph/);
  });

  it("the worker's openPaddle uses the cache directory it is given and logs where the graphs came from", async () => {
    const lines: { msg: string; graphs?: unknown }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const cache = freshDir();
    for (const want of ['fused-now', 'cached']) {
      const engine = await openPaddle(cache, log);
      await engine.close();
      assert.deepEqual(engine.graphs, { detection: want, recognition: want });
      assert.deepEqual(lines.at(-1), { ...lines.at(-1), msg: 'paddle graphs loaded', graphs: engine.graphs });
    }
    assert.equal((await readdir(cache)).length, 2);
  });

  it('fuseGraphs false loads the files as they are', async () => {
    const engine = await PaddleEngine.create({ ...DEFAULT_PADDLE, fuseGraphs: false, graphCache: settings(undefined) });
    await engine.close();
    assert.deepEqual(engine.graphs, { detection: 'as-is', recognition: 'as-is' });
  });
});
