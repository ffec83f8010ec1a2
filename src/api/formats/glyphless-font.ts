// The "glyphless" font of the searchable PDF's invisible text, as tesseract's PDF renderer writes it
// (tesseract src/api/pdfrenderer.cpp): a Type0 font, Identity-H encoding, over a CIDFontType2 whose every
// glyph is empty, so any character of any script can be written (as a 2-byte code) and no glyph is ever
// drawn; a ToUnicode CMap gives each code its real characters, which is what viewers search and copy.
//
// - The TrueType program is written here (about 720 bytes, no dependency): two glyphs (.notdef and one
//   blank glyph, 500 units of 1000 wide, no outlines), with head, hhea, maxp, hmtx, loca, glyf (one glyph of no contours),
//   cmap (a format 4 table mapping nothing), post (format 3, no names), name and OS/2, so strict readers
//   (FreeType, pdf.js's font sanitiser) take it as it is.
// - Codes are given per document: each distinct code point the document writes gets the next code from 1 on
//   (at most 65,535 of them), so a character beyond the Basic Multilingual Plane (an emoji, a rare CJK
//   ideograph) is one code like any other, and the ToUnicode CMap maps it to its UTF-16 surrogate pair.
//   CIDToGIDMap sends every code to the blank glyph; every glyph is DW 500 wide (half an em), so a run of
//   n characters at size s advances n * s / 2 before the horizontal scaling (Tz) that fits it to its box.
import { deflateSync } from 'node:zlib';
import { PDFDocument, PDFHexString, PDFString, type PDFRef } from 'pdf-lib';

export const GLYPHLESS_FONT_NAME = 'GlyphLessFont';
/** The advance of every glyph, in thousandths of an em (the font's DW). */
export const GLYPH_ADVANCE = 500;
/** Distinct characters one document can write: 2-byte codes, 0 unused. */
export const MAX_CODES = 0xffff;

const UNITS_PER_EM = 1000;
const ASCENT = 800;
const DESCENT = -200;

/** Big-endian table writer. */
class Bytes {
  private readonly parts: number[] = [];
  u8(...values: number[]): this {
    for (const v of values) this.parts.push(v & 0xff);
    return this;
  }
  u16(...values: number[]): this {
    for (const v of values) this.u8(v >> 8, v);
    return this;
  }
  u32(...values: number[]): this {
    for (const v of values) this.u16(v >>> 16, v & 0xffff);
    return this;
  }
  ascii(text: string): this {
    return this.u8(...[...text].map((c) => c.charCodeAt(0)));
  }
  get bytes(): Buffer {
    return Buffer.from(this.parts);
  }
}

/** The OpenType checksum of a table: the sum of its big-endian uint32s, the last padded with zeros. */
function checksum(data: Buffer): number {
  const padded = Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
  let sum = 0;
  for (let at = 0; at < padded.length; at += 4) sum = (sum + padded.readUInt32BE(at)) >>> 0;
  return sum;
}

function nameTable(): Buffer {
  const names: [number, string][] = [
    [1, GLYPHLESS_FONT_NAME],
    [2, 'Regular'],
    [3, `${GLYPHLESS_FONT_NAME}-Regular`],
    [4, GLYPHLESS_FONT_NAME],
    [5, 'Version 1.0'],
    [6, GLYPHLESS_FONT_NAME],
  ];
  const strings = names.map(([, text]) => Buffer.from(text, 'utf16le').swap16());
  const table = new Bytes().u16(0, names.length, 6 + 12 * names.length);
  let offset = 0;
  for (const [i, [id]] of names.entries()) {
    // Windows platform, Unicode BMP encoding, US English.
    table.u16(3, 1, 0x409, id, strings[i]!.length, offset);
    offset += strings[i]!.length;
  }
  return Buffer.concat([table.bytes, ...strings]);
}

function os2Table(): Buffer {
  return new Bytes()
    .u16(4, GLYPH_ADVANCE, 400, 5, 0) // version, xAvgCharWidth, usWeightClass, usWidthClass, fsType (installable)
    .u16(650, 600, 0, 75, 650, 600, 0, 350) // subscript and superscript sizes and offsets
    .u16(50, 250, 0) // yStrikeoutSize, yStrikeoutPosition, sFamilyClass
    .u8(...new Array<number>(10).fill(0)) // PANOSE: any
    .u32(0, 0, 0, 0) // ulUnicodeRange1-4
    .ascii('NONE')
    .u16(0x40, 0x20, 0xffff) // fsSelection REGULAR, usFirstCharIndex, usLastCharIndex
    .u16(ASCENT, DESCENT & 0xffff, 0, ASCENT, -DESCENT) // sTypoAscender, sTypoDescender, sTypoLineGap, usWinAscent, usWinDescent
    .u32(1, 0) // ulCodePageRange1-2: Latin 1
    .u16(500, 700, 0, 0x20, 1).bytes; // sxHeight, sCapHeight, usDefaultChar, usBreakChar, usMaxContext
}

/** The TrueType program: two empty glyphs (see the top of this file). */
export function glyphlessTrueType(): Buffer {
  const glyphs = 2;
  const tables: Record<string, Buffer> = {
    'OS/2': os2Table(),
    // Format 4, one segment (the closing 0xFFFF one): no character maps to a glyph; the PDF's CIDToGIDMap does.
    cmap: new Bytes().u16(0, 1).u16(3, 1).u32(12).u16(4, 24, 0, 2, 2, 0, 0).u16(0xffff, 0, 0xffff, 1, 0).bytes,
    // Glyph 1: no contours, no instructions (12 bytes), so the table is not empty (readers skip an empty one); .notdef is empty.
    glyf: Buffer.alloc(12),
    head: new Bytes()
      .u32(0x00010000, 0x00010000, 0, 0x5f0f3cf5) // version, fontRevision, checkSumAdjustment (set below), magic
      .u16(0b1011, UNITS_PER_EM) // flags: baseline and left sidebearing at 0, integer scaling
      .u32(0, 0, 0, 0) // created, modified
      .u16(0, DESCENT & 0xffff, GLYPH_ADVANCE, ASCENT) // xMin, yMin, xMax, yMax
      .u16(0, 8, 2, 0, 0).bytes, // macStyle, lowestRecPPEM, fontDirectionHint, indexToLocFormat (short), glyphDataFormat
    hhea: new Bytes()
      .u32(0x00010000)
      .u16(ASCENT, DESCENT & 0xffff, 0, GLYPH_ADVANCE, 0, 0, GLYPH_ADVANCE) // ascender, descender, lineGap, advanceWidthMax, minLSB, minRSB, xMaxExtent
      .u16(1, 0, 0, 0, 0, 0, 0, 0, glyphs).bytes, // caretSlopeRise, caretSlopeRun, caretOffset, 4 reserved, metricDataFormat, numberOfHMetrics
    hmtx: new Bytes().u16(GLYPH_ADVANCE, 0, GLYPH_ADVANCE, 0).bytes,
    // Short offsets (halved): .notdef is 0 bytes long, glyph 1 the 12 bytes of glyf.
    loca: new Bytes().u16(0, 0, 6).bytes,
    maxp: new Bytes().u32(0x00010000).u16(glyphs, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0).bytes,
    name: nameTable(),
    post: new Bytes()
      .u32(0x00030000, 0) // format 3 (no glyph names), italicAngle
      .u16(-100 & 0xffff, 50) // underlinePosition, underlineThickness
      .u32(1, 0, 0, 0, 0).bytes, // isFixedPitch, min/max memory
  };
  const tags = Object.keys(tables).sort();
  const entrySelector = Math.floor(Math.log2(tags.length));
  const header = new Bytes().u32(0x00010000).u16(tags.length, 16 * 2 ** entrySelector, entrySelector, 16 * tags.length - 16 * 2 ** entrySelector);
  let offset = 12 + 16 * tags.length;
  const body: Buffer[] = [];
  let headOffset = 0;
  for (const tag of tags) {
    const data = tables[tag]!;
    header.ascii(tag).u32(checksum(data), offset, data.length);
    if (tag === 'head') headOffset = offset;
    const padded = Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
    body.push(padded);
    offset += padded.length;
  }
  const font = Buffer.concat([header.bytes, ...body]);
  font.writeUInt32BE((0xb1b0afba - checksum(font)) >>> 0, headOffset + 8);
  return font;
}

const TRUE_TYPE = glyphlessTrueType();

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
/** A code point as UTF-16BE hex: 4 digits, or 8 (a surrogate pair) beyond the BMP. */
const utf16Hex = (codePoint: number): string =>
  [...Buffer.from(String.fromCodePoint(codePoint), 'utf16le').swap16()].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');

/** The ToUnicode CMap of codes 1..n (the i-th code point in `codePoints` is code i + 1), in bfchar blocks of at most 100 (the CMap limit). */
export function toUnicodeCMap(codePoints: readonly number[]): string {
  const blocks: string[] = [];
  for (let at = 0; at < codePoints.length; at += 100) {
    const block = codePoints.slice(at, at + 100);
    blocks.push(`${block.length} beginbfchar`, ...block.map((cp, i) => `<${hex4(at + i + 1)}> <${utf16Hex(cp)}>`), 'endbfchar');
  }
  return [
    '/CIDInit /ProcSet findresource begin',
    '12 dict begin',
    'begincmap',
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
    '/CMapName /Adobe-Identity-UCS def',
    '/CMapType 2 def',
    '1 begincodespacerange',
    '<0000> <FFFF>',
    'endcodespacerange',
    ...blocks,
    'endcmap',
    'CMapName currentdict /CMap defineresource pop',
    'end',
    'end',
    '',
  ].join('\n');
}

/**
 * The glyphless font of one document: `ref` goes into page resources at once; `encode` gives a text's codes
 * (characters past MAX_CODES distinct ones are dropped, see `dropped`); `finish` writes the font's objects,
 * its ToUnicode CMap and CIDToGIDMap once every page is written.
 */
export class GlyphlessFont {
  readonly ref: PDFRef;
  private readonly document: PDFDocument;
  private readonly codes = new Map<number, number>();
  /** Characters left out because the document already used MAX_CODES distinct ones. */
  dropped = 0;

  constructor(document: PDFDocument) {
    this.document = document;
    this.ref = document.context.nextRef();
  }

  /** The text as 2-byte codes and how many characters they are. */
  encode(text: string): { hex: PDFHexString; length: number } {
    let hex = '';
    let length = 0;
    for (const c of text) {
      const codePoint = c.codePointAt(0)!;
      let code = this.codes.get(codePoint);
      if (code === undefined) {
        if (this.codes.size >= MAX_CODES) {
          this.dropped++;
          continue;
        }
        code = this.codes.size + 1;
        this.codes.set(codePoint, code);
      }
      hex += hex4(code);
      length++;
    }
    return { hex: PDFHexString.of(hex), length };
  }

  finish(): void {
    const { context } = this.document;
    const codePoints = [...this.codes.keys()];
    const fontFile = context.register(context.flateStream(TRUE_TYPE, { Length1: TRUE_TYPE.length }));
    const descriptor = context.register(
      context.obj({
        Type: 'FontDescriptor',
        FontName: GLYPHLESS_FONT_NAME,
        // Fixed pitch, symbolic (its glyphs are not the standard Latin set).
        Flags: 5,
        FontBBox: [0, DESCENT, GLYPH_ADVANCE, ASCENT],
        ItalicAngle: 0,
        Ascent: ASCENT,
        Descent: DESCENT,
        CapHeight: 700,
        StemV: 80,
        FontFile2: fontFile,
      }),
    );
    // Every code (0..n) to glyph 1, the blank one: two bytes per code.
    const gids = Buffer.alloc(2 * (codePoints.length + 1));
    for (let at = 0; at < gids.length; at += 2) gids.writeUInt16BE(1, at);
    const cidToGid = context.register(context.stream(deflateSync(gids), { Filter: 'FlateDecode' }));
    const cidFont = context.register(
      context.obj({
        Type: 'Font',
        Subtype: 'CIDFontType2',
        BaseFont: GLYPHLESS_FONT_NAME,
        CIDSystemInfo: { Registry: PDFString.of('Adobe'), Ordering: PDFString.of('Identity'), Supplement: 0 },
        FontDescriptor: descriptor,
        DW: GLYPH_ADVANCE,
        CIDToGIDMap: cidToGid,
      }),
    );
    const toUnicode = context.register(context.flateStream(toUnicodeCMap(codePoints)));
    context.assign(
      this.ref,
      context.obj({
        Type: 'Font',
        Subtype: 'Type0',
        BaseFont: GLYPHLESS_FONT_NAME,
        Encoding: 'Identity-H',
        DescendantFonts: [cidFont],
        ToUnicode: toUnicode,
      }),
    );
  }
}
