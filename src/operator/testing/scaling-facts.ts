// Test-only (src/**/testing/** is excluded from the image build, tsconfig.build.json).
// What the queue-scaling service observed, for condition tests: a queue read without problems,
// no dead-letter growth, no job counts, replicas 1-10 on prometheus-adapter; a case changes only what it is about.
import { DEFAULT_DEGRADED_THRESHOLDS, type ScalingFacts } from '../conditions/checks.ts';

export const scalingFacts = (s: Partial<ScalingFacts> = {}): ScalingFacts => ({
  queueName: 'q',
  queue: { pending: false },
  deadLetterGrowth: 0,
  jobs: undefined,
  thresholds: DEFAULT_DEGRADED_THRESHOLDS,
  replicas: { min: 1, max: 10 },
  provider: 'prometheus-adapter',
  hpa: undefined,
  prometheusUrl: undefined,
  ...s,
});
