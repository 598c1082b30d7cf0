/**
 * Intsets (src/intset.c): the encoding of small sets of integers, RDB type 11. Layout:
 * `<encoding u32le: 2|4|8> <length u32le> <values, ascending, little-endian>`; the encoding is
 * the smallest width holding every value.
 */
import { parseInteger } from '../../util/number.js';

/**
 * Decodes the intset in bytes [start, start+size) of `buf`, validated as
 * intsetValidateIntegrity(deep=1): known encoding, exact size, not empty, strictly ascending.
 * @returns the members as decimal strings, or null when invalid
 */
export function intsetDecode(buf: Buffer, start: number, size: number): string[] | null {
  if (size < 8 || start + size > buf.length) return null;
  const enc = buf.readUInt32LE(start);
  if (enc !== 2 && enc !== 4 && enc !== 8) return null;
  const count = buf.readUInt32LE(start + 4);
  if (8 + count * enc !== size) return null;
  if (count === 0) return null;
  const out: string[] = new Array(count);
  let p = start + 8;
  if (enc === 8) {
    let prev: bigint | null = null;
    for (let i = 0; i < count; i++, p += 8) {
      const v = buf.readBigInt64LE(p);
      if (prev !== null && v <= prev) return null;
      prev = v;
      out[i] = v.toString();
    }
  } else {
    let prev = -Infinity;
    for (let i = 0; i < count; i++, p += enc) {
      const v = enc === 2 ? buf.readInt16LE(p) : buf.readInt32LE(p);
      if (v <= prev) return null;
      prev = v;
      out[i] = String(v);
    }
  }
  return out;
}

/**
 * Encodes ascending, distinct int64 values as an intset blob (the set's intset as Redis keeps it:
 * the smallest width that holds every value).
 */
export function intsetEncode(vals: bigint[]): Buffer {
  let width = 2;
  for (const b of vals) {
    if (b < -2147483648n || b > 2147483647n) {
      width = 8;
      break;
    }
    if ((b < -32768n || b > 32767n) && width < 4) width = 4;
  }
  const out = Buffer.allocUnsafe(8 + vals.length * width);
  out.writeUInt32LE(width, 0);
  out.writeUInt32LE(vals.length, 4);
  let p = 8;
  for (const v of vals) {
    if (width === 2) out.writeInt16LE(Number(v), p);
    else if (width === 4) out.writeInt32LE(Number(v), p);
    else out.writeBigInt64LE(v, p);
    p += width;
  }
  return out;
}

/**
 * Encodes set members as an intset when every member is a canonical int64 (as
 * isSdsRepresentableAsLongLong); null otherwise. Members may come in any order.
 */
export function intsetEncodeStrings(members: Iterable<string>): Buffer | null {
  const vals: bigint[] = [];
  for (const m of members) {
    const v = parseInteger(m);
    if (v === null) return null;
    vals.push(BigInt(v));
  }
  vals.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return intsetEncode(vals);
}
