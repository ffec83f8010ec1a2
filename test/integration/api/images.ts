// Test images with known text: SVG rendered by sharp, so nothing binary is checked in.
import sharp from 'sharp';

export async function textImage(lines: readonly string[], format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const fontSize = 40;
  const lineHeight = 64;
  const width = Math.max(...lines.map((l) => l.length)) * 28 + 2 * fontSize;
  const height = lines.length * lineHeight + 2 * fontSize;
  const texts = lines.map(
    (line, i) =>
      `<text x="${fontSize}" y="${fontSize + (i + 1) * lineHeight - 16}" font-family="DejaVu Sans Mono, monospace" font-size="${fontSize}" fill="#000">${line.replace(/[<>&]/g, '')}</text>`,
  );
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/>${texts.join('')}</svg>`;
  const image = sharp(Buffer.from(svg));
  return format === 'jpeg' ? await image.jpeg({ quality: 92 }).toBuffer() : await image.png().toBuffer();
}

/** Collapses whitespace and case for "OCR read X" assertions. */
export function normalize(text: string): string {
  return text.toUpperCase().replace(/\s+/g, ' ').trim();
}
