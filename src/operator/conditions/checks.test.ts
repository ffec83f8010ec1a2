import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  degraded,
  evaluateConditions,
  metricsAvailable,
  progressing,
  queueReachable,
  ready,
  scaleUpPausedBy,
  type ConditionFacts,
  type DeploymentFacts,
} from './checks.ts';
import { REASON } from './reasons.ts';
import { scalingFacts } from '../testing/scaling-facts.ts';

const rolledOut = (n: number): DeploymentFacts => ({ generation: 2, observedGeneration: 2, desired: n, updated: n, ready: n, available: n });
const healthy = (): ConditionFacts => ({ namespace: 'finance', missingSecrets: [], api: rolledOut(2), worker: rolledOut(1) });
const facts = (mod: (f: ConditionFacts) => void): ConditionFacts => {
  const f = healthy();
  mod(f);
  return f;
};
const missing = (secretExists: boolean) => (f: ConditionFacts) => {
  f.missingSecrets = [{ name: 'ocr-servicebus', key: 'connectionString', field: 'spec.queue.serviceBus.connectionStringSecretRef', secretExists }];
};

const cases: { name: string; facts: ConditionFacts; ready: [string, string]; progressing: [string, string]; degraded: [string, string] }[] = [
  {
    name: 'a rolled-out pipeline is ready, not progressing, not degraded',
    facts: healthy(),
    ready: ['True', REASON.available],
    progressing: ['False', REASON.rolloutComplete],
    degraded: ['False', REASON.asExpected],
  },
  {
    name: 'a missing Secret degrades the pipeline and blocks progress',
    facts: facts(missing(false)),
    ready: ['False', REASON.degraded],
    progressing: ['False', REASON.blocked],
    degraded: ['True', REASON.secretNotFound],
  },
  {
    name: 'a Secret without the referenced key degrades the pipeline',
    facts: facts(missing(true)),
    ready: ['False', REASON.degraded],
    progressing: ['False', REASON.blocked],
    degraded: ['True', REASON.secretKeyNotFound],
  },
  {
    name: 'a language the image does not carry degrades the pipeline and blocks progress',
    facts: facts((f) => {
      f.imageLanguages = { missing: ['jpn'], carried: ['eng', 'deu'], declaredBy: 'the ocr-platform image' };
    }),
    ready: ['False', REASON.degraded],
    progressing: ['False', REASON.blocked],
    degraded: ['True', REASON.languageNotInImage],
  },
  {
    name: 'an image that carries every language the pipeline asks for leaves it ready',
    facts: facts((f) => {
      f.imageLanguages = { missing: [], carried: ['eng', 'deu'], declaredBy: 'the ocr-platform image' };
    }),
    ready: ['True', REASON.available],
    progressing: ['False', REASON.rolloutComplete],
    degraded: ['False', REASON.asExpected],
  },
  {
    name: 'a missing Secret is reported before a language the image lacks',
    facts: facts((f) => {
      f.imageLanguages = { missing: ['jpn'], carried: ['eng'], declaredBy: 'the ocr-platform image' };
      missing(false)(f);
    }),
    ready: ['False', REASON.degraded],
    progressing: ['False', REASON.blocked],
    degraded: ['True', REASON.secretNotFound],
  },
  {
    name: 'an invalid spec degrades the pipeline before anything else',
    facts: facts((f) => {
      f.invalidSpec = 'spec.image: required';
      missing(false)(f);
    }),
    ready: ['False', REASON.degraded],
    progressing: ['False', REASON.blocked],
    degraded: ['True', REASON.invalidSpec],
  },
  {
    name: 'a failed apply degrades the pipeline but a rollout may still be reported',
    facts: facts((f) => {
      f.applyError = 'HTTP 422: invalid';
    }),
    ready: ['False', REASON.degraded],
    progressing: ['False', REASON.rolloutComplete],
    degraded: ['True', REASON.applyFailed],
  },
  {
    name: 'Deployments not created yet mean creating and not ready',
    facts: facts((f) => {
      delete f.api;
      delete f.worker;
    }),
    ready: ['False', REASON.notCreated],
    progressing: ['True', REASON.creating],
    degraded: ['False', REASON.asExpected],
  },
  {
    name: 'a new spec not yet observed by the Deployment controller is progressing',
    facts: facts((f) => {
      f.api = { ...rolledOut(2), observedGeneration: 1 };
    }),
    ready: ['True', REASON.available],
    progressing: ['True', REASON.rollingOut],
    degraded: ['False', REASON.asExpected],
  },
  {
    name: 'an API with no available pod is not ready',
    facts: facts((f) => {
      f.api = { ...rolledOut(2), ready: 0, available: 0 };
    }),
    ready: ['False', REASON.apiUnavailable],
    progressing: ['True', REASON.rollingOut],
    degraded: ['False', REASON.asExpected],
  },
  {
    name: 'wanted workers with none available are not ready',
    facts: facts((f) => {
      f.worker = { ...rolledOut(3), ready: 0, available: 0 };
    }),
    ready: ['False', REASON.workersUnavailable],
    progressing: ['True', REASON.rollingOut],
    degraded: ['False', REASON.asExpected],
  },
  {
    name: 'workers scaled to zero are ready',
    facts: facts((f) => {
      f.worker = rolledOut(0);
    }),
    ready: ['True', REASON.available],
    progressing: ['False', REASON.rolloutComplete],
    degraded: ['False', REASON.asExpected],
  },
  {
    name: 'pods the API server refuses to create degrade the pipeline',
    facts: facts((f) => {
      f.worker = { ...rolledOut(1), ready: 0, available: 0, updated: 0, replicaFailure: 'serviceaccount "ocr" not found' };
    }),
    ready: ['False', REASON.degraded],
    progressing: ['True', REASON.rollingOut],
    degraded: ['True', REASON.podCreationFailed],
  },
  {
    name: 'a half-updated worker rollout is progressing',
    facts: facts((f) => {
      f.worker = { ...rolledOut(4), updated: 2 };
    }),
    ready: ['True', REASON.available],
    progressing: ['True', REASON.rollingOut],
    degraded: ['False', REASON.asExpected],
  },
  {
    name: 'old pods still terminating keep the rollout progressing',
    facts: facts((f) => {
      f.worker = { ...rolledOut(2), total: 3 };
    }),
    ready: ['True', REASON.available],
    progressing: ['True', REASON.rollingOut],
    degraded: ['False', REASON.asExpected],
  },
  {
    name: 'a rollout past its progress deadline degrades the pipeline and stops progressing, while the old pods still serve',
    facts: facts((f) => {
      f.api = { ...rolledOut(2), updated: 1, progressDeadlineExceeded: 'ReplicaSet "invoices-api-5d4f" has timed out progressing.' };
    }),
    ready: ['True', REASON.available],
    progressing: ['False', REASON.progressDeadlineExceeded],
    degraded: ['True', REASON.progressDeadlineExceeded],
  },
  {
    name: 'a crash-looping pod explains a missed progress deadline better than the deadline does',
    facts: facts((f) => {
      f.worker = { ...rolledOut(1), progressDeadlineExceeded: 'timed out' };
      f.pods = { api: [], worker: [{ name: 'w-1', containers: [{ name: 'worker', restartCount: 3, waiting: { reason: 'CrashLoopBackOff' } }] }] };
    }),
    ready: ['True', REASON.available],
    progressing: ['False', REASON.podCrashLooping],
    degraded: ['True', REASON.podCrashLooping],
  },
];

for (const c of cases) {
  void test(c.name, () => {
    assert.deepEqual([ready(c.facts).status, ready(c.facts).reason], c.ready, 'Ready');
    assert.deepEqual([progressing(c.facts).status, progressing(c.facts).reason], c.progressing, 'Progressing');
    assert.deepEqual([degraded(c.facts).status, degraded(c.facts).reason], c.degraded, 'Degraded');
  });
}

void test('the SecretNotFound message names the namespace, Secret, key and referring field', () => {
  const d = degraded(facts(missing(false)));
  assert.match(d.message, /Secret finance\/ocr-servicebus/);
  assert.match(d.message, /key "connectionString"/);
  assert.match(d.message, /spec\.queue\.serviceBus\.connectionStringSecretRef/);
});

void test('the LanguageNotInImage message names the languages, what the image carries and how to fix it', () => {
  const f = facts((x) => {
    x.imageLanguages = { missing: ['jpn', 'kor'], carried: ['eng', 'jpn_vert'], declaredBy: 'spec.ocr.imageLanguages' };
  });
  assert.equal(
    degraded(f).message,
    'spec.languages asks for jpn, kor, which the image does not carry (spec.ocr.imageLanguages declares eng, jpn_vert). Remove them, or use an ' +
      'image that carries them and list its languages in spec.ocr.imageLanguages. Children are not updated until then.',
  );
});

void test("the ProgressDeadlineExceeded message names the Deployment and carries the Deployment's own message", () => {
  const d = degraded(facts((f) => (f.worker = { ...rolledOut(1), progressDeadlineExceeded: 'ReplicaSet "invoices-worker-7c9" has timed out progressing.' })));
  assert.equal(d.message, `The worker Deployment's rollout stopped progressing: ReplicaSet "invoices-worker-7c9" has timed out progressing.`);
});

void test('conditions come out as Ready, Progressing, Degraded in that order', () => {
  assert.deepEqual(
    evaluateConditions(healthy()).map((c) => c.type),
    ['Ready', 'Progressing', 'Degraded'],
  );
});

// --- Queue scaling's checks ------------------------------------------------------------

/** What the scaling service observed: a queue read without problems, unless a case says otherwise. */
const scaling = scalingFacts;

void test('with queue scaling the conditions add QueueReachable and MetricsAvailable, in that order', () => {
  const types = evaluateConditions({ ...healthy(), scaling: scaling() }).map((c) => c.type);
  assert.deepEqual(types, ['Ready', 'Progressing', 'Degraded', 'QueueReachable', 'MetricsAvailable']);
});

void test('fast dead-letter growth marks the pipeline degraded with DeadLetterGrowth', () => {
  assert.equal(degraded({ ...healthy(), scaling: scaling({ deadLetterGrowth: 25 }) }).reason, 'DeadLetterGrowth');
  assert.equal(scaleUpPausedBy(scaling({ deadLetterGrowth: 25 }))?.reason, 'DeadLetterGrowth');
  assert.equal(scaleUpPausedBy(scaling({ deadLetterGrowth: 3 })), undefined);
});

void test('mostly failing jobs mark the pipeline degraded, but only with enough jobs to judge', () => {
  assert.equal(scaleUpPausedBy(scaling({ jobs: { failed: 15, total: 20 } }))?.reason, 'WorkerFailures');
  assert.equal(scaleUpPausedBy(scaling({ jobs: { failed: 5, total: 5 } })), undefined);
  assert.equal(scaleUpPausedBy(scaling({ jobs: { failed: 2, total: 40 } })), undefined);
});

void test("queue scaling's Degraded reasons never replace a core problem and leave Ready alone", () => {
  const poisoned = scaling({ deadLetterGrowth: 25 });
  assert.equal(degraded({ ...facts(missing(false)), scaling: poisoned }).reason, REASON.secretNotFound);
  assert.deepEqual([degraded({ ...healthy(), scaling: poisoned }).status, ready({ ...healthy(), scaling: poisoned }).status], ['True', 'True']);
  const calm = degraded({ ...healthy(), scaling: scaling() });
  assert.deepEqual([calm.status, calm.reason], ['False', REASON.asExpected]);
});

void test('QueueReachable is Unknown before the first read, False with the finding, True after a good read', () => {
  assert.equal(queueReachable(scaling({ queue: { pending: true } })).status, 'Unknown');
  assert.equal(queueReachable(scaling({ queue: undefined })).reason, 'NotYetRead');
  const unreachable = scaling({ queue: { pending: false, problem: { reason: 'NamespaceUnreachable', message: 'x' } } });
  assert.deepEqual(queueReachable(unreachable), { type: 'QueueReachable', status: 'False', reason: 'NamespaceUnreachable', message: 'x' });
  assert.equal(queueReachable(scaling()).reason, 'CountsRead');
});

void test("MetricsAvailable follows the HPA's ScalingActive condition", () => {
  // HpaFacts as hpaFacts() (src/operator/scaling/decide.ts) reads them from the HPA's status.
  const failing = { metricFailing: true, reported: true, currentReplicas: 2, metricMessage: 'unable to get external metric' };
  assert.equal(metricsAvailable(scaling({ hpa: failing })).reason, 'ExternalMetricUnavailable');
  assert.match(metricsAvailable(scaling({ hpa: failing })).message, /unable to get external metric/);
  const ok = { metricFailing: false, reported: true, currentReplicas: 2, desiredReplicas: 3 };
  assert.equal(metricsAvailable(scaling({ hpa: ok })).status, 'True');
  assert.equal(metricsAvailable(scaling({ replicas: { min: 3, max: 3 } })).reason, 'ScalingFixed');
  const fresh = { metricFailing: false, reported: false, currentReplicas: 1, desiredReplicas: 0 };
  assert.equal(metricsAvailable(scaling({ hpa: fresh })).status, 'Unknown', 'an HPA that has not evaluated its metric yet says nothing');
  assert.equal(metricsAvailable(scaling({ provider: 'keda', prometheusUrl: 'http://prometheus:9090' })).reason, 'DelegatedToKeda');
  assert.equal(metricsAvailable(scaling({ provider: 'keda' })).reason, 'PrometheusURLMissing');
});
