import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry, type Metric } from 'prom-client';
import { ApiMetrics, RequestDurations } from './metrics.ts';

const BUCKETS = [0.001, 0.01, 0.1, 1];

/** The same observations through prom-client's own Histogram and through RequestDurations, as /metrics text and as JSON. */
async function both(observations: [string, string, number, number][]): Promise<{ theirs: string; ours: string; theirsJson: unknown; oursJson: unknown }> {
  const promRegistry = new Registry();
  const histogram = new Histogram({ name: 'd_seconds', help: 'h', labelNames: ['route', 'method', 'status'], buckets: BUCKETS, registers: [promRegistry] });
  const ourRegistry = new Registry();
  const durations = new RequestDurations({ name: 'd_seconds', help: 'h', buckets: BUCKETS });
  ourRegistry.registerMetric(durations as unknown as Metric);
  for (const [route, method, status, seconds] of observations) {
    histogram.observe({ route, method, status: String(status) }, seconds);
    durations.observe(route, method, status, seconds);
  }
  return {
    theirs: await promRegistry.metrics(),
    ours: await ourRegistry.metrics(),
    theirsJson: await promRegistry.getMetricsAsJSON(),
    oursJson: await ourRegistry.getMetricsAsJSON(),
  };
}

void describe('request durations', () => {
  const cases: { name: string; observations: [string, string, number, number][] }[] = [
    { name: 'nothing observed', observations: [] },
    { name: 'one observation', observations: [['/v1/jobs', 'POST', 201, 0.0004]] },
    {
      name: 'values on, between and above the bounds, several label sets',
      observations: [
        ['/v1/jobs', 'POST', 201, 0.001],
        ['/v1/jobs', 'POST', 201, 0.0011],
        ['/v1/jobs', 'POST', 201, 0.5],
        ['/v1/jobs', 'POST', 201, 7],
        ['/v1/jobs', 'POST', 400, 0],
        ['/v1/jobs/:id', 'GET', 404, 0.02],
        ['unmatched', 'DELETE', 404, 1],
        ['/v1/jobs/:id', 'GET', 200, 0.1],
      ],
    },
    { name: 'label values that need escaping', observations: [['/a"b\\c\nd', 'GET', 200, 0.3]] },
  ];
  for (const { name, observations } of cases) {
    void it(`exposes exactly what prom-client's Histogram exposes: ${name}`, async () => {
      const { theirs, ours, theirsJson, oursJson } = await both(observations);
      assert.equal(ours, theirs);
      assert.deepEqual(oursJson, theirsJson);
    });
  }

  void it('refuses a value that is not a finite number, as prom-client does', () => {
    const durations = new RequestDurations({ name: 'd_seconds', help: 'h', buckets: BUCKETS });
    assert.throws(() => durations.observe('/x', 'GET', 200, Number.NaN), TypeError);
    assert.throws(() => durations.observe('/x', 'GET', 200, Number.POSITIVE_INFINITY), TypeError);
  });

  void it("is in the API's registry under its documented name", async () => {
    const metrics = new ApiMetrics();
    metrics.observeRequest('/v1/jobs', 'POST', 201, 0.002);
    assert.match(await metrics.registry.metrics(), /^ocr_api_request_duration_seconds_count\{route="\/v1\/jobs",method="POST",status="201"\} 1$/m);
  });
});

void describe('jobs created by upload URL', () => {
  const series = async (metrics: ApiMetrics): Promise<string[]> =>
    (await metrics.registry.metrics()).split('\n').filter((line) => line.startsWith('ocr_api_jobs_created_total{'));

  void it('shows no upload_url series before the first one, then every one counted, across reads', async () => {
    const metrics = new ApiMetrics();
    metrics.jobsCreated.inc({ path: 'multipart' });
    assert.deepEqual(await series(metrics), ['ocr_api_jobs_created_total{path="multipart"} 1']);
    for (let i = 0; i < 3; i++) metrics.countUploadUrlJob();
    assert.deepEqual(await series(metrics), ['ocr_api_jobs_created_total{path="multipart"} 1', 'ocr_api_jobs_created_total{path="upload_url"} 3']);
    assert.deepEqual(await series(metrics), ['ocr_api_jobs_created_total{path="multipart"} 1', 'ocr_api_jobs_created_total{path="upload_url"} 3']);
    metrics.countUploadUrlJob();
    metrics.countUploadUrlJob();
    const json = await metrics.registry.getMetricsAsJSON();
    const created = json.find((m) => m.name === 'ocr_api_jobs_created_total');
    assert.deepEqual(
      created?.values.map((v) => [v.labels.path, v.value]),
      [
        ['multipart', 1],
        ['upload_url', 5],
      ],
    );
  });
});
