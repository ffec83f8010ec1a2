// The operator process must not load @kubernetes/client-node at run time (issue 14: its
// generated API classes and models cost 55-80 MiB of RSS); its types are still used, and type
// imports are erased. This runs the operator's entry the way the image does (main.ts -> run.ts,
// every static import) with --help, records every module it resolves, and checks the list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

/** A preload that records the URL of every module resolved in the process and prints them at exit. */
const RECORDER = `
import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
process.on('exit', () => process.stderr.write('MODULES ' + JSON.stringify([...seen]) + '\\n'));
`;

async function modulesOfOperator(): Promise<string[]> {
  const { stderr, stdout } = await promisify(execFile)(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(RECORDER)}`, MAIN, '--help'], {
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  assert.match(stdout, /--kubeconfig/, 'the operator printed its help');
  const line = stderr.split('\n').find((l) => l.startsWith('MODULES '));
  assert.ok(line, `the recorder reported the modules\n${stderr}`);
  return JSON.parse(line.slice('MODULES '.length)) as string[];
}

void test('the operator process loads its own Kubernetes client and not @kubernetes/client-node', async () => {
  const modules = await modulesOfOperator();
  assert.ok(
    modules.some((u) => u.endsWith('/src/operator/kube-http/client.ts')),
    'the recorder saw the operator graph (kube-http/client.ts among its modules)',
  );
  assert.deepEqual(
    modules.filter((u) => u.includes('/@kubernetes/client-node/')),
    [],
  );
});

void test('the operator process does not load @azure/identity unless a pipeline uses workload identity', async () => {
  // identity.ts is imported lazily (loadWorkloadIdentity); a static import of anything that imports it costs ~15 MiB RSS.
  const modules = await modulesOfOperator();
  assert.deepEqual(
    modules.filter((u) => u.includes('/@azure/identity/') || u.includes('/@azure/msal-')),
    [],
  );
});
