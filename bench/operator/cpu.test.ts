// The pure parts of bench:operator's CPU and latency accounting (cpu.ts), and the operator's reconcile counter.
//   node --test bench/operator/cpu.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuTable, cpuWindow, latencyWindow, parseLatencySums, parseProcStat, type CpuSample } from './cpu.ts';
import { parseReconciles, readAudit } from './measure.ts';

void test("/proc/stat's cpu line gives busy ticks without idle and iowait, and the total without guest time", () => {
  const text = 'cpu  100 5 50 800 20 3 2 0 40 0\ncpu0 50 2 25 400 10 1 1 0 20 0\nintr 1';
  assert.deepEqual(parseProcStat(text), { busy: 160, total: 980 });
});

const sample = (atMs: number, seconds: Array<[string, number | undefined]>, busy: number, total: number): CpuSample => ({
  atMs,
  seconds: new Map(seconds),
  machine: { busy, total },
});

void test('a window gives each process its CPU seconds, n/a for one not running at both ends, beside the machine and what 2 cores offered', () => {
  const w = cpuWindow(
    sample(
      1_000,
      [
        ['kube-apiserver', 10],
        ['operator', undefined],
      ],
      1_000,
      5_000,
    ),
    sample(
      11_000,
      [
        ['kube-apiserver', 16.5],
        ['operator', 2],
      ],
      2_500,
      7_000,
    ),
    2,
  );
  assert.deepEqual(w.rows, [
    ['kube-apiserver', 6.5],
    ['operator', undefined],
  ]);
  assert.equal(w.wallSeconds, 10);
  assert.equal(w.offeredSeconds, 20);
  assert.equal(w.namedSeconds, 6.5);
  assert.equal(w.machineSeconds, 15, '1,500 busy ticks at 100 a second');
  assert.match(cpuTable('t', [['creation', w]]), /\| kube-apiserver \| 6\.5 \(33 %\) \|/);
});

void test('latency means come from the histograms sums and counts, without WATCH, summed over other labels', () => {
  const scrape = (applySum: number, applyCount: number) =>
    [
      `apiserver_request_duration_seconds_sum{component="apiserver",resource="deployments",verb="APPLY"} ${applySum}`,
      `apiserver_request_duration_seconds_count{component="apiserver",resource="deployments",verb="APPLY"} ${applyCount}`,
      `apiserver_request_duration_seconds_sum{component="apiserver",resource="services",verb="APPLY"} 1`,
      `apiserver_request_duration_seconds_count{component="apiserver",resource="services",verb="APPLY"} 10`,
      'apiserver_request_duration_seconds_sum{component="apiserver",resource="pods",verb="WATCH"} 5000',
      'apiserver_request_duration_seconds_count{component="apiserver",resource="pods",verb="WATCH"} 7',
      'apiserver_request_duration_seconds_bucket{component="apiserver",resource="pods",verb="APPLY",le="0.1"} 3',
      `etcd_request_duration_seconds_sum{operation="create",type="/registry/apps/deployments"} ${applySum / 2}`,
      `etcd_request_duration_seconds_count{operation="create",type="/registry/apps/deployments"} ${applyCount}`,
    ].join('\n');
  const rows = latencyWindow(parseLatencySums(scrape(2, 20)), parseLatencySums(scrape(6, 60)));
  assert.deepEqual(
    rows.map((r) => [r.key, r.count, Number(r.meanMs.toFixed(3))]),
    [
      ['apiserver APPLY', 40, 100],
      ['etcd create', 40, 50],
    ],
  );
});

void test("the operator's reconciles are summed over results", () => {
  const text =
    '# HELP ocr_operator_reconcile_total x\nocr_operator_reconcile_total{result="success"} 12\nocr_operator_reconcile_total{result="error"} 3\nother 4';
  assert.equal(parseReconciles(text), 15);
});

void test('an audit log shorter than what was already read is an error, not writes silently missed', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'bench-audit-')), 'audit.log');
  writeFileSync(file, 'x\n');
  assert.throws(() => readAudit(file, 100), /rotated/);
});
