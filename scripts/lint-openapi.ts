// npm run lint:openapi: the API's /openapi.json through Redocly's linter (recommended rules,
// plus redocly.yaml at the repository root). The app is built in-process with the benchmark's
// in-memory stores (nothing is stored or sent: the document is read from the admin app), the
// document is written to a temp file, and `redocly lint` must report 0 errors and 0 warnings.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildApp } from '../src/api/app.ts';
import { ApiKeys } from '../src/api/auth.ts';
import { silentLogger } from '../src/shared/logger.ts';
import { testConfig } from '../test/support/api-config.ts';
import { MemoryBlobs, MemoryQueue, MemoryRecords } from '../bench/api/memory-store.ts';

const root = resolve(import.meta.dirname, '..');
const app = await buildApp({
  config: testConfig({ pipeline: 'lint', webhookSecret: undefined }),
  records: new MemoryRecords(),
  blobs: new MemoryBlobs(),
  queue: new MemoryQueue(),
  keys: ApiKeys.parse('lint:lint-key\n'),
  logger: silentLogger(),
});
let document: string;
try {
  const response = await app.admin.inject({ method: 'GET', url: '/openapi.json' });
  if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}: ${response.body}`);
  document = response.body;
} finally {
  await app.close();
}
const dir = mkdtempSync(join(tmpdir(), 'ocr-openapi-'));
try {
  const file = join(dir, 'openapi.json');
  writeFileSync(file, document);
  const redocly = join(root, 'node_modules', '.bin', 'redocly');
  const run = spawnSync(redocly, ['lint', file, '--config', join(root, 'redocly.yaml'), '--format', 'stylish', '--max-problems', '200'], {
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  if (run.error) throw run.error;
  process.stdout.write(run.stdout);
  process.stderr.write(run.stderr);
  // redocly exits 1 on errors only; a warning fails this check too, so none creeps in.
  const warnings = `${run.stdout}${run.stderr}`.split('\n').filter((line) => /^\s*\d+:\d+\s+warning\s/.test(line)).length;
  if (warnings > 0) console.error(`lint:openapi: ${warnings} warning(s); fix them or turn the rule off in redocly.yaml with a reason`);
  process.exitCode = run.status === 0 && warnings === 0 ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
