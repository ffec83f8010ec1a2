// A PDF page's own text layer (issue 15, item 3): when a page already carries real text, that text is
// the answer (exact characters, no OCR errors) and rendering + OCR is skipped, which saves most of the
// page's CPU. Which pages qualify, in order:
//
// - Visible glyphs only. Text drawn in render mode 3 (invisible) or 7 (clip only) does not count: that
//   is how OCR tools (ocrmypdf, scanners' "searchable PDF") lay their own, possibly poor, text under a
//   scan, and we would rather read the scan ourselves.
// - At least MIN_TEXT_LAYER_GLYPHS visible non-space glyphs (32). A scanned page stamped digitally
//   ("Received 2024-03-12", a Bates number "ABC-000123", "Page 3 of 12") carries fewer; a page of real
//   text (a letter, an invoice) carries hundreds. A page with very little real text (a title page) is
//   OCRed: slower, never wrong.
// - No image covering half the page or more (IMAGE_COVER_LIMIT). Such a page is a scan or a photo page:
//   its text layer is a stamp, a caption or text hidden under the image, and the image holds the text.
//
// Lines are built from pdfjs's text items: each item's box (from its transform, width and font size, with
// ascent 0.8 em and descent 0.2 em) is converted to the page's pixels at the render scale, so the boxes
// are where an OCR of the same page at the same DPI would put them; items are grouped by baseline (vertical
// centres within half a line height), read left to right, and a horizontal gap over 3 em starts another
// line (columns, tab stops), as tesseract splits them. Text that runs down, up or upside down on the page as
// shown (a page with /Rotate, a sideways label) is grouped the same way in its own reading frame, and every
// line gets its 4-point quad (clockwise from the top-left of the text as read) beside its upright bbox.
// Each line has its words (its text split at whitespace, as OCRed lines have them), each with a bbox and quad
// in the same frame. pdfjs's text content gives an item's start and advance, not each glyph's: a word's edges
// are exact where they are an item's edges, and inside an item the item's advance is shared among its
// characters by their glyphs' advances in the item's font, which the page's operator list shows (glyph
// objects with their widths, after a setFont naming the same font as the item's fontName). That leaves out
// character and word spacing (Tc, Tw) and kerning inside the item: within a fraction of a character. A
// character the font never showed gets the font's mean advance, an item without a known font even shares.
// Confidence is 100, of lines and words: the characters are the file's. A page that qualifies keeps any
// invisible text it also has.
import type { OcrLine, OcrWord } from '../../jobs/schema.ts';

/** Visible non-space glyphs a page needs for its text layer to be used instead of OCR. */
export const MIN_TEXT_LAYER_GLYPHS = 32;
/** An image covering this share of the page area or more makes the page a scan (OCRed). */
export const IMAGE_COVER_LIMIT = 0.5;

/** A PDF page read from its text layer: its size in pixels at the render scale, its text and lines. */
export interface TextLayerPage {
  source: 'text-layer';
  width: number;
  height: number;
  text: string;
  lines: OcrLine[];
}

/** The parts of a pdfjs page and viewport this file uses (pdfjs-dist's PDFPageProxy and PageViewport). */
export interface LayerPage {
  view: number[];
  getOperatorList(): Promise<{ fnArray: number[]; argsArray: unknown[] }>;
  getTextContent(): Promise<{ items: unknown[] }>;
}
export interface LayerViewport {
  width: number;
  height: number;
  convertToViewportPoint(x: number, y: number): number[];
}
/** pdfjs's OPS table (operator name -> number). */
export type Ops = Record<string, number>;

type Matrix = [number, number, number, number, number, number];
const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];
const multiply = (m: Matrix, n: Matrix): Matrix => [
  m[0] * n[0] + m[1] * n[2],
  m[0] * n[1] + m[1] * n[3],
  m[2] * n[0] + m[3] * n[2],
  m[2] * n[1] + m[3] * n[3],
  m[4] * n[0] + m[5] * n[2] + n[4],
  m[4] * n[1] + m[5] * n[3] + n[5],
];

/** Render modes that paint nothing: 3 invisible, 7 clip only. */
const INVISIBLE_MODES = new Set([3, 7]);

/** Visible non-space glyphs in one text-showing operator's arguments (glyph objects carry `unicode`). */
function visibleGlyphs(args: unknown): number {
  if (!Array.isArray(args)) return 0;
  let count = 0;
  for (const item of args) {
    if (Array.isArray(item)) count += visibleGlyphs(item);
    else if (item && typeof item === 'object' && 'unicode' in item && typeof item.unicode === 'string' && item.unicode.trim() !== '') count++;
  }
  return count;
}

export interface PageInk {
  /** Non-space glyphs drawn in a visible render mode. */
  visibleGlyphs: number;
  /** The largest share of the page one image covers (0-1, by its drawn area). */
  largestImage: number;
}

interface GraphicsState {
  /** Text render mode (Tr), 0-7. */
  mode: number;
  /** Current transformation matrix, user space to page space. */
  ctm: Matrix;
}

/** The graphics state after one state operator (q, Q, cm, Tr, a form XObject's start and end), or undefined for any other operator. */
function nextState(fn: number, args: unknown[] | null, state: GraphicsState, stack: GraphicsState[], ops: Ops): GraphicsState | undefined {
  if (fn === ops.save || fn === ops.paintFormXObjectBegin) {
    stack.push(state);
    // A form XObject runs in a saved state under its own matrix.
    const matrix = fn === ops.paintFormXObjectBegin ? (args?.[0] as Matrix | null | undefined) : undefined;
    return matrix ? { ...state, ctm: multiply(matrix, state.ctm) } : state;
  }
  if (fn === ops.restore || fn === ops.paintFormXObjectEnd) return stack.pop() ?? state;
  if (fn === ops.transform && args) return { ...state, ctm: multiply(args as Matrix, state.ctm) };
  if (fn === ops.setTextRenderingMode && args) return { ...state, mode: Number(args[0]) };
  return undefined;
}

/** What a page draws, from its operator list: visible glyphs and the largest image, tracking the graphics state stack. */
export function pageInk(fnArray: readonly number[], argsArray: readonly unknown[], ops: Ops, pageArea: number): PageInk {
  const text = new Set([ops.showText, ops.showSpacedText, ops.nextLineShowText, ops.nextLineSetSpacingShowText]);
  const images = new Set([ops.paintImageXObject, ops.paintInlineImageXObject, ops.paintImageMaskXObject]);
  const stack: GraphicsState[] = [];
  let state: GraphicsState = { mode: 0, ctm: IDENTITY };
  const ink: PageInk = { visibleGlyphs: 0, largestImage: 0 };
  for (const [i, fn] of fnArray.entries()) {
    const args = argsArray[i] as unknown[] | null;
    const next = nextState(fn, args, state, stack, ops);
    if (next) state = next;
    else if (text.has(fn) && !INVISIBLE_MODES.has(state.mode)) ink.visibleGlyphs += visibleGlyphs(args);
    else if (images.has(fn)) {
      // An image fills the unit square under the CTM: its area is the matrix's determinant, in square points.
      const area = Math.abs(state.ctm[0] * state.ctm[3] - state.ctm[1] * state.ctm[2]);
      ink.largestImage = Math.max(ink.largestImage, pageArea > 0 ? area / pageArea : 0);
    }
  }
  return ink;
}

/** Whether a page with this ink is read from its text layer (see the top of this file). */
export function usesTextLayer(ink: PageInk): boolean {
  return ink.visibleGlyphs >= MIN_TEXT_LAYER_GLYPHS && ink.largestImage < IMAGE_COVER_LIMIT;
}

interface TextItem {
  str: string;
  width: number;
  height: number;
  transform: number[];
  /** pdfjs's name of the item's font, the one its operator list's setFont names. */
  fontName?: string;
}

/** Each font's glyph advances by character (glyph units), from the glyphs pdfjs's operator list shows, keyed by pdfjs's font name. */
export type FontAdvances = Map<string, Map<string, number>>;

/** Records one shown glyph's advance in `font` (a ligature's shared among its characters; a character shown alone keeps its own). */
function recordGlyph(font: Map<string, number>, glyph: unknown): void {
  if (!glyph || typeof glyph !== 'object' || !('unicode' in glyph) || !('width' in glyph)) return;
  const { unicode, width } = glyph;
  if (typeof unicode !== 'string' || typeof width !== 'number' || !(width > 0)) return;
  const chars = [...unicode];
  for (const char of chars) if (chars.length === 1 || !font.has(char)) font.set(char, width / chars.length);
}

/** The advance of every character each font shows on the page. */
export function fontAdvances(fnArray: readonly number[], argsArray: readonly unknown[], ops: Ops): FontAdvances {
  const text = new Set([ops.showText, ops.showSpacedText, ops.nextLineShowText, ops.nextLineSetSpacingShowText]);
  const fonts: FontAdvances = new Map();
  let font: Map<string, number> | undefined;
  for (const [i, fn] of fnArray.entries()) {
    const args = argsArray[i] as unknown[] | null;
    if (fn === ops.setFont && typeof args?.[0] === 'string') {
      font = fonts.get(args[0]) ?? new Map<string, number>();
      fonts.set(args[0], font);
      continue;
    }
    // The glyphs are the last argument (after word and character spacing for nextLineSetSpacingShowText).
    const glyphs = font && text.has(fn) ? args?.at(-1) : undefined;
    if (Array.isArray(glyphs)) for (const glyph of glyphs) recordGlyph(font!, glyph);
  }
  return fonts;
}

/** Each character's share of the item's advance: its glyph's advance in the item's font, a character the font did not show its mean; undefined when the font showed none. */
function weightsOf(item: TextItem, advances: FontAdvances | undefined): number[] | undefined {
  const font = item.fontName === undefined ? undefined : advances?.get(item.fontName);
  if (!font || font.size === 0) return undefined;
  const mean = [...font.values()].reduce((sum, w) => sum + w, 0) / font.size;
  return [...item.str].map((char) => font.get(char) ?? mean);
}

const isTextItem = (item: unknown): item is TextItem =>
  !!item && typeof item === 'object' && 'str' in item && typeof item.str === 'string' && 'transform' in item && Array.isArray(item.transform);

/**
 * One text item placed on the page: its box in the reading frame of its direction (`turn` quarter turns clockwise
 * from left-to-right in viewport pixels: 1 runs down the page, 2 right to left upside down, 3 up), where it reads
 * left to right with y growing down the lines, so one grouping serves text in every direction.
 */
export interface Placed {
  text: string;
  /** Each character's share of the advance (relative; see weightsOf); absent: an even share each. */
  weights?: number[] | undefined;
  turn: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

type Turn = (x: number, y: number) => [number, number];
/** Viewport pixels into each turn's reading frame, and back. */
const TO_FRAME: Turn[] = [(x, y) => [x, y], (x, y) => [y, -x], (x, y) => [-x, -y], (x, y) => [-y, x]];
const FROM_FRAME: Turn[] = [(u, v) => [u, v], (u, v) => [-v, u], (u, v) => [-u, -v], (u, v) => [v, -u]];

const ASCENT = 0.8;
const DESCENT = 0.2;

/** The quarter turn (0-3) nearest to the direction from `from` to `to`, clockwise in viewport pixels (y down). */
const turnOf = (from: [number, number], to: [number, number]): number =>
  ((Math.round(Math.atan2(to[1] - from[1], to[0] - from[0]) / (Math.PI / 2)) % 4) + 4) % 4;

/** The item's box: its baseline run of `width`, from DESCENT below to ASCENT above, through the viewport, in its reading frame. */
function place(item: TextItem, viewport: LayerViewport, advances?: FontAdvances): Placed | undefined {
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0] = item.transform;
  const run = Math.hypot(a, b);
  const up = Math.hypot(c, d);
  const size = up || item.height;
  if (run === 0 || size === 0) return undefined;
  // Along the baseline (a, b) and up the glyphs (c, d), as unit vectors in user space (straight up when the item has no height of its own).
  const [ux, uy] = [a / run, b / run];
  const [vx, vy] = up > 0 ? [c / up, d / up] : [0, 1];
  const point = (along: number, rise: number): [number, number] => {
    const [x = 0, y = 0] = viewport.convertToViewportPoint(e + ux * along + vx * rise * size, f + uy * along + vy * rise * size);
    return [x, y];
  };
  const corners = [point(0, -DESCENT), point(item.width, -DESCENT), point(item.width, ASCENT), point(0, ASCENT)];
  const turn = turnOf(corners[0]!, corners[1]!);
  const framed = corners.map(([x, y]) => TO_FRAME[turn]!(x, y));
  const us = framed.map((p) => p[0]);
  const vs = framed.map((p) => p[1]);
  return { text: item.str, weights: weightsOf(item, advances), turn, x0: Math.min(...us), y0: Math.min(...vs), x1: Math.max(...us), y1: Math.max(...vs) };
}

const centre = (p: Placed): number => (p.y0 + p.y1) / 2;

/** Items grouped into lines: same baseline (centres within half a line height), left to right, split at gaps over 3 em. */
export function groupLines(items: readonly Placed[]): Placed[][] {
  const rows: Placed[][] = [];
  for (const item of [...items].sort((p, q) => centre(p) - centre(q))) {
    const row = rows.at(-1);
    const last = row?.at(-1);
    const height = Math.min(item.y1 - item.y0, last ? last.y1 - last.y0 : Infinity);
    if (row && last && Math.abs(centre(item) - centre(last)) <= height / 2) row.push(item);
    else rows.push([item]);
  }
  const lines: Placed[][] = [];
  for (const row of rows) {
    row.sort((p, q) => p.x0 - q.x0);
    let line: Placed[] = [];
    for (const item of row) {
      const previous = line.at(-1);
      if (previous && item.x0 - previous.x1 > 3 * (item.y1 - item.y0)) {
        lines.push(line);
        line = [];
      }
      line.push(item);
    }
    lines.push(line);
  }
  return lines.sort((p, q) => p[0]!.y0 - q[0]!.y0 || p[0]!.x0 - q[0]!.x0);
}

/** Whether a space goes between two items of a line: they are apart by more than 0.15 em. */
const apart = (previous: Placed | undefined, item: Placed): boolean => previous !== undefined && item.x0 - previous.x1 > 0.15 * (item.y1 - item.y0);

/** One character of a line with its span along the line, in the reading frame; `y0`/`y1` are its item's. */
interface Glyph {
  char: string;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** The line's characters in order, each item's advance shared among its characters by their glyphs' advances, a space between items that are apart. */
function glyphsOf(line: readonly Placed[]): Glyph[] {
  const glyphs: Glyph[] = [];
  let previous: Placed | undefined;
  for (const item of line) {
    if (apart(previous, item)) glyphs.push({ char: ' ', x0: previous!.x1, x1: item.x0, y0: item.y0, y1: item.y1 });
    const chars = [...item.text];
    const weights = item.weights?.length === chars.length ? item.weights : chars.map(() => 1);
    const total = weights.reduce((sum, w) => sum + w, 0) || 1;
    let at = item.x0;
    for (const [i, char] of chars.entries()) {
      const advance = ((item.x1 - item.x0) * weights[i]!) / total;
      glyphs.push({ char, x0: at, x1: at + advance, y0: item.y0, y1: item.y1 });
      at += advance;
    }
    previous = item;
  }
  return glyphs;
}

/** The words of a line's characters: runs between whitespace, each with its frame box. */
function wordsOf(glyphs: readonly Glyph[]): { text: string; x0: number; y0: number; x1: number; y1: number }[] {
  const words: Glyph[][] = [];
  let word: Glyph[] = [];
  for (const glyph of glyphs) {
    if (/\s/u.test(glyph.char)) {
      if (word.length > 0) words.push(word);
      word = [];
    } else word.push(glyph);
  }
  if (word.length > 0) words.push(word);
  return words.map((w) => ({
    text: w.map((g) => g.char).join(''),
    x0: Math.min(...w.map((g) => g.x0)),
    y0: Math.min(...w.map((g) => g.y0)),
    x1: Math.max(...w.map((g) => g.x1)),
    y1: Math.max(...w.map((g) => g.y1)),
  }));
}

/** A frame box (reading frame of quarter turn `turn`) as a box and quad in viewport pixels (rounded, inside the page). */
function geometry(turn: number, box: { x0: number; y0: number; x1: number; y1: number }, viewport: LayerViewport): Pick<OcrWord, 'bbox' | 'quad'> {
  const back = FROM_FRAME[turn]!;
  const clamp = ([x, y]: [number, number]): [number, number] => [
    Math.min(Math.round(viewport.width), Math.max(0, Math.round(x))),
    Math.min(Math.round(viewport.height), Math.max(0, Math.round(y))),
  ];
  // Clockwise from the top-left corner of the text as read (src/jobs/schema.ts Quad).
  const quad = [back(box.x0, box.y0), back(box.x1, box.y0), back(box.x1, box.y1), back(box.x0, box.y1)].map(clamp);
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  return { bbox: { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) }, quad };
}

/** One line of items: its text (items joined by a space where they are apart, whitespace collapsed), box, quad and words, confidence 100. */
function lineOf(line: readonly Placed[], viewport: LayerViewport): OcrLine {
  const turn = line[0]?.turn ?? 0;
  const words = wordsOf(glyphsOf(line));
  const box = {
    x0: Math.min(...line.map((p) => p.x0)),
    y0: Math.min(...line.map((p) => p.y0)),
    x1: Math.max(...line.map((p) => p.x1)),
    y1: Math.max(...line.map((p) => p.y1)),
  };
  return {
    text: words.map((w) => w.text).join(' '),
    confidence: 100,
    ...geometry(turn, box, viewport),
    words: words.map((w) => ({ text: w.text, confidence: 100, ...geometry(turn, w, viewport) })),
  };
}

/** Lines of the page's text items (left-to-right text first, then each other direction), boxes in viewport pixels, confidence 100. */
export function textLayerLines(items: readonly unknown[], viewport: LayerViewport, advances?: FontAdvances): OcrLine[] {
  const placed = items.filter(isTextItem).flatMap((item) => (item.str.trim() === '' ? [] : (place(item, viewport, advances) ?? [])));
  return [0, 1, 2, 3]
    .flatMap((turn) => groupLines(placed.filter((p) => p.turn === turn)))
    .map((line) => lineOf(line, viewport))
    .filter((line) => line.text !== '');
}

/** The page read from its text layer, or undefined when it has no real text (see the top of this file) and must be OCRed. */
export async function readTextLayer(page: LayerPage, viewport: LayerViewport, ops: Ops): Promise<TextLayerPage | undefined> {
  const [x0 = 0, y0 = 0, x1 = 0, y1 = 0] = page.view;
  const { fnArray, argsArray } = await page.getOperatorList();
  if (!usesTextLayer(pageInk(fnArray, argsArray, ops, Math.abs((x1 - x0) * (y1 - y0))))) return undefined;
  const lines = textLayerLines((await page.getTextContent()).items, viewport, fontAdvances(fnArray, argsArray, ops));
  if (lines.length === 0) return undefined;
  return { source: 'text-layer', width: Math.round(viewport.width), height: Math.round(viewport.height), text: lines.map((l) => l.text).join('\n'), lines };
}
