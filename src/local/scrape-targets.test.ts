// Which pod ports the local Prometheus scrapes (src/local/platform.ts): the ones the chart's PodMonitor
// scrapes in a cluster, checked against the ports the operator really gives the pipeline's containers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { desiredChildren } from '../operator/desired/index.ts';
import { input, pipeline } from '../operator/testing/fixtures.ts';
import type { PortMapping } from './node-agent/translate.ts';
import { servesMetrics } from './platform.ts';

interface Container {
  name: string;
  ports?: { name?: string; containerPort: number }[];
}

/** Every container port of the full sample's Deployments, as the node agent maps them. */
function mappings(): PortMapping[] {
  const children = desiredChildren(input(pipeline('full'), {})) as { kind: string; spec?: { template?: { spec?: { containers: Container[] } } } }[];
  return children
    .filter((c) => c.kind === 'Deployment')
    .flatMap((c) => c.spec?.template?.spec?.containers ?? [])
    .flatMap((container) =>
      (container.ports ?? []).map((port, i) => ({
        container: container.name,
        ...(port.name ? { name: port.name } : {}),
        containerPort: port.containerPort,
        hostPort: 40_000 + i,
      })),
    );
}

void describe('local scrape targets', () => {
  void it('are the API admin port and the worker port, and no other port of the pipeline pods', () => {
    const scraped = mappings()
      .filter(servesMetrics)
      .map((p) => `${p.container}/${p.name}`)
      .sort();
    assert.deepEqual(scraped, ['api/admin', 'worker/http']);
  });

  const cases: [name: string, port: PortMapping, expected: boolean][] = [
    ["the API's main port is not scraped (no /metrics there)", { container: 'api', name: 'http', containerPort: 8080, hostPort: 1 }, false],
    ["the API's internal notice port is not scraped", { container: 'api', name: 'internal', containerPort: 8081, hostPort: 1 }, false],
    ['an unnamed port is not scraped', { container: 'worker', containerPort: 9090, hostPort: 1 }, false],
  ];
  for (const [name, port, expected] of cases) void it(name, () => assert.equal(servesMetrics(port), expected));
});
