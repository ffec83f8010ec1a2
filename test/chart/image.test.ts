// The container image cannot be built here (no Docker), so these checks tie the
// Dockerfile to the code it packages: the commands it and the operator run exist as
// sources that `npm run build` compiles, the build context holds what the Dockerfile
// copies, and the runtime stage keeps the promises the chart's pod spec relies on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../../src/contract/container.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(root, '.dockerignore'), 'utf8');

/** Instructions of the last stage (the runtime image). */
const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

/** dist/x/main.js is compiled from src/x/main.ts (tsconfig.build.json: rootDir src, outDir dist). */
const sourceOf = (distPath: string): string => join(root, distPath.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'));

void describe('container image', () => {
  const entrypoints: [string, string][] = [
    ['the default command (operator)', /CMD \["([^"]+)"\]/.exec(runtimeStage)?.[1] ?? '<no CMD>'],
    ['the API command the operator sets', COMMANDS.api[1]],
    ['the worker command the operator sets', COMMANDS.worker[1]],
  ];
  for (const [name, distPath] of entrypoints) {
    void it(`${name}, ${distPath}, is built from a source file`, () => {
      assert.ok(existsSync(sourceOf(distPath)), `${sourceOf(distPath)} does not exist`);
    });
  }

  void it('runs node as the entrypoint, as a non-root numeric user, in the runtime stage', () => {
    assert.match(runtimeStage, /^ENTRYPOINT \["node"\]$/m);
    const user = /^USER (\d+)(?::(\d+))?$/m.exec(runtimeStage);
    assert.ok(user, 'the runtime stage needs USER <uid>:<gid> (numeric, so runAsNonRoot can verify it)');
    assert.notEqual(user[1], '0');
  });

  void it('copies only production dependencies, the build output and package.json into the runtime stage', () => {
    const copies = [...runtimeStage.matchAll(/^COPY --from=build (\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(copies.sort(), ['/app/dist', '/app/node_modules', '/app/package.json']);
    assert.match(dockerfile, /npm prune --omit=dev|npm ci --omit=dev/);
  });

  void it('sends the build context every file the build stage copies, and nothing else by default', () => {
    assert.equal(
      dockerignore.split('\n').find((l) => l.trim() && !l.startsWith('#')),
      '*',
    );
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    for (const path of copied) {
      assert.ok(dockerignore.includes(`!${path.replace(/\/$/, '')}`), `${path} is copied but not allowed in .dockerignore`);
      assert.ok(existsSync(join(root, path)), `${path} is copied but does not exist`);
    }
  });

  void it('has every package the production code imports among the production dependencies (the image has no dev dependencies)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const missing = new Set<string>();
    for (const file of productionSources(join(root, 'src'))) {
      for (const name of runtimeImports(readFileSync(file, 'utf8'))) {
        if (!pkg.dependencies[name]) missing.add(`${name} (${file.slice(root.length + 1)})`);
      }
    }
    assert.deepEqual([...missing], [], 'move these to dependencies, or the image fails at run time');
  });

  void it('bakes in the language data of the default language', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.ok(pkg.dependencies['@tesseract.js-data/eng'], '@tesseract.js-data/eng must be a production dependency');
  });
});

/** Files `npm run build` compiles into dist/: every .ts under src/ except tests (tsconfig.build.json). */
function productionSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return productionSources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Packages a module loads at run time: static and dynamic imports and re-exports, minus
 * type-only imports (erased), node: built-ins and relative paths. */
function runtimeImports(source: string): string[] {
  const specifiers = [
    ...source.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm),
    ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specifiers
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:'))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
}
