import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { parseInt64 } from '../util/number.js';
import { ERR, getLongOrReply } from '../server/dispatch.js';
import { REDIS_VERSION } from '../server/server.js';

/**
 * LOLWUT [VERSION version] [args...], after Redis 7.0.15's src/lolwut.c, lolwut5.c and
 * lolwut6.c: computer art, different for each Redis version. Amber answers as Redis 7.0.15 does:
 * without VERSION (7), `Redis ver. 7.0.15`; VERSION 5 draws Georg Nees's "Schotter" in Braille
 * characters, VERSION 6 a city skyline in terminal colours. Both are random where Redis's are (a
 * different rand(), so the same shapes with other random numbers); everything else is the same
 * arithmetic, C float rounding included, so the deterministic parts match Redis's pixel for pixel.
 */

/** A canvas of pixels, colour 0-255 each (lwCanvas). */
class Canvas {
  readonly pixels: Uint8Array;
  constructor(readonly width: number, readonly height: number, bgcolor: number) {
    this.pixels = new Uint8Array(width * height).fill(bgcolor);
  }

  /** lwDrawPixel: out of the canvas is ignored. */
  draw(x: number, y: number, color: number): void {
    if (x < 0 || x >= this.width || y < 0 || y >= this.height) return;
    this.pixels[x + y * this.width] = color;
  }

  /** lwGetPixel: 0 out of the canvas. */
  get(x: number, y: number): number {
    if (x < 0 || x >= this.width || y < 0 || y >= this.height) return 0;
    return this.pixels[x + y * this.width]!;
  }

  /** lwDrawLine: Bresenham from (x1, y1) to (x2, y2), both ends included. */
  line(x1: number, y1: number, x2: number, y2: number, color: number): void {
    const dx = Math.abs(x2 - x1);
    const dy = Math.abs(y2 - y1);
    const sx = x1 < x2 ? 1 : -1;
    const sy = y1 < y2 ? 1 : -1;
    let err = dx - dy;
    for (;;) {
      this.draw(x1, y1, color);
      if (x1 === x2 && y1 === y2) break;
      const e2 = err * 2;
      if (e2 > -dy) {
        err -= dy;
        x1 += sx;
      }
      if (e2 < dx) {
        err += dx;
        y1 += sy;
      }
    }
  }

  /**
   * lwDrawSquare: a square centred on (x, y) whose side is `size` pixels, turned by `angle`
   * radians, its corners on a circle (size and angle are C floats).
   */
  square(x: number, y: number, size: number, angle: number, color: number): void {
    const f = Math.fround;
    let s = f(size / 1.4142135623);
    s = f(cRound(s));
    let k = f(Math.PI / 4 + angle);
    const px: number[] = [];
    const py: number[] = [];
    for (let j = 0; j < 4; j++) {
      px.push(cRound(Math.sin(k) * s + x));
      py.push(cRound(Math.cos(k) * s + y));
      k = f(k + Math.PI / 2);
    }
    for (let j = 0; j < 4; j++) this.line(px[j]!, py[j]!, px[(j + 1) % 4]!, py[(j + 1) % 4]!, color);
  }
}

/** C's round(): halves away from zero. */
function cRound(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/** C's RAND_MAX on glibc. */
const RAND_MAX = 2147483647;

/** rand(): an integer in [0, RAND_MAX]. */
function rand(): number {
  return Math.floor(Math.random() * (RAND_MAX + 1));
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

// ---- LOLWUT VERSION 5: Schotter ---------------------------------------------------------------

/**
 * lwDrawSchotter: `perRow` x `perCol` squares on a canvas twice `cols` pixels wide; from the
 * third row down, each square is turned and shifted at random, more the lower it is.
 */
function drawSchotter(cols: number, perRow: number, perCol: number): Canvas {
  const f = Math.fround;
  const width = cols * 2;
  const padding = width > 4 ? 2 : 0;
  const side = f(f(width - padding * 2) / perRow);
  const height = Math.trunc(f(f(side * perCol) + padding * 2));
  const canvas = new Canvas(width, height, 0);
  const half = f(side / 2);
  for (let y = 0; y < perCol; y++) {
    for (let x = 0; x < perRow; x++) {
      let sx = Math.trunc(f(f(f(x * side) + half) + padding));
      let sy = Math.trunc(f(f(f(y * side) + half) + padding));
      let angle = 0;
      if (y > 1) {
        const r = (): number => f(f(f(f(rand()) / f(RAND_MAX)) / perCol) * y);
        let r1 = r();
        let r2 = r();
        let r3 = r();
        if (rand() % 2) r1 = -r1;
        if (rand() % 2) r2 = -r2;
        if (rand() % 2) r3 = -r3;
        angle = r1;
        sx = Math.trunc(f(sx + f(f(r2 * side) / 3)));
        sy = Math.trunc(f(sy + f(f(r3 * side) / 3)));
      }
      canvas.square(sx, sy, side, angle, 1);
    }
  }
  return canvas;
}

/**
 * renderCanvas of lolwut5.c: each 2x4 block of pixels as one Braille character (U+2800 plus the
 * dots' bits), a newline after each row of blocks unless its first pixel row is the canvas's last.
 */
function renderBraille(canvas: Canvas): string {
  let text = '';
  for (let y = 0; y < canvas.height; y += 4) {
    for (let x = 0; x < canvas.width; x += 2) {
      let byte = 0;
      if (canvas.get(x, y)) byte |= 1 << 0;
      if (canvas.get(x, y + 1)) byte |= 1 << 1;
      if (canvas.get(x, y + 2)) byte |= 1 << 2;
      if (canvas.get(x + 1, y)) byte |= 1 << 3;
      if (canvas.get(x + 1, y + 1)) byte |= 1 << 4;
      if (canvas.get(x + 1, y + 2)) byte |= 1 << 5;
      if (canvas.get(x, y + 3)) byte |= 1 << 6;
      if (canvas.get(x + 1, y + 3)) byte |= 1 << 7;
      text += String.fromCharCode(0x2800 + byte);
    }
    if (y !== canvas.height - 1) text += '\n';
  }
  return text;
}

/** lolwut5Command: [cols 66] [squares per row 8] [squares per column 12]. */
function lolwut5(c: Client, args: readonly string[]): void {
  const n = [66, 8, 12];
  for (let i = 0; i < 3 && i < args.length; i++) {
    const v = getLongOrReply(c, args[i]!);
    if (v === null) return;
    n[i] = v;
  }
  const canvas = drawSchotter(clamp(n[0]!, 1, 1000), clamp(n[1]!, 1, 200), clamp(n[2]!, 1, 200));
  reply(c, renderBraille(canvas) + `\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ${REDIS_VERSION}\n`);
}

// ---- LOLWUT VERSION 6: a skyline --------------------------------------------------------------

interface Skyscraper {
  xoff: number;
  width: number;
  height: number;
  windows: boolean;
  color: number;
}

/** generateSkyscraper: a building from the bottom row up, its roof 4 pixels narrower, windows random grays. */
function skyscraper(canvas: Canvas, si: Skyscraper): void {
  const starty = canvas.height - 1;
  const endy = starty - si.height + 1;
  for (let y = starty; y >= endy; y--) {
    for (let x = si.xoff; x < si.xoff + si.width; x++) {
      if (y === endy && (x <= si.xoff + 1 || x >= si.xoff + si.width - 2)) continue;
      let color = si.color;
      if (si.windows && x > si.xoff + 1 && x < si.xoff + si.width - 2 && y > endy + 1 && y < starty - 1) {
        const relx = x - (si.xoff + 1);
        const rely = y - (endy + 1);
        // windows two pixels wide, one tall (terminal cells are not square)
        if (Math.trunc(relx / 2) % 2 && rely % 2) {
          do {
            color = 1 + (rand() % 2);
          } while (color === si.color);
          if (relx % 2) color = canvas.get(x - 1, y);
        }
      }
      canvas.draw(x, y, color);
    }
  }
}

/** generateSkyline: two rows of background buildings in the grays, then the foreground ones with windows. */
function skyline(canvas: Canvas): void {
  const h = canvas.height;
  for (let color = 2; color >= 1; color--) {
    for (let offset = -10; offset < canvas.width;) {
      offset += rand() % 8;
      const width = 10 + (rand() % 9);
      const height = Math.trunc(h / 2) + Math.trunc((rand() % h) / (color === 2 ? 2 : 3));
      skyscraper(canvas, { xoff: offset, width, height, windows: false, color });
      offset += color === 2 ? Math.trunc(width / 2) : width + 1;
    }
  }
  for (let offset = -10; offset < canvas.width;) {
    offset += rand() % 8;
    let width = 5 + (rand() % 14);
    if (width % 4) width += width % 3;
    const height = Math.trunc(h / 3) + Math.trunc((rand() % h) / 2);
    skyscraper(canvas, { xoff: offset, width, height, windows: true, color: 0 });
    offset += width + 5;
  }
}

/** renderCanvas of lolwut6.c: one space per pixel in the terminal's black, two grays and white. */
function renderColors(canvas: Canvas): string {
  const escapes = ['0;30;40m', '0;90;100m', '0;37;47m', '0;97;107m'];
  let text = '';
  for (let y = 0; y < canvas.height; y++) {
    for (let x = 0; x < canvas.width; x++) text += `\x1b[${escapes[canvas.get(x, y)] ?? escapes[0]!} \x1b[0m`;
    if (y !== canvas.height - 1) text += '\n';
  }
  return text;
}

/** lolwut6Command: [cols 80] [rows 20]. */
function lolwut6(c: Client, args: readonly string[]): void {
  const n = [80, 20];
  for (let i = 0; i < 2 && i < args.length; i++) {
    const v = getLongOrReply(c, args[i]!);
    if (v === null) return;
    n[i] = v;
  }
  const canvas = new Canvas(clamp(n[0]!, 1, 1000), clamp(n[1]!, 1, 1000), 3);
  skyline(canvas);
  reply(c, renderColors(canvas) + '\nDedicated to the 8 bit game developers of past and present.\n' +
    `Original 8 bit image from Plaguemon by hikikomori. Redis ver. ${REDIS_VERSION}\n`);
}

/** A verbatim reply of UTF-8 text (replies carry bytes as latin1 strings). */
function reply(c: Client, text: string): void {
  c.addVerbatim(Buffer.from(text, 'utf8').toString('latin1'));
}

/**
 * lolwutCommand: VERSION picks the art by the version `<n>.0.0` (n as a C unsigned int); any
 * other first argument is left to the version's own arguments.
 */
const lolwut: Handler = (c) => {
  const argv = c.argv;
  let version = REDIS_VERSION;
  let args = argv.slice(1);
  if (argv.length >= 3 && argv[1]!.toLowerCase() === 'version') {
    const v = parseInt64(argv[2]!);
    if (v === null) {
      c.addError(ERR.notInteger);
      return;
    }
    version = `${BigInt.asUintN(32, v)}.0.0`;
    args = argv.slice(3);
  }
  const [a, b, d] = [version[0], version[1], version[2]];
  if ((a === '5' && b === '.' && d !== '9') || (a === '4' && b === '.' && d === '9')) lolwut5(c, args);
  else if ((a === '6' && b === '.' && d !== '9') || (a === '5' && b === '.' && d === '9')) lolwut6(c, args);
  else c.addVerbatim(`Redis ver. ${REDIS_VERSION}\n`);
};

export const lolwutCommands: Record<string, Handler> = { lolwut };
