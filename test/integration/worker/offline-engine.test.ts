// The OCR engine needs no network and writes nothing outside /tmp: it loads the language
// data from the installed @tesseract.js-data package. Proven by running it in a network
// namespace with no interfaces (unshare -n) from an empty working directory, which must
// stay empty (tesseract.js's default would write eng.traineddata there).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
const canUnshare = spawnSync('unshare', ['-n', 'true']).status === 0;

const SCRIPT = `
import { TesseractPool } from ${JSON.stringify(join(ROOT, 'src/worker/ocr/engine.ts'))};
import { preprocess } from ${JSON.stringify(join(ROOT, 'src/worker/ocr/preprocess.ts'))};
import { renderText } from ${JSON.stringify(join(ROOT, 'test/fixtures/render-text.ts'))};
const online = await fetch('https://cdn.jsdelivr.net/').then(() => true, () => false);
const pool = await TesseractPool.create({ languages: ['eng'], poolSize: 1, variant: 'best_int', autoPsm: '3', params: {}, initConfig: {} });
const image = await preprocess(await renderText(['OFFLINE 2024']), { maxPixels: 1e7, minWidth: 0, maxWidth: 0, threshold: 0 });
const result = await pool.recognize(image, { pageSegmentation: 'auto' }, 60000);
await pool.close();
console.log(JSON.stringify({ online, text: result.text }));
`;

void describe('OCR engine isolation', () => {
  void it(
    'loads and recognises with no network and leaves its working directory untouched',
    { skip: canUnshare ? false : 'unshare -n is not available (needs root or user namespaces)' },
    () => {
      const cwd = mkdtempSync(join(tmpdir(), 'ocr-offline-'));
      const scriptDir = mkdtempSync(join(tmpdir(), 'ocr-offline-script-'));
      try {
        const script = join(scriptDir, 'run.ts');
        writeFileSync(script, SCRIPT);
        const run = spawnSync('unshare', ['-n', process.execPath, script], { cwd, encoding: 'utf8', timeout: 90_000 });
        assert.equal(run.status, 0, run.stderr);
        const out = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { online: boolean; text: string };
        assert.equal(out.online, false, 'the namespace really has no network');
        assert.match(out.text, /OFFLINE 2024/);
        assert.deepEqual(readdirSync(cwd), [], 'nothing written to the working directory');
      } finally {
        rmSync(cwd, { recursive: true, force: true });
        rmSync(scriptDir, { recursive: true, force: true });
      }
    },
  );
});
