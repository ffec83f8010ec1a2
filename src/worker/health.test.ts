import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { healthReport, type HealthState } from './health.ts';

const base: HealthState = {
  engine: { name: 'paddle', model: 'PP-OCRv4' },
  engines: [
    { name: 'paddle', model: 'PP-OCRv4', loaded: true, loadSeconds: 0.35, graphs: { detection: 'prefused', recognition: 'cached' } },
    { name: 'tesseract', model: 'fast', loaded: false },
  ],
  engineLoaded: true,
  loadSeconds: 0.3456,
  languages: ['eng'],
  concurrency: 2,
  jobsInFlight: 1,
  receiving: true,
  stopping: false,
  error: undefined,
};

void describe('worker /health', () => {
  const statuses: [string, Partial<HealthState>, string][] = [
    ['ok once the engine is loaded and receiving', {}, 'ok'],
    ['starting while the models load', { engineLoaded: false, loadSeconds: undefined }, 'starting'],
    ['starting before receiving', { receiving: false }, 'starting'],
    ['stopping on SIGTERM', { stopping: true }, 'stopping'],
    ['error when the worker cannot work, whatever else holds', { error: 'language xyz is not installed', stopping: true }, 'error'],
  ];
  for (const [name, change, status] of statuses)
    void it(`reports ${name}`, () => assert.equal(healthReport({ ...base, ...change }, { rss: 1, heapUsed: 1 }, 1).status, status));

  void it('reports the engine, every engine jobs may ask for (the second not loaded until a job asks; paddle with where its graphs came from), languages, jobs, memory and uptime', () => {
    assert.deepEqual(healthReport(base, { rss: 200e6, heapUsed: 50e6 }, 12.6), {
      status: 'ok',
      engine: { name: 'paddle', model: 'PP-OCRv4', loaded: true, loadSeconds: 0.35 },
      engines: [
        { name: 'paddle', model: 'PP-OCRv4', loaded: true, loadSeconds: 0.35, graphs: { detection: 'prefused', recognition: 'cached' } },
        { name: 'tesseract', model: 'fast', loaded: false },
      ],
      languages: ['eng'],
      jobs: { inFlight: 1, concurrency: 2, receiving: true },
      memory: { rssBytes: 200e6, heapUsedBytes: 50e6 },
      uptimeSeconds: 13,
    });
  });
});
