import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import rhea from 'rhea';
import { BATCH_FORMAT, encodeDelivery, lockTokenToDeliveryTag, parseTransfer } from './amqp-message.ts';
import { durationToMs, msToDuration, parseQueueDescription } from './atom.ts';
import type { StoredMessage } from './queue-store.ts';
import type { MessageContent } from './amqp-message.ts';

void describe('wire formats', () => {
  void it('puts the lock token in the delivery tag in .NET Guid byte order', () => {
    const tag = lockTokenToDeliveryTag('00112233-4455-6677-8899-aabbccddeeff');
    assert.equal(tag.toString('hex'), '33221100554477668899aabbccddeeff');
  });

  const durations: [number, string][] = [
    [60_000, 'PT1M'],
    [1500, 'PT1.5S'],
    [30_000, 'PT30S'],
    [3_600_000, 'PT1H'],
    [90_061_000, 'P1DT1H1M1S'],
    [0, 'PT0S'],
  ];
  for (const [ms, text] of durations) {
    void it(`writes ${ms} ms as ${text} and reads it back`, () => {
      assert.equal(msToDuration(ms), text);
      assert.equal(durationToMs(text), ms);
    });
  }

  void it('rejects malformed durations and unsupported queue features in a QueueDescription', () => {
    assert.equal(durationToMs('1 minute'), undefined);
    assert.throws(() => parseQueueDescription('<LockDuration>soon</LockDuration>'), /ISO 8601/);
    assert.throws(() => parseQueueDescription('<RequiresSession>true</RequiresSession>'), /RequiresSession/);
    assert.deepEqual(
      parseQueueDescription(
        '<QueueDescription><LockDuration>PT5S</LockDuration><MaxDeliveryCount>2</MaxDeliveryCount><Status>ReceiveDisabled</Status></QueueDescription>',
      ),
      {
        lockDurationMs: 5000,
        maxDeliveryCount: 2,
        status: 'ReceiveDisabled',
      },
    );
  });

  void it('splits a batch envelope into its messages and keeps each body byte for byte', () => {
    const inner = [
      rhea.message.encode({ message_id: 'a', body: rhea.message.data_section(Buffer.from('{"i":1}')), application_properties: { k: 'v' } }),
      rhea.message.encode({ body: 'value body' }),
    ];
    const envelope = rhea.message.encode({ body: rhea.message.data_sections(inner) });
    const [first, second] = parseTransfer(envelope, BATCH_FORMAT);
    assert.equal(first!.messageId, 'a');
    assert.deepEqual(first!.applicationProperties, { k: 'v' });
    assert.equal(second!.messageId, undefined);
    const delivered = rhea.message.decode(encodeDelivery(stored(first!.content, 7))) as unknown as Record<string, unknown>;
    assert.equal((delivered.body as { content: Buffer }).content.toString(), '{"i":1}');
    assert.equal((delivered.message_annotations as Record<string, unknown>)['x-opt-sequence-number'], 7);
    assert.equal(delivered.delivery_count, 2);
    assert.equal(delivered.message_id, 'a');
    assert.equal((rhea.message.decode(encodeDelivery(stored(second!.content, 8))) as unknown as { body: unknown }).body, 'value body');
  });
});

function stored(content: MessageContent, sequenceNumber: number): StoredMessage<MessageContent> {
  return {
    sequenceNumber,
    messageId: 'generated',
    enqueuedAt: 0,
    visibleAt: 0,
    expiresAt: undefined,
    state: 'active',
    deliveryCount: 2,
    lockToken: undefined,
    lockedUntil: undefined,
    deadLetterSource: undefined,
    applicationProperties: {},
    annotations: {},
    sizeInBytes: 1,
    content,
  };
}
