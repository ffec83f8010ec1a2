// What recovery does with one job, as a table: state, age since the last change, earlier sends -> action.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobRecord } from '../../jobs/index.ts';
import { jobRecord } from '../../jobs/testing/fixtures.ts';
import { MAX_UPLOAD_URL_MS, deadLetterFailure, decide, oldestQueuedSeconds, peekTokenClaims, sweepUpload, type DeadlineSettings } from './decide.ts';

const NOW = Date.parse('2026-01-10T12:00:00.000Z');
const SETTINGS: DeadlineSettings = {
  uploadDeadlineSeconds: 3600,
  queuedDeadlineSeconds: 600,
  processingDeadlineSeconds: 900,
  maxRequeues: 2,
  retentionHours: 24,
};

function job(status: JobRecord['status'], ageSeconds: number, requeues?: number): JobRecord {
  const at = new Date(NOW - ageSeconds * 1000).toISOString();
  return jobRecord({
    id: 'job-00000000-0000-4000-8000-000000000001',
    pipeline: 'p',
    status,
    createdAt: at,
    updatedAt: at,
    ...(requeues !== undefined ? { requeues } : {}),
  });
}

const cases: { name: string; record: JobRecord; kind: string; code?: string }[] = [
  { name: 'an upload awaited for less than its deadline is left alone', record: job('awaiting_upload', 3599), kind: 'none' },
  { name: 'an upload awaited past its deadline expires', record: job('awaiting_upload', 3601), kind: 'expire' },
  { name: 'a job queued for less than its deadline is left alone', record: job('queued', 599), kind: 'none' },
  { name: 'a job queued past its deadline is sent again', record: job('queued', 601), kind: 'requeue' },
  { name: 'a stale queued job sent once already is sent again while under maxRequeues', record: job('queued', 601, 1), kind: 'requeue' },
  { name: 'a stale queued job sent maxRequeues times fails with QUEUE_TIMEOUT', record: job('queued', 601, 2), kind: 'fail', code: 'QUEUE_TIMEOUT' },
  {
    name: 'a queued job waiting for a scheduled retry is left alone until the retry is due plus the deadline',
    record: { ...job('queued', 700), nextAttemptAt: new Date(NOW - 500_000).toISOString() },
    kind: 'none',
  },
  {
    name: 'a queued job whose scheduled retry was due longer ago than the deadline is sent again',
    record: { ...job('queued', 1300), nextAttemptAt: new Date(NOW - 601_000).toISOString() },
    kind: 'requeue',
  },
  { name: 'a job processing for less than its deadline is left alone', record: job('processing', 899), kind: 'none' },
  { name: 'a job processing past its deadline is sent again', record: job('processing', 901), kind: 'requeue' },
  {
    name: 'a stale processing job sent maxRequeues times fails with PROCESSING_TIMEOUT',
    record: job('processing', 901, 2),
    kind: 'fail',
    code: 'PROCESSING_TIMEOUT',
  },
  { name: 'a succeeded job within retention is kept', record: job('succeeded', 23 * 3600), kind: 'none' },
  { name: 'a succeeded job past retention is retired', record: job('succeeded', 25 * 3600), kind: 'retire' },
  { name: 'a failed job past retention is retired', record: job('failed', 25 * 3600), kind: 'retire' },
  { name: 'an expired job past retention is retired', record: job('expired', 25 * 3600), kind: 'retire' },
  { name: 'a finished job is never sent again however old', record: job('failed', 23 * 3600, 0), kind: 'none' },
];

void describe('what recovery does with a job', () => {
  for (const c of cases) {
    void it(c.name, () => {
      const action = decide(c.record, NOW, SETTINGS);
      assert.equal(action.kind, c.kind);
      if (c.code !== undefined) assert.equal(action.kind === 'fail' ? action.code : undefined, c.code);
    });
  }

  void it('counts a job with an unreadable updatedAt as just written', () => {
    assert.equal(decide({ ...job('queued', 0), updatedAt: 'not a time' }, NOW, SETTINGS).kind, 'none');
  });
});

void describe('the failure a dead-lettered message gives its job', () => {
  const rows: { name: string; reason: string | undefined; description: string | undefined; code: string; message: RegExp }[] = [
    {
      name: 'a worker code as the reason is kept with its description',
      reason: 'IMAGE_CORRUPT',
      description: 'not a PNG',
      code: 'IMAGE_CORRUPT',
      message: /^not a PNG$/,
    },
    {
      name: 'the broker giving up after max deliveries is DELIVERY_LIMIT_EXCEEDED',
      reason: 'MaxDeliveryCountExceeded',
      description: 'Message could not be consumed after 10 delivery attempts.',
      code: 'DELIVERY_LIMIT_EXCEEDED',
      message: /MaxDeliveryCountExceeded: Message could not be consumed/,
    },
    {
      name: 'any other broker reason is DEAD_LETTERED with the reason',
      reason: 'TTLExpiredException',
      description: undefined,
      code: 'DEAD_LETTERED',
      message: /TTLExpiredException/,
    },
    { name: 'no reason at all is DEAD_LETTERED and says so', reason: undefined, description: undefined, code: 'DEAD_LETTERED', message: /no reason given/ },
  ];
  for (const row of rows) {
    void it(row.name, () => {
      const failure = deadLetterFailure(row.reason, row.description);
      assert.equal(failure.code, row.code);
      assert.match(failure.message, row.message);
    });
  }
});

void describe('the age of the oldest queued job', () => {
  void it('is 0 when nothing is queued', () => {
    assert.equal(oldestQueuedSeconds([], NOW), 0);
  });

  void it('is measured from queuedAt, falling back to updatedAt', () => {
    const records = [
      { queuedAt: new Date(NOW - 30_000).toISOString(), updatedAt: new Date(NOW - 1_000).toISOString() },
      { updatedAt: new Date(NOW - 90_000).toISOString() },
    ];
    assert.equal(oldestQueuedSeconds(records, NOW), 90);
  });
});

void describe('which client uploads the sweep deletes', () => {
  const token = (claims: Record<string, unknown>) => `v1.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.signature`;
  const HOUR = 3_600_000;
  const rows: { name: string; ageMs: number; token: string | undefined; deleted: boolean }[] = [
    {
      name: "this pipeline's upload whose token expired, older than the deadline",
      ageMs: 2 * HOUR,
      token: token({ pipeline: 'p', exp: NOW - 1 }),
      deleted: true,
    },
    { name: "this pipeline's upload younger than the deadline", ageMs: HOUR - 1, token: token({ pipeline: 'p', exp: NOW - 1 }), deleted: false },
    {
      name: "this pipeline's upload whose token is still valid (a long upload URL)",
      ageMs: 2 * HOUR,
      token: token({ pipeline: 'p', exp: NOW + HOUR }),
      deleted: false,
    },
    { name: "another pipeline's upload in a shared container", ageMs: 30 * 24 * HOUR, token: token({ pipeline: 'other', exp: NOW - 1 }), deleted: false },
    { name: 'an upload without a token younger than the longest upload URL', ageMs: MAX_UPLOAD_URL_MS - 1, token: undefined, deleted: false },
    { name: 'an upload without a token older than the longest upload URL', ageMs: MAX_UPLOAD_URL_MS + 1, token: undefined, deleted: true },
    { name: 'an upload with an unreadable token, treated as without one', ageMs: 2 * HOUR, token: 'v1.%%%.x', deleted: false },
  ];
  for (const row of rows) {
    void it(`${row.deleted ? 'deletes' : 'keeps'} ${row.name}`, () => {
      assert.equal(sweepUpload({ lastModifiedMs: NOW - row.ageMs, token: row.token }, 'p', NOW, 3600), row.deleted);
    });
  }

  void it('reads the pipeline and expiry of a token without its signature, and nothing from a malformed one', () => {
    assert.deepEqual(peekTokenClaims(token({ pipeline: 'ns.p', exp: 5, id: 'job-x' })), { pipeline: 'ns.p', exp: 5 });
    for (const bad of [undefined, '', 'v1', 'v1.bm90IGpzb24.x', token({ pipeline: 'p' })]) assert.equal(peekTokenClaims(bad), undefined, String(bad));
  });
});
