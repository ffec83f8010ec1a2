// Pure parts of the cluster tool: input validation and the flags that carry a reason.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiserverArgs, AUDIT_POLICY, controllerManagerArgs, kwokArgs, schedulerArgs, TEST_TIMING, type Ports } from './args.ts';
import { adapterRegistration, fileSdTargets, parseScrapeTarget } from './metrics-config.ts';
import { pkiPaths } from './pki.ts';
import { validateName } from './state.ts';

const ports: Ports = { etcdClient: 1, etcdPeer: 2, apiserver: 3, controllerManager: 4, scheduler: 5, kwok: 6 };
const pki = pkiPaths('/pki');

void describe('scrape targets', () => {
  for (const target of ['127.0.0.1:9464', 'localhost:80', '[::1]:65535', '127.1.2.3:1']) {
    void it(`accepts the loopback target ${target}`, () => {
      assert.equal(parseScrapeTarget(target), target);
    });
  }
  for (const target of ['10.0.0.5:9464', '192.168.1.1:80', 'example.com:80', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', '127.0.0.999:80']) {
    void it(`rejects ${target} with a message that says what to give`, () => {
      assert.throws(() => parseScrapeTarget(target), /loopback host:port/);
    });
  }
  void it('writes a file_sd document Prometheus can read', () => {
    assert.deepEqual(JSON.parse(fileSdTargets(['127.0.0.1:1'])), [{ targets: ['127.0.0.1:1'], labels: {} }]);
  });
});

void describe('cluster names', () => {
  for (const name of ['dev', 'it-metrics', 'a1']) void it(`accepts ${name}`, () => assert.equal(validateName(name), name));
  for (const name of ['', 'Dev', '-x', 'x-', 'a/b', 'a'.repeat(41)]) {
    void it(`rejects "${name}"`, () => assert.throws(() => validateName(name), /invalid cluster name/));
  }
});

void describe('component flags', () => {
  void it('never gives the apiserver a (loopback) advertise address and turns the endpoint reconciler off', () => {
    const args = apiserverArgs(ports, pki);
    assert.ok(args.includes('--endpoint-reconciler-type=none'));
    assert.ok(!args.some((a) => a.startsWith('--advertise-address')));
    assert.ok(!args.some((a) => a.startsWith('--enable-aggregator-routing')));
  });
  void it('shortens the HPA sync period and downscale stabilization for tests', () => {
    const args = controllerManagerArgs(ports, pki, '/k', TEST_TIMING);
    assert.ok(args.includes('--horizontal-pod-autoscaler-sync-period=5s'));
    assert.ok(args.includes('--horizontal-pod-autoscaler-downscale-stabilization=15s'));
  });
  void it('gives kwok a node lease duration (standalone default 0 lets nodes go NotReady)', () => {
    assert.ok(kwokArgs(ports, '/k', '/s').includes('--node-lease-duration-seconds=40'));
  });
  void it('points the external-metrics APIService at the local adapter port through an ExternalName Service', () => {
    const { service, apiService } = adapterRegistration(6444);
    assert.deepEqual(service.spec, { type: 'ExternalName', externalName: '127.0.0.1' });
    assert.equal((apiService.spec.service as { port: number }).port, 6444);
  });
});

void describe('benchmark profile', () => {
  void it("raises the controllers' and the scheduler's client rates and sync workers only in the bench profile", () => {
    const kcm = controllerManagerArgs(ports, pki, '/k', TEST_TIMING, 'bench');
    for (const flag of ['--kube-api-qps=1000', '--kube-api-burst=2000', '--concurrent-deployment-syncs=50', '--concurrent-replicaset-syncs=50']) {
      assert.ok(kcm.includes(flag), flag);
    }
    assert.ok(schedulerArgs(ports, '/k', 'bench').includes('--kube-api-qps=1000'));
    assert.ok(!controllerManagerArgs(ports, pki, '/k', TEST_TIMING).some((a) => a.startsWith('--kube-api-qps')));
    assert.ok(!schedulerArgs(ports, '/k').some((a) => a.startsWith('--kube-api-qps')));
  });
  void it('gives the apiserver an audit log of writes only when asked', () => {
    const args = apiserverArgs(ports, pki, { policyFile: '/p.yaml', logFile: '/a.log' });
    assert.ok(args.includes('--audit-policy-file=/p.yaml') && args.includes('--audit-log-path=/a.log'));
    assert.ok(!apiserverArgs(ports, pki).some((a) => a.startsWith('--audit')));
    assert.match(AUDIT_POLICY, /verbs: \[create, update, patch, delete, deletecollection\]/);
  });
});
