// The pod reasons of Degraded (PodCrashLooping, PodUnschedulable, ImagePullFailing) and what
// they do to Ready and Progressing, from the facts gather builds out of the pod watch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  degraded,
  progressing,
  readableTerminationMessage,
  ready,
  TERMINATION_MESSAGE_MAX,
  type ConditionFacts,
  type DeploymentFacts,
  type PodFacts,
} from './checks.ts';
import { REASON } from './reasons.ts';

const rolledOut = (n: number): DeploymentFacts => ({ generation: 2, observedGeneration: 2, desired: n, updated: n, ready: n, available: n });
const API_KEYS_ERROR = 'Configuration error: API_KEYS_FILE is not set (see --help)';

const crashLooping = (name = 'receipts-api-7d9f-x2'): PodFacts => ({
  name,
  containers: [
    {
      name: 'api',
      restartCount: 4,
      waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container=api' },
      lastTerminated: { exitCode: 2, reason: 'Error', message: API_KEYS_ERROR },
    },
  ],
});
const running = (name: string): PodFacts => ({ name, containers: [{ name: 'worker', restartCount: 0 }] });
const unschedulable = (name = 'receipts-worker-5c4b-q1'): PodFacts => ({
  name,
  unschedulable: '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found.',
  containers: [],
});
const pullFailing = (name = 'receipts-api-7d9f-x3'): PodFacts => ({
  name,
  containers: [{ name: 'api', restartCount: 0, waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "example.invalid/ocr:1"' } }],
});

const withPods = (pods: { api?: PodFacts[]; worker?: PodFacts[] }, mod: (f: ConditionFacts) => void = () => {}): ConditionFacts => {
  const f: ConditionFacts = { namespace: 'finance', missingSecrets: [], api: rolledOut(1), worker: rolledOut(1), pods: { api: [], worker: [], ...pods } };
  mod(f);
  return f;
};
const noApi = (f: ConditionFacts) => {
  f.api = { ...rolledOut(1), ready: 0, available: 0 };
};

const cases: { name: string; facts: ConditionFacts; ready: [string, string]; progressing: [string, string]; degraded: [string, string] }[] = [
  {
    name: 'running pods change nothing',
    facts: withPods({ api: [running('a')], worker: [running('w')] }),
    ready: ['True', REASON.available],
    progressing: ['False', REASON.rolloutComplete],
    degraded: ['False', REASON.asExpected],
  },
  {
    name: 'an API pod in CrashLoopBackOff degrades the pipeline, stops Progressing and leaves Ready to the Deployment',
    facts: withPods({ api: [crashLooping()] }, noApi),
    ready: ['False', REASON.apiUnavailable],
    progressing: ['False', REASON.podCrashLooping],
    degraded: ['True', REASON.podCrashLooping],
  },
  {
    name: 'one crash-looping replica next to available ones degrades the pipeline but keeps it Ready',
    facts: withPods({ api: [crashLooping()] }),
    ready: ['True', REASON.available],
    progressing: ['False', REASON.podCrashLooping],
    degraded: ['True', REASON.podCrashLooping],
  },
  {
    name: 'a container that exited non-zero after restarts counts as crash-looping before the back-off starts',
    facts: withPods({ worker: [{ name: 'w', containers: [{ name: 'worker', restartCount: 2, terminated: { exitCode: 137, reason: 'OOMKilled' } }] }] }),
    ready: ['True', REASON.available],
    progressing: ['False', REASON.podCrashLooping],
    degraded: ['True', REASON.podCrashLooping],
  },
  {
    name: 'a container that restarted once and runs again is not crash-looping',
    facts: withPods({ worker: [{ name: 'w', containers: [{ name: 'worker', restartCount: 1, lastTerminated: { exitCode: 1 } }] }] }),
    ready: ['True', REASON.available],
    progressing: ['False', REASON.rolloutComplete],
    degraded: ['False', REASON.asExpected],
  },
  {
    name: 'a first non-zero exit without a restart yet is not crash-looping',
    facts: withPods({ worker: [{ name: 'w', containers: [{ name: 'worker', restartCount: 0, terminated: { exitCode: 1 } }] }] }),
    ready: ['True', REASON.available],
    progressing: ['False', REASON.rolloutComplete],
    degraded: ['False', REASON.asExpected],
  },
  {
    name: 'a worker pod the scheduler cannot place degrades the pipeline and stops Progressing',
    facts: withPods({ worker: [unschedulable()] }, (f) => {
      f.worker = { ...rolledOut(1), ready: 0, available: 0 };
    }),
    ready: ['False', REASON.workersUnavailable],
    progressing: ['False', REASON.podUnschedulable],
    degraded: ['True', REASON.podUnschedulable],
  },
  {
    name: 'an image that cannot be pulled degrades the pipeline with ImagePullFailing',
    facts: withPods({ api: [pullFailing()] }, noApi),
    ready: ['False', REASON.apiUnavailable],
    progressing: ['False', REASON.imagePullFailing],
    degraded: ['True', REASON.imagePullFailing],
  },
  {
    name: 'a failing image pull is reported before a crash loop, and a crash loop before an unschedulable pod',
    facts: withPods({ api: [crashLooping()], worker: [unschedulable(), pullFailing('receipts-worker-x')] }),
    ready: ['True', REASON.available],
    progressing: ['False', REASON.imagePullFailing],
    degraded: ['True', REASON.imagePullFailing],
  },
  {
    name: 'a missing Secret still wins over a crash-looping pod',
    facts: withPods({ api: [crashLooping()] }, (f) => {
      f.missingSecrets = [{ name: 'ocr-servicebus', key: 'connectionString', field: 'spec.queue.serviceBus.connectionStringSecretRef', secretExists: false }];
    }),
    ready: ['False', REASON.degraded],
    progressing: ['False', REASON.blocked],
    degraded: ['True', REASON.secretNotFound],
  },
  {
    name: 'without pod facts (no pod watch) the pod checks report nothing',
    facts: { namespace: 'finance', missingSecrets: [], api: rolledOut(1), worker: rolledOut(1) },
    ready: ['True', REASON.available],
    progressing: ['False', REASON.rolloutComplete],
    degraded: ['False', REASON.asExpected],
  },
];

for (const c of cases) {
  void test(c.name, () => {
    assert.deepEqual([ready(c.facts).status, ready(c.facts).reason], c.ready, 'Ready');
    assert.deepEqual([progressing(c.facts).status, progressing(c.facts).reason], c.progressing, 'Progressing');
    assert.deepEqual([degraded(c.facts).status, degraded(c.facts).reason], c.degraded, 'Degraded');
  });
}

void test('the PodCrashLooping message names the pod, the container, the exit code and the termination message', () => {
  const { message } = degraded(withPods({ api: [crashLooping()] }));
  assert.equal(message, `The API pod receipts-api-7d9f-x2 is crash-looping: container api keeps exiting, last exit code 2 (Error): ${API_KEYS_ERROR}.`);
});

void test('Progressing carries the same message as Degraded for a stuck pod', () => {
  const f = withPods({ api: [crashLooping()] });
  assert.equal(progressing(f).message, degraded(f).message);
});

void test('the PodUnschedulable message carries the scheduler message', () => {
  const { message } = degraded(withPods({ worker: [unschedulable()] }));
  assert.match(message, /^The worker pod receipts-worker-5c4b-q1 cannot be scheduled: 0\/1 nodes are available: 1 Insufficient cpu\./);
});

void test('the ImagePullFailing message names the container, the waiting reason and what to check', () => {
  const { message } = degraded(withPods({ api: [pullFailing()] }));
  assert.match(message, /container api \(ImagePullBackOff\): Back-off pulling image "example\.invalid\/ocr:1"\. Check spec\.image/);
});

void test('Ready=False APIUnavailable points at Degraded when an API pod has a problem', () => {
  assert.equal(ready(withPods({ api: [crashLooping()] }, noApi)).message, 'No API pod is available yet. Degraded says why (PodCrashLooping).');
  assert.equal(ready(withPods({ worker: [crashLooping()] }, noApi)).message, 'No API pod is available yet.');
});

void test('a crash without a termination message says so', () => {
  const pod: PodFacts = { name: 'p', containers: [{ name: 'api', restartCount: 3, waiting: { reason: 'CrashLoopBackOff' }, lastTerminated: { exitCode: 1 } }] };
  assert.match(degraded(withPods({ api: [pod] })).message, /last exit code 1 and no termination message\.$/);
});

const messageCases: { name: string; input: string; expected: string }[] = [
  { name: 'a short message stays as it is', input: 'API_KEYS_FILE is not set', expected: 'API_KEYS_FILE is not set' },
  {
    name: 'a pino JSON log line at the end of a log tail becomes its msg',
    input: `starting\n{"level":60,"time":1,"service":"api","msg":"${API_KEYS_ERROR}"}\n`,
    expected: API_KEYS_ERROR,
  },
  {
    name: "a pino line with an err adds the error's message",
    input: '{"level":50,"msg":"Failed to connect","err":{"type":"Error","message":"ECONNREFUSED 127.0.0.1:5671","stack":"Error: ..."}}',
    expected: 'Failed to connect: ECONNREFUSED 127.0.0.1:5671',
  },
  { name: 'a line that only looks like JSON stays as it is', input: '{not json', expected: '{not json' },
  { name: 'line breaks and runs of spaces become one space', input: 'Error: boom\n    at main (x.ts:1)\n', expected: 'Error: boom at main (x.ts:1)' },
  {
    name: 'a long message keeps its end, within the limit',
    input: `${'x'.repeat(1000)} the real error`,
    expected: `…${'x'.repeat(TERMINATION_MESSAGE_MAX - 1 - ' the real error'.length)} the real error`,
  },
];

for (const c of messageCases) {
  void test(`termination message: ${c.name}`, () => {
    const out = readableTerminationMessage(c.input);
    assert.equal(out, c.expected);
    assert.ok(out.length <= TERMINATION_MESSAGE_MAX);
  });
}
