/**
 * Listpacks (src/listpack.c of Redis 7.0): the compact encoding of small hashes, sorted sets,
 * list nodes and stream nodes. A reader that validates as lpValidateIntegrity does in deep mode
 * (header size and count, every entry's encoding and back-length, the terminator) while decoding,
 * and a writer producing byte-identical listpacks to lpAppend.
 *
 * Layout: `<total-bytes u32le> <num-elements u16le> <entry>... 0xFF`, each entry
 * `<encoding+data> <backlen>`; num-elements is 65535 when the count does not fit.
 */
import { strToInt64, readInt64LE, type PackedElement } from './intconv.js';

export const LP_HDR_SIZE = 6;
export const LP_EOF = 0xff;
export const LP_HDR_NUMELE_UNKNOWN = 65535;

/** Bytes of the back-length field for an entry of `l` bytes (lpEncodeBacklen). */
export function lpBacklenSize(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

function writeBacklen(buf: Buffer, p: number, l: number): number {
  if (l <= 127) {
    buf[p] = l;
    return 1;
  }
  if (l < 16383) {
    buf[p] = l >>> 7;
    buf[p + 1] = (l & 127) | 128;
    return 2;
  }
  if (l < 2097151) {
    buf[p] = l >>> 14;
    buf[p + 1] = ((l >>> 7) & 127) | 128;
    buf[p + 2] = (l & 127) | 128;
    return 3;
  }
  if (l < 268435455) {
    buf[p] = l >>> 21;
    buf[p + 1] = ((l >>> 14) & 127) | 128;
    buf[p + 2] = ((l >>> 7) & 127) | 128;
    buf[p + 3] = (l & 127) | 128;
    return 4;
  }
  buf[p] = Math.floor(l / 2 ** 28);
  buf[p + 1] = ((l >>> 21) & 127) | 128;
  buf[p + 2] = ((l >>> 14) & 127) | 128;
  buf[p + 3] = ((l >>> 7) & 127) | 128;
  buf[p + 4] = (l & 127) | 128;
  return 5;
}

/** Size of the encoding+data part of an integer entry (lpEncodeIntegerGetType). */
function intEncodedSize(v: number | bigint): number {
  if (typeof v === 'bigint') return 9;
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= -2147483648 && v <= 2147483647) return 5;
  return 9;
}

function strEncodedSize(len: number): number {
  return len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
}

/** Bytes an element takes in a listpack, back-length included (for node-size decisions). */
export function lpElementSize(e: PackedElement): number {
  let enc: number;
  if (typeof e === 'string') {
    const iv = e.length <= 20 ? strToInt64(e) : null;
    enc = iv !== null ? intEncodedSize(iv) : strEncodedSize(e.length);
  } else {
    enc = intEncodedSize(typeof e === 'bigint' && e >= -2147483648n && e <= 2147483647n ? Number(e) : e);
  }
  return enc + lpBacklenSize(enc);
}

/**
 * Builds a listpack by appending elements, as lpAppend / lpAppendInteger do: a string that is a
 * canonical int64 is stored as an integer, in the smallest integer encoding.
 */
export class ListpackWriter {
  private buf: Buffer;
  private pos = LP_HDR_SIZE;
  count = 0;

  constructor(initial = 64) {
    this.buf = Buffer.allocUnsafe(Math.max(initial, 16));
  }

  /** Current total size in bytes including the terminator (lpBytes). */
  get bytes(): number {
    return this.pos + 1;
  }

  private ensure(n: number): void {
    if (this.pos + n + 1 <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n + 1) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  /** Appends a latin1 string element (integer-encoded when it is a canonical int64). */
  appendString(s: string): this {
    const iv = s.length <= 20 ? strToInt64(s) : null;
    if (iv !== null) return this.appendInteger(iv);
    const len = s.length;
    const enc = strEncodedSize(len);
    const bl = lpBacklenSize(enc);
    this.ensure(enc + bl);
    const buf = this.buf;
    let p = this.pos;
    if (len < 64) {
      buf[p++] = 0x80 | len;
    } else if (len < 4096) {
      buf[p++] = 0xe0 | (len >>> 8);
      buf[p++] = len & 0xff;
    } else {
      buf[p++] = 0xf0;
      buf.writeUInt32LE(len, p);
      p += 4;
    }
    buf.latin1Write(s, p, len);
    p += len;
    p += writeBacklen(buf, p, enc);
    this.pos = p;
    this.count++;
    return this;
  }

  /** Appends an integer element (lpAppendInteger). */
  appendInteger(v: number | bigint): this {
    if (typeof v === 'bigint' && v >= -2147483648n && v <= 2147483647n) v = Number(v);
    const enc = intEncodedSize(v);
    this.ensure(enc + 1);
    const buf = this.buf;
    let p = this.pos;
    if (typeof v === 'bigint' || enc === 9) {
      buf[p++] = 0xf4;
      buf.writeBigInt64LE(BigInt(v), p);
      p += 8;
    } else if (enc === 1) {
      buf[p++] = v;
    } else if (enc === 2) {
      const u = v < 0 ? (1 << 13) + v : v;
      buf[p++] = (u >>> 8) | 0xc0;
      buf[p++] = u & 0xff;
    } else if (enc === 3) {
      buf[p++] = 0xf1;
      buf.writeInt16LE(v, p);
      p += 2;
    } else if (enc === 4) {
      const u = v < 0 ? (1 << 24) + v : v;
      buf[p++] = 0xf2;
      buf[p++] = u & 0xff;
      buf[p++] = (u >>> 8) & 0xff;
      buf[p++] = (u >>> 16) & 0xff;
    } else {
      buf[p++] = 0xf3;
      buf.writeInt32LE(v, p);
      p += 4;
    }
    buf[p++] = enc; // enc <= 9: one-byte backlen
    this.pos = p;
    this.count++;
    return this;
  }

  /** Appends an element of a decoded list (string or integer). */
  append(e: PackedElement): this {
    return typeof e === 'string' ? this.appendString(e) : this.appendInteger(e);
  }

  /** Size the listpack would have after appending the string `s` (for node-size decisions). */
  sizeWith(s: string): number {
    const iv = s.length <= 20 ? strToInt64(s) : null;
    const enc = iv !== null ? intEncodedSize(iv) : strEncodedSize(s.length);
    return this.pos + 1 + enc + lpBacklenSize(enc);
  }

  /** Empties the writer for reuse (keeps its buffer). */
  reset(): this {
    this.pos = LP_HDR_SIZE;
    this.count = 0;
    return this;
  }

  /**
   * Writes header and terminator; returns a view of the listpack in the writer's own buffer,
   * valid until the next change (no copy).
   */
  finishView(): Buffer {
    this.ensure(0);
    const buf = this.buf;
    buf[this.pos] = LP_EOF;
    const total = this.pos + 1;
    buf.writeUInt32LE(total, 0);
    buf.writeUInt16LE(this.count < LP_HDR_NUMELE_UNKNOWN ? this.count : LP_HDR_NUMELE_UNKNOWN, 4);
    return buf.subarray(0, total);
  }

  /** Writes header and terminator; returns the listpack bytes (a copy sized exactly). */
  finish(): Buffer {
    this.ensure(0);
    const buf = this.buf;
    buf[this.pos] = LP_EOF;
    const total = this.pos + 1;
    buf.writeUInt32LE(total, 0);
    buf.writeUInt16LE(this.count < LP_HDR_NUMELE_UNKNOWN ? this.count : LP_HDR_NUMELE_UNKNOWN, 4);
    return Buffer.from(buf.subarray(0, total));
  }
}

/** Encodes elements as one listpack. */
export function lpEncode(elements: Iterable<PackedElement>): Buffer {
  const w = new ListpackWriter();
  for (const e of elements) w.append(e);
  return w.finish();
}

/**
 * Decodes the listpack in bytes [start, start+size) of `buf`, validating it as
 * lpValidateIntegrity(deep=1) does. Returns the elements (strings, or integers as numbers when
 * within 2^53 and bigints beyond), or null when the listpack is invalid.
 */
export function lpDecode(buf: Buffer, start: number, size: number): PackedElement[] | null {
  if (size < LP_HDR_SIZE + 1) return null;
  if (start + size > buf.length) return null;
  const total = buf.readUInt32LE(start);
  if (total !== size) return null;
  const end = start + size - 1; // position of the terminator
  if (buf[end] !== LP_EOF) return null;
  const numele = buf.readUInt16LE(start + 4);
  const out: PackedElement[] = [];
  let p = start + LP_HDR_SIZE;
  while (p <= end) {
    const b = buf[p]!;
    if (b === LP_EOF) break;
    let hdr: number; // bytes of the encoding header
    let entry: number; // encoding + data bytes
    if ((b & 0x80) === 0) {
      hdr = 1; entry = 1;
    } else if ((b & 0xc0) === 0x80) {
      hdr = 1; entry = 1 + (b & 0x3f);
    } else if ((b & 0xe0) === 0xc0) {
      hdr = 1; entry = 2;
    } else if ((b & 0xf0) === 0xe0) {
      hdr = 2;
      if (p + hdr > end) return null;
      entry = 2 + (((b & 0x0f) << 8) | buf[p + 1]!);
    } else if (b === 0xf0) {
      hdr = 5;
      if (p + hdr > end) return null;
      entry = 5 + buf.readUInt32LE(p + 1);
    } else if (b === 0xf1) {
      hdr = 1; entry = 3;
    } else if (b === 0xf2) {
      hdr = 1; entry = 4;
    } else if (b === 0xf3) {
      hdr = 1; entry = 5;
    } else if (b === 0xf4) {
      hdr = 1; entry = 9;
    } else {
      return null; // 0xf5..0xfe: no such encoding
    }
    if (p + hdr > end) return null;
    const bl = lpBacklenSize(entry);
    const next = p + entry + bl;
    if (next > end) return null;
    // the back-length at the end must match the entry length
    let q = next - 1;
    let val = 0;
    let shift = 0;
    for (;;) {
      const c = buf[q]!;
      val += (c & 127) * 2 ** shift;
      if (!(c & 128)) break;
      shift += 7;
      q--;
      if (shift > 28) return null;
    }
    if (val !== entry) return null;
    // decode
    if ((b & 0x80) === 0) {
      out.push(b);
    } else if ((b & 0xc0) === 0x80) {
      out.push(buf.latin1Slice(p + 1, p + entry));
    } else if ((b & 0xe0) === 0xc0) {
      let v = ((b & 0x1f) << 8) | buf[p + 1]!;
      if (v >= 1 << 12) v -= 1 << 13;
      out.push(v);
    } else if ((b & 0xf0) === 0xe0) {
      out.push(buf.latin1Slice(p + 2, p + entry));
    } else if (b === 0xf0) {
      out.push(buf.latin1Slice(p + 5, p + entry));
    } else if (b === 0xf1) {
      out.push(buf.readInt16LE(p + 1));
    } else if (b === 0xf2) {
      let v = buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16);
      if (v >= 1 << 23) v -= 1 << 24;
      out.push(v);
    } else if (b === 0xf3) {
      out.push(buf.readInt32LE(p + 1));
    } else {
      out.push(readInt64LE(buf, p + 1));
    }
    p = next;
  }
  if (p !== end) return null; // p must stop exactly at the terminator
  if (numele !== LP_HDR_NUMELE_UNKNOWN && numele !== out.length) return null;
  return out;
}

/**
 * Validates only the header of a listpack (lpValidateIntegrity with deep=0): size field, and
 * terminator.
 */
export function lpValidateHeader(buf: Buffer, start: number, size: number): boolean {
  if (size < LP_HDR_SIZE + 1 || start + size > buf.length) return false;
  return buf.readUInt32LE(start) === size && buf[start + size - 1] === LP_EOF;
}
