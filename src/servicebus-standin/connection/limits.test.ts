import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FrameSizeGuard } from './limits.ts';

const SASL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0]);
const AMQP_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0]);

/** A frame of `size` bytes as the guard sees it: the size field, then filler. */
function frame(size: number): Buffer {
  const bytes = Buffer.alloc(Math.max(size, 4));
  bytes.writeUInt32BE(size, 0);
  return bytes;
}

/** Feeds `stream` in chunks of `chunkSize` bytes; the first refusal, or undefined. */
function feed(guard: FrameSizeGuard, stream: Buffer, chunkSize: number): string | undefined {
  for (let at = 0; at < stream.length; at += chunkSize) {
    const problem = guard.push(stream.subarray(at, at + chunkSize));
    if (problem !== undefined) return problem;
  }
  return undefined;
}

void describe('the frame size guard', () => {
  const max = 1024;
  const cases: { name: string; stream: Buffer; refused: RegExp | undefined }[] = [
    {
      name: 'a SASL exchange then AMQP frames within the limit',
      stream: Buffer.concat([SASL_HEADER, frame(40), AMQP_HEADER, frame(8), frame(1024)]),
      refused: undefined,
    },
    { name: 'an empty (heartbeat) frame of 8 bytes', stream: Buffer.concat([AMQP_HEADER, frame(8), frame(8)]), refused: undefined },
    { name: 'a frame one byte over the limit', stream: Buffer.concat([AMQP_HEADER, frame(100), frame(1025)]), refused: /1025 bytes is outside 8\.\.1024/ },
    {
      name: 'a declared 4 GiB frame before authentication',
      stream: Buffer.concat([SASL_HEADER, frame(0xffffffff).subarray(0, 16)]),
      refused: /4294967295 bytes/,
    },
    { name: 'a frame size below the 8-byte frame header', stream: Buffer.concat([AMQP_HEADER, frame(7)]), refused: /7 bytes is outside/ },
    { name: 'a zero frame size', stream: Buffer.concat([SASL_HEADER, Buffer.alloc(4)]), refused: /0 bytes is outside/ },
  ];
  for (const chunkSize of [1, 3, 7, 64, 1 << 20]) {
    for (const c of cases) {
      void it(`${c.refused === undefined ? 'passes' : 'refuses'} ${c.name} (chunks of ${chunkSize} bytes)`, () => {
        const problem = feed(new FrameSizeGuard(max), c.stream, chunkSize);
        if (c.refused === undefined) assert.equal(problem, undefined);
        else assert.match(problem ?? '', c.refused);
      });
    }
  }

  void it('refuses an oversized frame as soon as its size field arrives, without its body', () => {
    const guard = new FrameSizeGuard(max);
    assert.equal(guard.push(AMQP_HEADER), undefined);
    assert.equal(guard.push(Buffer.from([0x00, 0x10])), undefined);
    assert.match(guard.push(Buffer.from([0x00, 0x00])) ?? '', /1048576 bytes/);
  });
});
