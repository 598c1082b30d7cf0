/**
 * Ziplists (src/ziplist.c): the compact encoding Redis used before 7.0 for small lists, hashes and
 * sorted sets, still found in older RDB files (types 10, 12, 13 and the nodes of type 14).
 * Redis 7.0 only reads them; so does this module, validating as ziplistValidateIntegrity does in
 * deep mode (zipEntrySafe on each entry, prevlen chain, tail offset, count, terminator).
 *
 * Layout: `<zlbytes u32le> <zltail u32le> <zllen u16le> <entry>... 0xFF`, each entry
 * `<prevlen: 1 byte, or 0xFE + u32le> <encoding> <data>`.
 */
import { readInt64LE, type PackedElement } from './intconv.js';

const ZIPLIST_HEADER_SIZE = 10;
const ZIP_END = 0xff;
const ZIP_BIG_PREVLEN = 254;

/**
 * Decodes the ziplist in bytes [start, start+size) of `buf`; returns its elements (strings, or
 * integers) or null when it is not a valid ziplist.
 */
export function zlDecode(buf: Buffer, start: number, size: number): PackedElement[] | null {
  if (size < ZIPLIST_HEADER_SIZE + 1 || start + size > buf.length) return null;
  if (buf.readUInt32LE(start) !== size) return null;
  const zlEnd = start + size - 1;
  if (buf[zlEnd] !== ZIP_END) return null;
  const tail = buf.readUInt32LE(start + 4);
  if (tail > size - 1) return null;
  const headerCount = buf.readUInt16LE(start + 8);
  const first = start + ZIPLIST_HEADER_SIZE;
  const out: PackedElement[] = [];
  let p = first;
  let prev = -1;
  let prevRawSize = 0;
  while (buf[p] !== ZIP_END) {
    // prevlen
    if (p + 1 > zlEnd) return null;
    let prevlenSize: number;
    let prevrawlen: number;
    if (buf[p]! < ZIP_BIG_PREVLEN) {
      prevlenSize = 1;
      prevrawlen = buf[p]!;
    } else {
      prevlenSize = 5;
      if (p + 5 > zlEnd) return null;
      prevrawlen = buf.readUInt32LE(p + 1);
    }
    const e = p + prevlenSize;
    if (e + 1 > zlEnd) return null;
    let enc = buf[e]!;
    if (enc < 0xc0) enc &= 0xc0;
    let lensize: number;
    let len: number;
    if (enc === 0x00) {
      lensize = 1;
      len = buf[e]! & 0x3f;
    } else if (enc === 0x40) {
      lensize = 2;
      if (e + 2 > zlEnd) return null;
      len = ((buf[e]! & 0x3f) << 8) | buf[e + 1]!;
    } else if (enc === 0x80) {
      lensize = 5;
      if (e + 5 > zlEnd) return null;
      len = buf.readUInt32BE(e + 1);
    } else if (enc === 0xfe) {
      lensize = 1; len = 1;
    } else if (enc === 0xc0) {
      lensize = 1; len = 2;
    } else if (enc === 0xf0) {
      lensize = 1; len = 3;
    } else if (enc === 0xd0) {
      lensize = 1; len = 4;
    } else if (enc === 0xe0) {
      lensize = 1; len = 8;
    } else if (enc >= 0xf1 && enc <= 0xfd) {
      lensize = 1; len = 0;
    } else {
      return null; // bad encoding
    }
    const headersize = prevlenSize + lensize;
    // the header and the entry must not reach outside the ziplist
    if (p + headersize > zlEnd) return null;
    if (p + headersize + len > zlEnd) return null;
    // prevlen must not point before the first entry, and must match the previous entry's size
    if (p - prevrawlen < first) return null;
    if (prevrawlen !== prevRawSize) return null;
    const d = p + headersize;
    if (enc < 0xc0) out.push(buf.latin1Slice(d, d + len));
    else if (enc === 0xfe) out.push(buf.readInt8(d));
    else if (enc === 0xc0) out.push(buf.readInt16LE(d));
    else if (enc === 0xf0) {
      let v = buf[d]! | (buf[d + 1]! << 8) | (buf[d + 2]! << 16);
      if (v >= 1 << 23) v -= 1 << 24;
      out.push(v);
    } else if (enc === 0xd0) out.push(buf.readInt32LE(d));
    else if (enc === 0xe0) out.push(readInt64LE(buf, d));
    else out.push((enc & 0x0f) - 1);
    prevRawSize = headersize + len;
    prev = p;
    p += headersize + len;
  }
  if (p !== zlEnd) return null;
  if (prev !== -1 && prev !== start + tail) return null;
  if (headerCount !== 0xffff && headerCount !== out.length) return null;
  return out;
}

/**
 * Encodes elements as a ziplist, as ziplistPush would (strings that are integers get integer
 * encodings). Redis 7.0 never writes ziplists; this exists for tests of the legacy loaders.
 */
export function zlEncode(elements: PackedElement[]): Buffer {
  const parts: Buffer[] = [];
  let prevlen = 0;
  let offset = ZIPLIST_HEADER_SIZE;
  let tail = ZIPLIST_HEADER_SIZE;
  for (const el of elements) {
    let data: Buffer;
    let encHdr: Buffer;
    let iv: bigint | null = null;
    if (typeof el !== 'string') iv = BigInt(el);
    else if (/^-?(0|[1-9][0-9]{0,18})$/.test(el) && el !== '-0') {
      const b = BigInt(el);
      if (b >= -(2n ** 63n) && b < 2n ** 63n) iv = b;
    }
    if (iv !== null) {
      if (iv >= 0n && iv <= 12n) {
        encHdr = Buffer.from([0xf1 + Number(iv)]);
        data = Buffer.alloc(0);
      } else if (iv >= -128n && iv <= 127n) {
        encHdr = Buffer.from([0xfe]);
        data = Buffer.alloc(1); data.writeInt8(Number(iv));
      } else if (iv >= -32768n && iv <= 32767n) {
        encHdr = Buffer.from([0xc0]);
        data = Buffer.alloc(2); data.writeInt16LE(Number(iv));
      } else if (iv >= -8388608n && iv <= 8388607n) {
        encHdr = Buffer.from([0xf0]);
        data = Buffer.alloc(3); data.writeIntLE(Number(iv), 0, 3);
      } else if (iv >= -2147483648n && iv <= 2147483647n) {
        encHdr = Buffer.from([0xd0]);
        data = Buffer.alloc(4); data.writeInt32LE(Number(iv));
      } else {
        encHdr = Buffer.from([0xe0]);
        data = Buffer.alloc(8); data.writeBigInt64LE(iv);
      }
    } else {
      const s = el as string;
      data = Buffer.from(s, 'latin1');
      const l = data.length;
      if (l <= 0x3f) encHdr = Buffer.from([l]);
      else if (l <= 0x3fff) encHdr = Buffer.from([0x40 | (l >> 8), l & 0xff]);
      else {
        encHdr = Buffer.alloc(5); encHdr[0] = 0x80; encHdr.writeUInt32BE(l, 1);
      }
    }
    let prevHdr: Buffer;
    if (prevlen < ZIP_BIG_PREVLEN) prevHdr = Buffer.from([prevlen]);
    else {
      prevHdr = Buffer.alloc(5); prevHdr[0] = ZIP_BIG_PREVLEN; prevHdr.writeUInt32LE(prevlen, 1);
    }
    const entry = Buffer.concat([prevHdr, encHdr, data]);
    tail = offset;
    offset += entry.length;
    prevlen = entry.length;
    parts.push(entry);
  }
  const body = Buffer.concat(parts);
  const out = Buffer.alloc(ZIPLIST_HEADER_SIZE + body.length + 1);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt32LE(elements.length ? tail : ZIPLIST_HEADER_SIZE, 4);
  out.writeUInt16LE(Math.min(elements.length, 0xffff), 8);
  body.copy(out, ZIPLIST_HEADER_SIZE);
  out[out.length - 1] = ZIP_END;
  return out;
}
