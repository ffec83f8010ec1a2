// HMAC-SHA256 (RFC 2104) for a key used on every request: the key's inner and outer pads are
// computed once, and each MAC is two calls of Node's one-shot `crypto.hash` over a reused buffer
// (pad + message, then pad + inner digest). createHmac, even with an imported KeyObject, builds
// an Hmac object and an OpenSSL context per call; on the upload-URL path, which signs twice per
// request (the SAS and the job token), that object is most of the cost (bench/api/RESULTS.md).
// Results equal createHmac's byte for byte (hmac.test.ts).
import { hash } from 'node:crypto';

const BLOCK = 64;
const DIGEST = 32;

export class HmacSha256 {
  private readonly outer: Buffer;
  /** Inner pad followed by room for the message; grown when a message does not fit. */
  private scratch: Buffer;

  constructor(key: Buffer) {
    // Keys longer than the block are hashed first (RFC 2104 section 2).
    const material = key.length > BLOCK ? hash('sha256', key, 'buffer') : key;
    const inner = Buffer.alloc(BLOCK, 0x36);
    this.outer = Buffer.alloc(BLOCK + DIGEST, 0x5c);
    for (let i = 0; i < material.length; i++) {
      inner[i] = (inner[i] as number) ^ (material[i] as number);
      this.outer[i] = (this.outer[i] as number) ^ (material[i] as number);
    }
    this.scratch = Buffer.allocUnsafe(BLOCK + 1024);
    inner.copy(this.scratch, 0);
  }

  /** The MAC of `message` (UTF-8). The buffer returned is the caller's. */
  digest(message: string): Buffer {
    // At most 3 UTF-8 bytes per UTF-16 unit: room without measuring the string first.
    const room = BLOCK + 3 * message.length;
    if (room > this.scratch.length) {
      const grown = Buffer.allocUnsafe(Math.max(room, this.scratch.length * 2));
      this.scratch.copy(grown, 0, 0, BLOCK);
      this.scratch = grown;
    }
    const written = this.scratch.write(message, BLOCK, 'utf8');
    const inner = hash('sha256', this.scratch.subarray(0, BLOCK + written), 'buffer');
    inner.copy(this.outer, BLOCK);
    return hash('sha256', this.outer, 'buffer');
  }
}
