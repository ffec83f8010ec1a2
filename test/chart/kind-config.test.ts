// kind-config.yaml cannot be exercised here (no Docker); these checks pin what the e2e
// suite on kind relies on, and tie the node image to the Kubernetes version the local
// control plane is built from (hack/tools.sh), so the two paths test the same release.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface KindNode {
  role: string;
  image?: string;
  extraPortMappings?: { containerPort: number; hostPort: number; listenAddress?: string; protocol?: string }[];
}
interface KindCluster {
  kind: string;
  apiVersion: string;
  featureGates?: Record<string, boolean>;
  kubeadmConfigPatches?: string[];
  nodes: KindNode[];
}

const config = parse(readFileSync(join(root, 'kind-config.yaml'), 'utf8')) as KindCluster;
const toolsK8sVersion = /^K8S_VERSION=(v\d+\.\d+)\.\d+$/m.exec(readFileSync(join(root, 'hack', 'tools.sh'), 'utf8'))?.[1];

void describe('kind-config.yaml', () => {
  void it('is a kind v1alpha4 Cluster with one control plane and two workers', () => {
    assert.equal(config.kind, 'Cluster');
    assert.equal(config.apiVersion, 'kind.x-k8s.io/v1alpha4');
    assert.deepEqual(
      config.nodes.map((n) => n.role),
      ['control-plane', 'worker', 'worker'],
    );
  });

  void it('turns on HPAScaleToZero, so worker HPAs may have minReplicas 0', () => {
    assert.equal(config.featureGates?.HPAScaleToZero, true);
  });

  void it('pins every node to one digest-pinned kindest/node image of the Kubernetes minor hack/tools.sh builds', () => {
    const images = new Set(config.nodes.map((n) => n.image));
    assert.equal(images.size, 1, 'all nodes must run the same image');
    const [image] = images;
    const match = /^kindest\/node:(v\d+\.\d+)\.\d+@sha256:[a-f0-9]{64}$/.exec(image ?? '');
    assert.ok(match, `${image} is not kindest/node:vX.Y.Z@sha256:<digest>`);
    assert.equal(match[1], toolsK8sVersion);
  });

  void it('maps the API NodePort 30080 to 127.0.0.1:8080 on the host', () => {
    const mappings = config.nodes.flatMap((n) => n.extraPortMappings ?? []);
    assert.deepEqual(mappings, [{ containerPort: 30080, hostPort: 8080, listenAddress: '127.0.0.1', protocol: 'TCP' }]);
  });

  void it('shortens the HPA sync period with a kubeadm v1beta4 patch (extraArgs as a name/value list)', () => {
    const patches = (config.kubeadmConfigPatches ?? []).flatMap((p) => parseAllDocuments(p).map((d) => d.toJS()));
    const cluster = patches.find((p) => p.kind === 'ClusterConfiguration');
    assert.equal(cluster?.apiVersion, 'kubeadm.k8s.io/v1beta4');
    assert.deepEqual(cluster.controllerManager.extraArgs, [{ name: 'horizontal-pod-autoscaler-sync-period', value: '5s' }]);
  });
});
