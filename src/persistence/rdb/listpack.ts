/**
 * Listpacks (src/listpack.c of Redis 7.0): the compact encoding of small hashes, sorted sets,
 * list nodes and stream nodes. A validator that checks as lpValidateIntegrity does in deep mode
 * (header size and count, every entry's encoding and back-length, the terminator), an unchecked
 * entry reader for validated listpacks (the loader's fast paths read entries in place), and a
 * writer producing byte-identical listpacks to lpAppend.
 *
 * Layout: `<total-bytes u32le> <num-elements u16le> <entry>... 0xFF`, each entry
 * `<encoding+data> <backlen>`; num-elements is 65535 when the count does not fit.
 */
import { rangeToInt64, readInt64LE, type PackedElement } from './intconv.js';
// the entry sizes of the format, shared with the keyspace's node layouts
import { listpackBacklenSize, listpackIntEncodedSize, listpackStrEncodedSize, listpackEntrySize, LP_HDR_SIZE } from '../../keyspace/types/listpack-size.js';

export { LP_HDR_SIZE };
export const LP_EOF = 0xff;
export const LP_HDR_NUMELE_UNKNOWN = 65535;

/**
 * Writes the encoding byte(s) of a string element of `len` bytes at `p` (listpack.c
 * lpEncodeString: 6-bit, 12-bit or 32-bit length); returns where its bytes go.
 */
function writeStrHeader(buf: Buffer, p: number, len: number): number {
  if (len < 64) {
    buf[p] = 0x80 | len;
    return p + 1;
  }
  if (len < 4096) {
    buf[p] = 0xe0 | (len >>> 8);
    buf[p + 1] = len & 0xff;
    return p + 2;
  }
  buf[p] = 0xf0;
  buf.writeUInt32LE(len, p + 1);
  return p + 5;
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

/** Bytes an element takes in a listpack, back-length included (for node-size decisions). */
export function lpElementSize(e: PackedElement): number {
  if (typeof e === 'string') return listpackEntrySize(e);
  const enc = listpackIntEncodedSize(e);
  return enc + listpackBacklenSize(enc);
}

/** {@link ListpackWriter.appendFlat}'s copy of its input (grown as needed, never shrunk below). */
let flatScratch = Buffer.allocUnsafe(16 * 1024);
/** A view of {@link flatScratch} for word copies (replaced with it). */
let flatScratchView = viewOf(flatScratch);

/** A DataView of exactly the bytes of `b`. */
function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
const FLAT_SCRATCH_MAX = 1024 * 1024;

/**
 * Builds a listpack by appending elements, as lpAppend / lpAppendInteger do: a string that is a
 * canonical int64 is stored as an integer, in the smallest integer encoding.
 */
export class ListpackWriter {
  private buf: Buffer;
  /** a view of {@link buf}, made when {@link appendFlat} first needs it */
  private view: DataView | null = null;
  private pos = LP_HDR_SIZE;
  count = 0;

  constructor(initial = 64) {
    this.buf = Buffer.allocUnsafe(Math.max(initial, 16));
  }

  /** Size of the internal buffer (for callers that pool writers). */
  get capacity(): number {
    return this.buf.length;
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
    this.view = null;
  }

  /** Appends a latin1 string element (integer-encoded when it is a canonical int64). */
  appendString(s: string): this {
    return this.appendRange(s, 0, s.length);
  }

  /**
   * Appends the `len` chars of `s` from `start` as one element, as {@link appendString} would
   * append them sliced out (no slice is made).
   */
  appendRange(s: string, start: number, len: number): this {
    if (len <= 20 && len > 0) {
      // only a string starting with a digit or '-' can be a canonical integer
      const c0 = s.charCodeAt(start);
      if ((c0 >= 48 && c0 <= 57) || c0 === 45) {
        const iv = rangeToInt64(s, start, len);
        if (iv !== null) return this.appendInteger(iv);
      }
    }
    const enc = listpackStrEncodedSize(len);
    const bl = listpackBacklenSize(enc);
    this.ensure(enc + bl);
    const buf = this.buf;
    let p = writeStrHeader(buf, this.pos, len);
    if (len <= 64) {
      // a short copy in JS costs less than the native call of latin1Write
      for (let j = 0; j < len; j++) buf[p + j] = s.charCodeAt(start + j);
    } else {
      buf.latin1Write(start === 0 && len === s.length ? s : s.slice(start, start + len), p, len);
    }
    p += len;
    p += writeBacklen(buf, p, enc);
    this.pos = p;
    this.count++;
    return this;
  }

  /**
   * Appends every record of `s`, a sequence of `<len><bytes>` records where <len> is one char
   * below `longMark`, or `longMark` then the length in 4 chars big-endian (the flat string of a
   * listpack-form Hash). Each record is appended as {@link appendRange} would, but from one
   * native copy of the whole string and a byte loop: about twice as fast for small elements.
   */
  appendFlat(s: string, longMark: number): this {
    const n = s.length;
    let src: Buffer;
    let sv: DataView;
    if (n > FLAT_SCRATCH_MAX) {
      // a rare huge hash: its own copy rather than a scratch buffer kept that large
      src = Buffer.from(s, 'latin1');
      sv = viewOf(src);
    } else {
      if (flatScratch.length < n) {
        flatScratch = Buffer.allocUnsafe(Math.min(FLAT_SCRATCH_MAX, Math.max(n, flatScratch.length * 2)));
        flatScratchView = viewOf(flatScratch);
      }
      src = flatScratch;
      sv = flatScratchView;
      src.latin1Write(s, 0, n);
    }
    let p = 0;
    while (p < n) {
      let len = src[p]!;
      let d = p + 1;
      if (len >= longMark) {
        len = src.readUInt32BE(p + 1);
        d = p + 5;
      }
      p = d + len;
      const c = src[d]!;
      if (len <= 20 && len > 0 && ((c >= 48 && c <= 57) || c === 45)) {
        const iv = rangeToInt64(s, d, len);
        if (iv !== null) {
          this.appendInteger(iv);
          continue;
        }
      }
      const enc = listpackStrEncodedSize(len);
      this.ensure(enc + 5);
      const buf = this.buf;
      let o = writeStrHeader(buf, this.pos, len);
      if (len <= 64) {
        // 4 bytes per step, then the tail
        const dv = this.view ?? (this.view = viewOf(buf));
        let j = 0;
        for (; j + 4 <= len; j += 4) dv.setInt32(o + j, sv.getInt32(d + j, true), true);
        for (; j < len; j++) buf[o + j] = src[d + j]!;
      } else {
        buf.set(src.subarray(d, d + len), o);
      }
      o += len;
      o += writeBacklen(buf, o, enc);
      this.pos = o;
      this.count++;
    }
    return this;
  }

  /** Appends an integer element (lpAppendInteger). */
  appendInteger(v: number | bigint): this {
    if (typeof v === 'bigint' && v >= -2147483648n && v <= 2147483647n) v = Number(v);
    const enc = listpackIntEncodedSize(v);
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
    return this.pos + 1 + listpackEntrySize(s);
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
 * Checks the listpack in bytes [start, start+size) of `buf` as lpValidateIntegrity(deep=1)
 * does: header size and count, every entry's encoding and back-length, the terminator.
 * @returns the number of elements, or -1 when the listpack is invalid
 */
export function lpValidate(buf: Buffer, start: number, size: number): number {
  if (size < LP_HDR_SIZE + 1) return -1;
  if (start + size > buf.length) return -1;
  const total = buf.readUInt32LE(start);
  if (total !== size) return -1;
  const end = start + size - 1; // position of the terminator
  if (buf[end] !== LP_EOF) return -1;
  const numele = buf.readUInt16LE(start + 4);
  let count = 0;
  let p = start + LP_HDR_SIZE;
  while (p <= end) {
    const b = buf[p]!;
    if (b === LP_EOF) break;
    if (b < 0xc0) {
      // the usual entries, a 7-bit integer or a string of up to 63 bytes: a 1-byte header and
      // a 1-byte back-length that must equal the entry length (anything else, such as a
      // back-length with its continuation bit, goes through the general checks below)
      const e1 = b < 0x80 ? 1 : 1 + (b & 0x3f);
      const nx = p + e1 + 1;
      if (nx <= end && buf[nx - 1] === e1) {
        count++;
        p = nx;
        continue;
      }
    }
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
      if (p + hdr > end) return -1;
      entry = 2 + (((b & 0x0f) << 8) | buf[p + 1]!);
    } else if (b === 0xf0) {
      hdr = 5;
      if (p + hdr > end) return -1;
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
      return -1; // 0xf5..0xfe: no such encoding
    }
    if (p + hdr > end) return -1;
    const bl = listpackBacklenSize(entry);
    const next = p + entry + bl;
    if (next > end) return -1;
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
      if (shift > 28) return -1;
    }
    if (val !== entry) return -1;
    count++;
    p = next;
  }
  if (p !== end) return -1; // p must stop exactly at the terminator
  if (numele !== LP_HDR_NUMELE_UNKNOWN && numele !== count) return -1;
  return count;
}

/** The element read by {@link lpRead}: a string range of the buffer, or an integer. */
export interface LpEntry {
  /** true: bytes [start, start+len) of the buffer; false: the integer {@link int} */
  isStr: boolean;
  start: number;
  len: number;
  int: number | bigint;
}

/** The entry {@link lpRead} fills (one shared object: no allocation per element). */
export const lpEntry: LpEntry = { isStr: false, start: 0, len: 0, int: 0 };

/**
 * Reads the entry at `p` of a listpack already checked by {@link lpValidate} into
 * {@link lpEntry}, and returns the position of the next entry (the terminator after the last).
 * No bounds checks: only for validated listpacks.
 */
export function lpRead(buf: Buffer, p: number): number {
  const b = buf[p]!;
  const e = lpEntry;
  let entry: number;
  if ((b & 0x80) === 0) {
    e.isStr = false;
    e.int = b;
    entry = 1;
  } else if ((b & 0xc0) === 0x80) {
    entry = 1 + (b & 0x3f);
    e.isStr = true;
    e.start = p + 1;
    e.len = entry - 1;
  } else if ((b & 0xe0) === 0xc0) {
    let v = ((b & 0x1f) << 8) | buf[p + 1]!;
    if (v >= 1 << 12) v -= 1 << 13;
    e.isStr = false;
    e.int = v;
    entry = 2;
  } else if ((b & 0xf0) === 0xe0) {
    const len = ((b & 0x0f) << 8) | buf[p + 1]!;
    e.isStr = true;
    e.start = p + 2;
    e.len = len;
    entry = 2 + len;
  } else if (b === 0xf0) {
    const len = buf.readUInt32LE(p + 1);
    e.isStr = true;
    e.start = p + 5;
    e.len = len;
    entry = 5 + len;
  } else if (b === 0xf1) {
    e.isStr = false;
    e.int = buf.readInt16LE(p + 1);
    entry = 3;
  } else if (b === 0xf2) {
    let v = buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16);
    if (v >= 1 << 23) v -= 1 << 24;
    e.isStr = false;
    e.int = v;
    entry = 4;
  } else if (b === 0xf3) {
    e.isStr = false;
    e.int = buf.readInt32LE(p + 1);
    entry = 5;
  } else {
    e.isStr = false;
    e.int = readInt64LE(buf, p + 1);
    entry = 9;
  }
  return p + entry + listpackBacklenSize(entry);
}

/**
 * Decodes the listpack in bytes [start, start+size) of `buf`, validating it as
 * lpValidateIntegrity(deep=1) does. Returns the elements (strings, or integers as numbers when
 * within 2^53 and bigints beyond), or null when the listpack is invalid.
 */
export function lpDecode(buf: Buffer, start: number, size: number): PackedElement[] | null {
  const n = lpValidate(buf, start, size);
  if (n < 0) return null;
  const out: PackedElement[] = new Array(n);
  let p = start + LP_HDR_SIZE;
  const e = lpEntry;
  for (let i = 0; i < n; i++) {
    p = lpRead(buf, p);
    out[i] = e.isStr ? buf.latin1Slice(e.start, e.start + e.len) : e.int;
  }
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
