import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { HmacSha256 } from './hmac.ts';

describe('HmacSha256', () => {
  const keys: [string, Buffer][] = [
    ['an empty key', Buffer.alloc(0)],
    ['a 32-byte key (job tokens)', randomBytes(32)],
    ['a 64-byte key, exactly one block (storage account keys)', randomBytes(64)],
    ['a 65-byte key, hashed first', randomBytes(65)],
    ['a 200-byte key', randomBytes(200)],
  ];
  const messages: [string, string][] = [
    ['an empty message', ''],
    ['a short message', 'v1.eyJpZCI6ImpvYi0xIn0'],
    ['a message longer than the first scratch buffer', 'x'.repeat(5_000)],
    ['a message with multi-byte characters', 'größe ✓ 文字 \u{1F600}'.repeat(50)],
  ];
  for (const [keyName, key] of keys) {
    for (const [messageName, message] of messages) {
      it(`equals createHmac for ${keyName} and ${messageName}`, () => {
        assert.deepEqual(new HmacSha256(key).digest(message), createHmac('sha256', key).update(message, 'utf8').digest());
      });
    }
  }

  it('gives the same MAC again after a long message grew its buffer', () => {
    const key = randomBytes(32);
    const mac = new HmacSha256(key);
    const before = mac.digest('short');
    mac.digest('y'.repeat(10_000));
    assert.deepEqual(mac.digest('short'), before);
  });

  it('returns a buffer the next call does not overwrite', () => {
    const mac = new HmacSha256(randomBytes(32));
    const first = mac.digest('one');
    const copy = Buffer.from(first);
    mac.digest('two');
    assert.deepEqual(first, copy);
  });
});
