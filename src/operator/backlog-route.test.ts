import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { queueGauges } from './scaling/metrics.ts';
import { backlogRoute } from './backlog-route.ts';
import { pipelineBacklogUrl } from './desired/api-deployment.ts';

const labels = { namespace: 'finance', pipeline: 'invoices', queue: 'invoices' };

void describe("the operator's backlog route", () => {
  const registry = new Registry();
  const gauges = queueGauges(registry);
  gauges.set(labels, { activeMessages: 42, scheduled: 7, deadLettered: 1, inFlight: 3, waiting: 39, backlog: 45 }, Date.now());
  const route = backlogRoute(registry);
  const ask = async (query: string) => {
    const answer = await route(new URL(`http://operator/v1/backlog?${query}`));
    return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
  };

  void it("answers a polled pipeline's active message count", async () => {
    assert.deepEqual(await ask('namespace=finance&pipeline=invoices'), { status: 200, body: { backlog: 42 } });
  });

  void it('answers 404 for a pipeline it has no fresh reading of', async () => {
    assert.equal((await ask('namespace=finance&pipeline=other')).status, 404);
    gauges.remove(labels); // stale: the registry takes the series away
    assert.equal((await ask('namespace=finance&pipeline=invoices')).status, 404);
  });

  void it('answers 400 without namespace or pipeline', async () => {
    assert.equal((await ask('pipeline=invoices')).status, 400);
  });

  void it('builds the URL an API pod reads, from --backlog-url', () => {
    assert.equal(
      pipelineBacklogUrl('http://ocr-platform-metrics.ocr-system.svc:8080/v1/backlog', 'finance', 'invoices'),
      'http://ocr-platform-metrics.ocr-system.svc:8080/v1/backlog?namespace=finance&pipeline=invoices',
    );
  });
});
