// The chaos run's verdict (bench/chaos/verdict.ts) is pure: each outcome is judged from a record
// and a result, and webhooks are counted from the receiver's log. No processes here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Delivery } from '../../../bench/chaos/receiver.ts';
import { countWebhooks, finalLine, judge, summarise, type JudgedInput } from '../../../bench/chaos/verdict.ts';

const TEXT = 'CHAOS CAFE\nReceipt 0007\nTOTAL 12.34';
const good = (over: Partial<JudgedInput> = {}): JudgedInput => ({
  id: 'job-1',
  poison: false,
  text: TEXT,
  webhook: true,
  status: 'succeeded',
  errorCode: undefined,
  resultText: TEXT,
  ...over,
});
const poison = (over: Partial<JudgedInput> = {}): JudgedInput =>
  good({ poison: true, text: undefined, status: 'failed', errorCode: 'IMAGE_CORRUPT', resultText: undefined, ...over });

const delivery = (over: Partial<Delivery> = {}): Delivery => ({
  deliveryId: 'd-1',
  jobId: 'job-1',
  event: 'job.succeeded',
  status: 'succeeded',
  answered: 204,
  signatureValid: true,
  at: 0,
  ...over,
});

void describe('judging one job of a chaos run', () => {
  const cases: [string, JudgedInput, { lost: boolean; stuck: boolean; wrong: boolean }][] = [
    ['a job without a record is lost', good({ status: undefined }), { lost: true, stuck: false, wrong: false }],
    ['a job still queued is stuck', good({ status: 'queued' }), { lost: false, stuck: true, wrong: false }],
    ['a job still processing is stuck', good({ status: 'processing' }), { lost: false, stuck: true, wrong: false }],
    ['a result with the known text is right', good(), { lost: false, stuck: false, wrong: false }],
    [
      'a result with one misread character in thirty is right (tolerant comparison)',
      good({ resultText: TEXT.replace('12.34', '12.3A') }),
      { lost: false, stuck: false, wrong: false },
    ],
    ['a result with another receipt text is wrong', good({ resultText: 'CHAOS CAFE\nReceipt 0099\nTOTAL 98.76' }), { lost: false, stuck: false, wrong: true }],
    ['a succeeded job whose result cannot be read is wrong', good({ resultText: undefined }), { lost: false, stuck: false, wrong: true }],
    ['a poison image that failed is right', poison(), { lost: false, stuck: false, wrong: false }],
    ['a poison image that succeeded is wrong', poison({ status: 'succeeded', resultText: '' }), { lost: false, stuck: false, wrong: true }],
    [
      'a good image that failed is a clear failure, not a wrong result',
      good({ status: 'failed', errorCode: 'OCR_FAILED', resultText: undefined }),
      { lost: false, stuck: false, wrong: false },
    ],
  ];
  for (const [name, input, expected] of cases) {
    void it(name, () => {
      const v = judge(input, 0.1);
      assert.deepEqual({ lost: v.lost, stuck: v.stuck, wrong: v.wrong }, expected, v.outcome);
    });
  }
});

void describe('counting the webhooks of a chaos run', () => {
  void it('counts a job as delivered only when the receiver answered 2xx', () => {
    const counted = countWebhooks([good()], [delivery({ answered: 500 })]);
    assert.deepEqual([counted.expected, counted.delivered, counted.refusedDuringOutage], [1, 0, 1]);
    assert.equal(countWebhooks([good()], [delivery({ answered: 500 }), delivery()]).delivered, 1);
  });

  void it('counts a second 2xx delivery with the same delivery id as a duplicate', () => {
    const counted = countWebhooks([good()], [delivery(), delivery(), delivery({ deliveryId: 'd-2' })]);
    assert.deepEqual([counted.delivered, counted.duplicates, counted.jobsWithSeveralIds], [1, 1, 1]);
  });

  void it('expects webhooks only for terminal jobs that asked for one', () => {
    const jobs = [good({ id: 'a' }), good({ id: 'b', webhook: false }), good({ id: 'c', status: 'queued' }), good({ id: 'd', status: undefined })];
    assert.equal(countWebhooks(jobs, []).expected, 1);
  });

  void it('flags an event that disagrees with the final status and a signature that does not verify', () => {
    const counted = countWebhooks([good({ status: 'failed' })], [delivery({ signatureValid: false })]);
    assert.deepEqual([counted.wrongEvent, counted.invalidSignatures], [1, 1]);
  });
});

void describe('the chaos line', () => {
  void it('reads exactly as the issue asks', () => {
    const jobs = [
      good({ id: 'a' }),
      good({ id: 'b', status: undefined }),
      good({ id: 'c', status: 'queued' }),
      poison({ id: 'd', status: 'succeeded', resultText: 'x' }),
    ];
    const s = summarise(jobs, [delivery({ jobId: 'a' }), delivery({ jobId: 'a' }), delivery({ jobId: 'd', deliveryId: 'd-2' })], new Map(), 0.1);
    assert.equal(finalLine(s), 'chaos: 4 jobs, 1 lost, 1 stuck, 1 wrong results, webhooks 2/2, 1 duplicate deliveries');
  });
});
