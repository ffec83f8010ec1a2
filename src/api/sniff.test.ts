import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectImage, sniffFormat } from './sniff.ts';

function bytes(...parts: (number[] | string)[]): Uint8Array {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_IEND = [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];

function le32(n: number): number[] {
  return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
}

void describe('sniffing image types by magic bytes', () => {
  const cases: { name: string; head: Uint8Array; format: string | undefined }[] = [
    { name: 'a PNG signature is PNG', head: bytes(PNG_SIGNATURE), format: 'png' },
    { name: 'FF D8 FF is JPEG', head: bytes([0xff, 0xd8, 0xff, 0xe0]), format: 'jpeg' },
    { name: 'II*\\0 is little-endian TIFF', head: bytes([0x49, 0x49, 0x2a, 0x00]), format: 'tiff' },
    { name: 'MM\\0* is big-endian TIFF', head: bytes([0x4d, 0x4d, 0x00, 0x2a]), format: 'tiff' },
    { name: 'RIFF....WEBP is WebP', head: bytes('RIFF', le32(100), 'WEBPVP8 '), format: 'webp' },
    { name: 'RIFF....WAVE is not an image', head: bytes('RIFF', le32(100), 'WAVEfmt '), format: undefined },
    { name: 'BM with a full header is BMP', head: bytes('BM', le32(14), [0, 0, 0, 0, 0, 0, 0, 0]), format: 'bmp' },
    { name: 'a PDF is a document we read', head: bytes('%PDF-1.7'), format: 'pdf' },
    { name: 'a GIF is not an image we read', head: bytes('GIF89a'), format: undefined },
    { name: 'three PNG bytes are not enough', head: bytes([0x89, 0x50, 0x4e]), format: undefined },
  ];
  for (const c of cases) {
    void it(c.name, () => assert.equal(sniffFormat(c.head), c.format));
  }
});

void describe('inspecting whole images', () => {
  const cases: { name: string; image: Uint8Array; expected: ReturnType<typeof inspectImage> }[] = [
    { name: 'an empty file is empty', image: new Uint8Array(0), expected: { ok: false, problem: 'empty' } },
    { name: 'text is unsupported', image: bytes('hello world, not an image'), expected: { ok: false, problem: 'unsupported' } },
    {
      name: 'a PDF that ends with %%EOF is complete',
      image: bytes('%PDF-1.4\n1 0 obj\n%%EOF\n'),
      expected: { ok: true, format: 'pdf', mediaType: 'application/pdf' },
    },
    { name: 'a PDF without %%EOF is truncated', image: bytes('%PDF-1.4\n1 0 obj\n'), expected: { ok: false, problem: 'truncated', format: 'pdf' } },
    {
      name: 'a PNG that ends with IEND is complete',
      image: bytes(PNG_SIGNATURE, [1, 2, 3], PNG_IEND),
      expected: { ok: true, format: 'png', mediaType: 'image/png' },
    },
    { name: 'a PNG without IEND is truncated', image: bytes(PNG_SIGNATURE, [1, 2, 3, 4, 5]), expected: { ok: false, problem: 'truncated', format: 'png' } },
    {
      name: 'a JPEG that ends with EOI is complete',
      image: bytes([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]),
      expected: { ok: true, format: 'jpeg', mediaType: 'image/jpeg' },
    },
    {
      name: 'a JPEG with padding after EOI is complete',
      image: bytes([0xff, 0xd8, 0xff, 0xe0, 1, 0xff, 0xd9, 0, 0, 0]),
      expected: { ok: true, format: 'jpeg', mediaType: 'image/jpeg' },
    },
    {
      name: 'a JPEG without EOI is truncated',
      image: bytes([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]),
      expected: { ok: false, problem: 'truncated', format: 'jpeg' },
    },
    // The worker's sharp cannot decode BMP: refused at the API (415) rather than dead-lettered later.
    {
      name: 'a complete BMP is unsupported',
      image: bytes('BM', le32(44), new Array<number>(38).fill(0)),
      expected: { ok: false, problem: 'unsupported', format: 'bmp' },
    },
    {
      name: 'a BMP shorter than its declared size is unsupported, not truncated',
      image: bytes('BM', le32(1000), new Array<number>(30).fill(0)),
      expected: { ok: false, problem: 'unsupported', format: 'bmp' },
    },
    {
      name: 'a BMP with bfSize 0 is unsupported',
      image: bytes('BM', le32(0), new Array<number>(30).fill(0)),
      expected: { ok: false, problem: 'unsupported', format: 'bmp' },
    },
    {
      name: 'BM without a full header is not recognised at all',
      image: bytes('BM', [1, 2, 3]),
      expected: { ok: false, problem: 'unsupported' },
    },
    {
      name: 'a WebP shorter than its RIFF size is truncated',
      image: bytes('RIFF', le32(1000), 'WEBPVP8 ', [0, 0]),
      expected: { ok: false, problem: 'truncated', format: 'webp' },
    },
    {
      name: 'a WebP as long as its RIFF size is complete',
      image: bytes('RIFF', le32(10), 'WEBPVP8 ', [0, 0]),
      expected: { ok: true, format: 'webp', mediaType: 'image/webp' },
    },
    {
      name: 'a TIFF whose first IFD is past the end is truncated',
      image: bytes([0x49, 0x49, 0x2a, 0x00], le32(5000), [0, 0]),
      expected: { ok: false, problem: 'truncated', format: 'tiff' },
    },
  ];
  for (const c of cases) {
    void it(c.name, () => assert.deepEqual(inspectImage(c.image), c.expected));
  }
});
