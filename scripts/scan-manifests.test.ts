// The manifest scan must not pass silently: kube-score reports a known-bad manifest, the
// verdict fails on anything unjustified or stale, and the committed exceptions name real checks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KUBE_SCORE_MISSING, judge, loadExceptions, parseReport, report, scan, type Finding, type ScanException } from './scan-manifests.ts';
import { findTool } from '../test/chart/helm.ts';

const finding = (over: Partial<Finding> = {}): Finding => ({
  target: 'children-full',
  object: 'Deployment/invoices-worker',
  check: 'container-resources',
  grade: 1,
  summary: 'CPU limit is not set',
  ...over,
});

const exception = (over: Partial<ScanException> = {}): ScanException => ({
  check: 'container-resources',
  targets: ['*'],
  objects: ['Deployment/*-worker'],
  why: 'a reason that is long enough',
  ...over,
});

void describe('judge', () => {
  const cases: { name: string; finding: Finding; exception: ScanException; justified: boolean }[] = [
    {
      name: 'an exception with a matching check, target glob and object glob justifies a finding',
      finding: finding(),
      exception: exception(),
      justified: true,
    },
    { name: 'an exception for another check does not', finding: finding(), exception: exception({ check: 'pod-probes' }), justified: false },
    { name: 'an exception for another target does not', finding: finding(), exception: exception({ targets: ['chart-default'] }), justified: false },
    { name: 'an exception for another object does not', finding: finding(), exception: exception({ objects: ['Deployment/invoices-api'] }), justified: false },
    {
      name: 'an exception limited to one summary does not cover another comment of the same check',
      finding: finding({ summary: 'Memory limit is not set' }),
      exception: exception({ summary: 'CPU limit' }),
      justified: false,
    },
    {
      name: 'a * in an object name does not match across a missing prefix',
      finding: finding({ object: 'Deployment/worker' }),
      exception: exception(),
      justified: false,
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const verdict = judge([c.finding], [c.exception]);
      assert.equal(verdict.justified.length, c.justified ? 1 : 0);
      assert.equal(verdict.unjustified.length, c.justified ? 0 : 1);
      assert.equal(verdict.unused.length, c.justified ? 0 : 1);
    });
  }

  void it('fails on an unjustified finding and on a stale exception, and passes when everything is justified', () => {
    const quiet = () => undefined;
    assert.equal(report(judge([finding()], []), quiet), 1);
    assert.equal(report(judge([], [exception()]), quiet), 1);
    assert.equal(report(judge([finding()], [exception()]), quiet), 0);
  });
});

void describe('parseReport', () => {
  void it('turns every comment of a check graded under 10 into a finding and drops ok and skipped checks', () => {
    const check = (id: string, grade: number, skipped: boolean, summaries: string[] | null) => ({
      check: { id },
      grade,
      skipped,
      comments: summaries?.map((summary) => ({ summary, path: '', description: '' })) ?? null,
    });
    const json = JSON.stringify([
      {
        type_meta: { kind: 'Deployment', apiVersion: 'apps/v1' },
        object_meta: { name: 'web' },
        checks: [
          check('container-resources', 1, false, ['CPU limit is not set', 'Memory limit is not set']),
          check('pod-probes', 10, false, null),
          check('container-seccomp-profile', 0, true, null),
          check('deployment-replicas', 5, false, null),
        ],
      },
    ]);
    assert.deepEqual(
      parseReport('t', json).map((f) => `${f.object} ${f.check} ${f.grade} ${f.summary}`),
      [
        'Deployment/web container-resources 1 CPU limit is not set',
        'Deployment/web container-resources 1 Memory limit is not set',
        'Deployment/web deployment-replicas 5 ',
      ],
    );
  });
});

const kubeScore = findTool('kube-score');

void describe('kube-score', { skip: kubeScore ? false : KUBE_SCORE_MISSING }, () => {
  // A Deployment with every classic mistake: a :latest image, no resources, no probes, root.
  const BAD = `apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec:
      containers:
        - name: bad
          image: nginx:latest
          securityContext: {privileged: true, runAsUser: 0}
`;

  void it('reports a known-bad manifest, and the committed exceptions do not excuse it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ocr-scan-test-'));
    try {
      const findings = await scan([{ name: 'bad', manifests: () => Promise.resolve(BAD) }], dir);
      const checks = new Set(findings.map((f) => f.check));
      for (const id of ['container-image-tag', 'container-resources', 'container-security-context-privileged', 'container-security-context-user-group-id']) {
        assert.ok(checks.has(id), `expected a ${id} finding, got: ${[...checks].join(', ')}`);
      }
      const verdict = judge(findings, await loadExceptions());
      assert.ok(verdict.unjustified.some((f) => f.check === 'container-image-tag'));
      assert.equal(
        report(verdict, () => undefined),
        1,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void it('every committed exception names a check kube-score has', async () => {
    const { stdout } = await promisify(execFile)(kubeScore!, ['list']);
    const known = new Set(stdout.split('\n').map((row) => row.split(',')[0]));
    for (const e of await loadExceptions()) assert.ok(known.has(e.check), `hack/kube-score.yaml: unknown check ${e.check}`);
  });
});
