// The README walk-through, automated: `npm start` (startPlatform), then the printed curl
// (POST /v1/ocr with the sample receipt through the service proxy) returns the receipt's
// text; the pipeline's pods really ran as processes on the node agent's node; stop leaves
// no process of ours running. Reuses the cluster of OCR_TEST_KUBECONFIG (hack/test.sh)
// when set, in a namespace of its own, else starts the local control plane.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { normaliseText, readSampleReceipt, readSampleText, SAMPLE_RECEIPT } from '../../../src/local/receipts.ts';
import { startPlatform, type Platform } from '../../../src/local/platform.ts';
import type { KubeList } from '../../../src/local/kube.ts';
import { CACHE_DIR } from '../../support/cluster.ts';
import { waitFor } from '../../../src/shared/net.ts';
import type { V1Pod } from '@kubernetes/client-node';

const skip = process.env.OCR_TEST_SKIP_CLUSTER ? 'OCR_TEST_SKIP_CLUSTER is set' : false;

/** Live (non-zombie) processes whose parent is this test process: all the platform started directly. */
function children(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const [, state, ppid] = /\) (\S) (\d+)/.exec(stat) ?? [];
      if (Number(ppid) === process.pid && state !== 'Z') out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

void describe('npm start: the whole platform on one machine', { skip, timeout: 240_000 }, () => {
  let platform: Platform | undefined;
  const pids: number[] = [];

  before(async () => {
    const shared = process.env.OCR_TEST_KUBECONFIG;
    platform = await startPlatform({
      cacheDir: CACHE_DIR,
      ...(shared ? { kubeconfigPath: shared, namespace: `ocr-local-${process.pid}` } : { clusterName: `it-local-${process.pid}` }),
      basePort: 28080,
      log: (line) => process.stderr.write(`  ${line}\n`),
    });
  });

  after(async () => {
    await platform?.stop();
  });

  void it('answers the printed curl (POST /v1/ocr with the sample receipt) with the receipt text', { timeout: 90_000 }, async () => {
    const p = platform!;
    const form = new FormData();
    form.set('file', new Blob([new Uint8Array(await readSampleReceipt())], { type: 'image/png' }), SAMPLE_RECEIPT);
    const t0 = Date.now();
    const res = await fetch(`${p.apiUrl}/v1/ocr`, { method: 'POST', headers: { 'x-api-key': p.apiKey }, body: form, signal: AbortSignal.timeout(80_000) });
    const body = (await res.json()) as { status?: string; result?: { text?: string } };
    process.stderr.write(`  first OCR result ${Date.now() - t0} ms after the platform was ready (${p.readySeconds.toFixed(1)} s)\n`);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.status, 'succeeded');
    assert.equal(normaliseText(body.result?.text ?? ''), normaliseText(await readSampleText()));
  });

  void it('ran the API and worker pods as real processes on the agent node, Ready by their probes', async () => {
    const p = platform!;
    const running = p.agent.pods();
    const names = running.map((r) => r.name).join(', ');
    assert.ok(
      running.some((r) => r.name.includes('-api-') && r.ready && r.pids.length === 1),
      `an API pod runs: ${names}`,
    );
    assert.ok(
      running.some((r) => r.name.includes('-worker-') && r.ready && r.pids.length === 1),
      `a worker pod runs: ${names}`,
    );
    for (const r of running)
      for (const pid of r.pids) {
        assert.ok(alive(pid), `pid ${pid} of ${r.name} is alive`);
        pids.push(pid);
      }
    // The agent writes pod status to the API server after its own probe passes; give that
    // write a bounded moment to land before asserting what the cluster says.
    const readyInCluster = (pod: V1Pod): boolean =>
      pod.status?.phase === 'Running' && pod.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    let list = await p.kube.request<KubeList<V1Pod>>('GET', `/api/v1/namespaces/${p.namespace}/pods`);
    await waitFor(
      'every pod of the pipeline to be Running and Ready in the API server',
      async () => {
        list = await p.kube.request<KubeList<V1Pod>>('GET', `/api/v1/namespaces/${p.namespace}/pods`);
        return list.items.length > 0 && list.items.every(readyInCluster);
      },
      30_000,
    ).catch(() => undefined); // the assertions below name the pod that is not Ready
    for (const pod of list.items) {
      assert.equal(pod.spec?.nodeName, p.agent.nodeName, `${pod.metadata?.name} is bound to the agent's node, not a kwok node`);
      assert.equal(pod.status?.phase, 'Running');
      assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True', `${pod.metadata?.name} is Ready`);
      assert.ok(pod.metadata?.annotations?.['ocrplatform.io/local-ports'], 'the port mapping is recorded on the pod');
    }
  });

  void it('stops every process it started', { timeout: 90_000 }, async () => {
    const p = platform!;
    platform = undefined;
    await p.stop();
    const left = pids.filter(alive);
    assert.deepEqual(left, [], `pod processes still running after stop: ${left.join(', ')}`);
    // the control plane, Azurite, the operator and the pods were all started by this process
    const orphans = children().map((pid) => `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').slice(0, 120)}`);
    assert.deepEqual(orphans, [], 'no child process outlives stop()');
  });
});
