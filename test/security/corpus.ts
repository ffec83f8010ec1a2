// Bad inputs, built in code so nothing binary is checked in: truncated files, decompression
// bombs, polyglots, formats the platform does not read, and images that lie in their header.
import { crc32, deflateSync } from 'node:zlib';
import { renderText } from '../fixtures/render-text.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG with the given header dimensions (8-bit greyscale) around any IDAT payload, ending in IEND. */
export function png(width: number, height: number, idat: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(0, 9); // greyscale
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

/** Declares 100 000 x 100 000 pixels (10 Gpx, 10 GB decoded) with a 1 KiB payload: a lie in the header. */
export function declaredBomb(): Buffer {
  return png(100_000, 100_000, deflateSync(Buffer.alloc(1024)));
}

/** A real bomb: 8 000 x 8 000 white pixels (64 Mpx, 64 MB decoded) that deflate to about 64 KiB. */
export function deflateBomb(): Buffer {
  const side = 8_000;
  const row = Buffer.alloc(side + 1, 0xff);
  row[0] = 0; // filter type None
  return png(side, side, deflateSync(Buffer.concat(Array.from({ length: side }, () => row)), { level: 9 }));
}

/** Magic bytes and IEND in place, garbage in between: passes the API's sniffing, fails decoding. */
export function corruptPng(): Buffer {
  return png(64, 64, Buffer.from('this is not a zlib stream, just bytes that claim to be one'));
}

/** A PNG that is also a ZIP (the archive after IEND, as polyglot files do). */
export function pngZipPolyglot(image: Buffer): Buffer {
  return Buffer.concat([image, zipWith('payload.sh', '#!/bin/sh\nid\n')]);
}

/** A ZIP first with a PNG stored inside it: the magic bytes say ZIP. */
export function zipPngPolyglot(image: Buffer): Buffer {
  return Buffer.concat([zipWith('image.png', image.toString('latin1')), image]);
}

/** A minimal stored (uncompressed) ZIP with one file. */
function zipWith(name: string, content: string): Buffer {
  const data = Buffer.from(content, 'latin1');
  const fileName = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc32(data), 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(fileName.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc32(data), 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(fileName.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fileName.length, 12);
  end.writeUInt32LE(local.length + fileName.length + data.length, 16);
  return Buffer.concat([local, fileName, data, central, fileName, end]);
}

/** A 2 x 2 24-bit BMP (sharp has no BMP decoder, the API refuses it). */
export function bmp(): Buffer {
  const pixels = Buffer.alloc(16, 0xff); // 2 rows of 2 pixels x 3 bytes, padded to 4
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(54 + pixels.length, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(2, 18);
  header.writeInt32LE(2, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  return Buffer.concat([header, pixels]);
}

/** A 1 x 1 GIF. */
export const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///ywAAAAAAQABAAACAUwAOw==', 'base64');

export const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

/** The PDF above without its last line (%%EOF): the API refuses it as truncated before any worker renders it. */
export const truncatedPdf = PDF.subarray(0, PDF.lastIndexOf('%%EOF'));

/** SVG is an image sharp would render, with an external reference a renderer might fetch. */
export const SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">' +
    '<image xlink:href="http://169.254.169.254/latest/meta-data/" width="10" height="10"/></svg>',
);

export const HTML = Buffer.from('<!doctype html><script>fetch("http://169.254.169.254/")</script>');

export const SHELL = Buffer.from('#!/bin/sh\ncurl http://169.254.169.254/\n');

/** An ELF header (the start of a Linux executable). */
export const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3e, 0]);

/** A WebP whose RIFF length says 1 MiB follows, with 20 bytes there. */
export function truncatedWebp(): Buffer {
  const b = Buffer.alloc(32);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(1024 * 1024, 4);
  b.write('WEBPVP8 ', 8, 'latin1');
  return b;
}

/** The first half of a real image. */
export function firstHalf(bytes: Buffer): Buffer {
  return bytes.subarray(0, Math.floor(bytes.length / 2));
}

export async function textPng(lines: readonly string[]): Promise<Buffer> {
  return await renderText(lines);
}

export async function textJpeg(lines: readonly string[]): Promise<Buffer> {
  return await renderText(lines, { format: 'jpeg' });
}
