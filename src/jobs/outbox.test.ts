import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JOB_ID_PATTERN, type JobRecord } from './schema.ts';
import { jobRecord } from './testing/fixtures.ts';
import { OUTBOX_ROW_PREFIX, deliveryId, outboxEntity, outboxRowKey } from './outbox.ts';

const failed: JobRecord = jobRecord({
  pipeline: 'ns.test',
  status: 'failed',
  attempts: 1,
  updatedAt: '2024-01-01T00:00:03.000Z',
  webhookUrl: 'https://hooks.example.com/ocr',
});

void describe('the webhook outbox row', () => {
  void it('lives in the job partition under ~webhook~<jobId>, due now, held by nobody', () => {
    const row = outboxEntity(failed, '2024-01-01T00:00:03.000Z');
    assert.deepEqual(row, {
      partitionKey: 'ns.test',
      rowKey: '~webhook~job-00000001',
      jobId: 'job-00000001',
      url: 'https://hooks.example.com/ocr',
      event: 'job.failed',
      deliveryId: 'job-00000001.failed',
      attempts: 0,
      nextAttemptAt: '2024-01-01T00:00:03.000Z',
      claimedUntil: '1970-01-01T00:00:00.000Z',
      createdAt: '2024-01-01T00:00:03.000Z',
    });
  });

  void it('refuses a job without a webhook URL', () => {
    assert.throws(() => outboxEntity({ ...failed, webhookUrl: undefined }, '2024-01-01T00:00:03.000Z'), /no webhook URL/);
  });

  void it('has the same delivery id for the same job and status, whoever computes it', () => {
    assert.equal(deliveryId('job-00000001', 'succeeded'), deliveryId('job-00000001', 'succeeded'));
    assert.notEqual(deliveryId('job-00000001', 'succeeded'), deliveryId('job-00000002', 'succeeded'));
  });

  // The outbox is read as the key range after every record: that holds only if every job id sorts below `~`.
  const ids = ['job-00000000', 'zzzzzzzz', 'job-ffffffff-ffff-4fff-bfff-ffffffffffff', '99999999-9999'];
  for (const id of ids) {
    void it(`sorts after the record of job ${id}, and the job id matches the job id pattern`, () => {
      assert.match(id, JOB_ID_PATTERN);
      assert.ok(id < OUTBOX_ROW_PREFIX, `${id} sorts after the outbox prefix`);
      assert.ok(outboxRowKey(id) > id);
    });
  }
});
