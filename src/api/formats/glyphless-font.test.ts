// The glyphless font of the searchable PDF's text: a well-formed TrueType program (table directory, checksums,
// two glyphs), codes given per document, and a ToUnicode map that gives each code its characters.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { PDFArray, PDFDocument, PDFDict, PDFName, PDFRawStream, beginText, endText, setFontAndSize, setTextMatrix, showText } from 'pdf-lib';
import { GlyphlessFont, glyphlessTrueType, toUnicodeCMap } from './glyphless-font.ts';

const sum32 = (data: Buffer): number => {
  const padded = Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
  let sum = 0;
  for (let at = 0; at < padded.length; at += 4) sum = (sum + padded.readUInt32BE(at)) >>> 0;
  return sum;
};

/** The font's tables by tag, as its directory names them. */
function tablesOf(font: Buffer): Map<string, { checksum: number; data: Buffer }> {
  const tables = new Map<string, { checksum: number; data: Buffer }>();
  for (let i = 0; i < font.readUInt16BE(4); i++) {
    const at = 12 + 16 * i;
    const [offset, length] = [font.readUInt32BE(at + 8), font.readUInt32BE(at + 12)];
    tables.set(font.toString('latin1', at, at + 4), { checksum: font.readUInt32BE(at + 4), data: font.subarray(offset, offset + length) });
  }
  return tables;
}

void describe('the glyphless TrueType program', () => {
  const font = glyphlessTrueType();
  const tables = tablesOf(font);

  void it('has the tables a TrueType font needs, in tag order', () =>
    assert.deepEqual([...tables.keys()], ['OS/2', 'cmap', 'glyf', 'head', 'hhea', 'hmtx', 'loca', 'maxp', 'name', 'post']));

  void it("has each table's checksum right", () => {
    for (const [tag, table] of tables) {
      // head's checksum is taken with checkSumAdjustment at 0.
      const data = tag === 'head' ? Buffer.concat([table.data.subarray(0, 8), Buffer.alloc(4), table.data.subarray(12)]) : table.data;
      assert.equal(table.checksum, sum32(data), tag);
    }
  });

  void it('has the whole-font checksum 0xB1B0AFBA that checkSumAdjustment sets', () => assert.equal(sum32(font), 0xb1b0afba));

  void it('has two glyphs, each half an em wide, neither with an outline', () => {
    assert.equal(tables.get('maxp')!.data.readUInt16BE(4), 2);
    assert.equal(tables.get('head')!.data.readUInt16BE(18), 1000);
    const hmtx = tables.get('hmtx')!.data;
    assert.deepEqual([hmtx.readUInt16BE(0), hmtx.readUInt16BE(4)], [500, 500]);
    const loca = tables.get('loca')!.data;
    const glyf = tables.get('glyf')!.data;
    // Glyph 1 spans loca[1]..loca[2] (halved offsets) and has 0 contours.
    assert.equal(glyf.readInt16BE(2 * loca.readUInt16BE(2)), 0);
    assert.equal(2 * loca.readUInt16BE(4), glyf.length);
  });
});

void describe('codes and their characters', () => {
  void it('gives each distinct character one 2-byte code, from 1 on, the same each time it comes again', async () => {
    const font = new GlyphlessFont(await PDFDocument.create());
    const first = font.encode('aä合a');
    const second = font.encode('𠀀ä');
    assert.deepEqual([first.hex.asString(), first.length], ['0001000200030001', 4]);
    assert.deepEqual([second.hex.asString(), second.length], ['00040002', 2]);
  });

  void it('leaves out, and counts, characters past the 65,535 distinct ones 2-byte codes can name', async () => {
    const font = new GlyphlessFont(await PDFDocument.create());
    const many = Array.from({ length: 65_536 }, (_, i) => String.fromCodePoint(0x10000 + i)).join('');
    const { length } = font.encode(many);
    assert.deepEqual([length, font.dropped], [65_535, 1]);
    // A character already given a code still is written.
    assert.equal(font.encode(String.fromCodePoint(0x10000)).hex.asString(), '0001');
  });

  void it('maps a code to the UTF-16 of its character, a surrogate pair beyond the BMP', () => {
    const cmap = toUnicodeCMap(['A', 'ü', '合', '𠀀', '𝄞'].map((c) => c.codePointAt(0)!));
    assert.ok(cmap.includes('5 beginbfchar\n<0001> <0041>\n<0002> <00FC>\n<0003> <5408>\n<0004> <D840DC00>\n<0005> <D834DD1E>\nendbfchar'), cmap);
    assert.ok(cmap.includes('1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange'));
  });

  void it('writes at most 100 mappings per bfchar block, as the CMap format allows', () => {
    const cmap = toUnicodeCMap(Array.from({ length: 250 }, (_, i) => 0x4e00 + i));
    assert.deepEqual(
      [...cmap.matchAll(/(\d+) beginbfchar/gu)].map((m) => Number(m[1])),
      [100, 100, 50],
    );
  });

  void it('writes a Type0 font over a CIDFontType2 whose every code is the blank glyph', async () => {
    const document = await PDFDocument.create();
    const font = new GlyphlessFont(document);
    font.encode('ab');
    font.finish();
    const type0 = document.context.lookup(font.ref, PDFDict);
    assert.equal(type0.get(PDFName.of('Subtype'))?.toString(), '/Type0');
    assert.equal(type0.get(PDFName.of('Encoding'))?.toString(), '/Identity-H');
    const descendant = document.context.lookup(type0.lookup(PDFName.of('DescendantFonts'), PDFArray).get(0), PDFDict);
    assert.equal(descendant.get(PDFName.of('Subtype'))?.toString(), '/CIDFontType2');
    const map = document.context.lookup(descendant.get(PDFName.of('CIDToGIDMap')));
    assert.ok(map instanceof PDFRawStream);
    assert.deepEqual([...inflateSync(map.contents)], [0, 1, 0, 1, 0, 1]);
  });
});

void describe('the font as pdfjs reads it', () => {
  void it('loads without a warning (pdfjs sanitises fonts and warns at every table it must repair) and gives the text back', async () => {
    const document = await PDFDocument.create();
    const page = document.addPage([200, 100]);
    const font = new GlyphlessFont(document);
    const key = page.node.newFontDictionary('F', font.ref);
    page.pushOperators(beginText(), setFontAndSize(key, 20), setTextMatrix(1, 0, 0, 1, 10, 50), showText(font.encode('Grüße 合计 𠀀').hex), endText());
    font.finish();
    const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
    const logged: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => void logged.push(args.join(' '));
    try {
      const read = await pdfjs.getDocument({ data: await document.save(), verbosity: pdfjs.VerbosityLevel.WARNINGS, isEvalSupported: false }).promise;
      const shown = await read.getPage(1);
      await shown.getOperatorList();
      const { items } = await shown.getTextContent();
      assert.equal(items.map((i) => ('str' in i ? i.str : '')).join(''), 'Grüße 合计 𠀀');
      await read.destroy();
    } finally {
      console.log = log;
    }
    assert.deepEqual(logged, []);
  });
});
