import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../shared/config.ts';
import { DEFAULT_NODE_NAME } from './agent.ts';
import { helpText, parseConfig } from './main.ts';

void test('node agent: the cluster comes from --kubeconfig, else KUBECONFIG', () => {
  assert.deepEqual(parseConfig([], { KUBECONFIG: '/k' }), { kubeconfig: '/k', node: DEFAULT_NODE_NAME, logs: undefined, preferDist: false, help: false });
  const cfg = parseConfig(['--kubeconfig', '/f', '--node', 'n1', '--logs', '/l', '--prefer-dist'], { KUBECONFIG: '/k' });
  assert.deepEqual(cfg, { kubeconfig: '/f', node: 'n1', logs: '/l', preferDist: true, help: false });
});

void test('node agent: no cluster is refused with what to do; -h needs none', () => {
  assert.throws(
    () => parseConfig([], {}),
    (err: unknown) => err instanceof ConfigError && /^no cluster: pass --kubeconfig FILE or set KUBECONFIG/.test(err.message),
  );
  assert.equal(parseConfig(['-h'], {}).help, true);
  assert.match(helpText(), /--kubeconfig <value> +.*env KUBECONFIG/);
});
