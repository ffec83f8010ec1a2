import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { retryDelayMs, signWebhook, verifyWebhook } from '../jobs/webhook.ts';

void describe('webhook signatures', () => {
  const body = JSON.stringify({ event: 'job.succeeded', jobId: 'job-12345678' });

  void it('verifies a signature made with the same secret, timestamp and body', () => {
    const header = signWebhook('s3cret', 1_700_000_000, body);
    assert.match(header, /^t=1700000000,v1=[a-f0-9]{64}$/);
    assert.equal(verifyWebhook('s3cret', header, body, 1_700_000_010), true);
  });

  const refused: { name: string; secret: string; header: string | undefined; body: string; now: number }[] = [
    { name: 'another secret', secret: 'other', header: signWebhook('s3cret', 1_700_000_000, body), body, now: 1_700_000_000 },
    {
      name: 'a changed body',
      secret: 's3cret',
      header: signWebhook('s3cret', 1_700_000_000, body),
      body: body.replace('succeeded', 'failed'),
      now: 1_700_000_000,
    },
    { name: 'an old timestamp (replay)', secret: 's3cret', header: signWebhook('s3cret', 1_700_000_000, body), body, now: 1_700_000_301 },
    {
      name: 'a timestamp edited after signing',
      secret: 's3cret',
      header: signWebhook('s3cret', 1_700_000_000, body).replace('t=1700000000', 't=1700000001'),
      body,
      now: 1_700_000_000,
    },
    { name: 'no header', secret: 's3cret', header: undefined, body, now: 1_700_000_000 },
    { name: 'a garbled header', secret: 's3cret', header: 't=abc,v1=zz', body, now: 1_700_000_000 },
  ];
  for (const c of refused) {
    void it(`refuses ${c.name}`, () => assert.equal(verifyWebhook(c.secret, c.header, c.body, c.now), false));
  }
});

void describe('webhook retry delays', () => {
  void it('double from the base, with jitter in the upper half, and stop growing at the cap', () => {
    assert.equal(
      retryDelayMs(1, 1000, 30_000, () => 0),
      500,
    );
    assert.equal(
      retryDelayMs(1, 1000, 30_000, () => 1),
      1000,
    );
    assert.equal(
      retryDelayMs(3, 1000, 30_000, () => 1),
      4000,
    );
    assert.equal(
      retryDelayMs(10, 1000, 30_000, () => 1),
      30_000,
    );
  });
});
