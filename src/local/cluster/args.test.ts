// The apiserver's admission plugins: the local control plane enforces what strict production clusters do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiserverArgs, type Ports } from './args.ts';
import { pkiPaths } from './pki.ts';

const ports: Ports = { etcdClient: 1, etcdPeer: 2, apiserver: 3, controllerManager: 4, scheduler: 5, kwok: 6 };

void test('the apiserver enables OwnerReferencesPermissionEnforcement, so blockOwnerDeletion needs the owner finalizers right', () => {
  const plugins = apiserverArgs(ports, pkiPaths('/pki'))
    .filter((a) => a.startsWith('--enable-admission-plugins='))
    .flatMap((a) => a.slice('--enable-admission-plugins='.length).split(','));
  assert.ok(plugins.includes('OwnerReferencesPermissionEnforcement'), `enabled: ${plugins.join(',')}`);
});
