// What an X display shows, read back with `xwd -root` (the X server's own
// screen, covered windows and all): the screen as an image, and its
// pixels. Only 24/32-bit TrueColor screens (Xvfb, Xorg on today's
// hardware) are read.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** Size of the XWD header's fixed part: 25 big-endian 32-bit fields. */
const FIXED_HEADER = 100;
/** Size of one colour map entry after the header. */
const COLOUR_ENTRY = 12;

/**
 * Parses an XWD dump: `{ width, height, rgbAt(x, y) }`. Throws on
 * anything but a 32-bits-per-pixel Z-pixmap.
 */
export function parseXwd(bytes) {
  const field = (index) => bytes.readUInt32BE(index * 4);
  const [headerSize, format, width, height, byteOrder, bitsPerPixel, bytesPerLine, colours] = [0, 2, 4, 5, 7, 11, 12, 19].map(field);
  if (format !== 2 || bitsPerPixel !== 32 || headerSize < FIXED_HEADER) {
    throw new Error(`xwd: only 32-bit Z-pixmaps are read (format ${format}, ${bitsPerPixel} bits per pixel)`);
  }
  const [redMask, greenMask, blueMask] = [14, 15, 16].map(field);
  const start = headerSize + colours * COLOUR_ENTRY;
  if (bytes.length < start + bytesPerLine * height) throw new Error('xwd: the dump is cut short');
  const channel = (pixel, mask) => Math.round((((pixel & mask) >>> 0) / mask) * 255);
  return {
    width,
    height,
    /** `[r, g, b]` of the pixel at `(x, y)`. */
    rgbAt(x, y) {
      const at = start + y * bytesPerLine + x * 4;
      const pixel = byteOrder === 0 ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at);
      return [channel(pixel, redMask), channel(pixel, greenMask), channel(pixel, blueMask)];
    },
  };
}

/** What `display` (e.g. `:99`) shows now, as `parseXwd` reads it. */
export async function readScreen(display) {
  const { stdout } = await promisify(execFile)('xwd', ['-root', '-silent', '-display', display], {
    encoding: 'buffer',
    maxBuffer: 256 * 1024 * 1024,
  });
  return parseXwd(stdout);
}

/**
 * How much of `screen` within `{ x, y, width, height }` (every `step`-th
 * pixel) is black, white, and anything else: `{ black, white, other }`,
 * fractions of the pixels looked at.
 */
export function tally(screen, { x = 0, y = 0, width = screen.width, height = screen.height } = {}, step = 4) {
  let [black, white, other, seen] = [0, 0, 0, 0];
  for (let row = y; row < y + height; row += step) {
    for (let column = x; column < x + width; column += step) {
      const [r, g, b] = screen.rgbAt(column, row);
      if (r + g + b === 0) black += 1;
      else if (r === 255 && g === 255 && b === 255) white += 1;
      else other += 1;
      seen += 1;
    }
  }
  return { black: black / seen, white: white / seen, other: other / seen };
}
