/**
 * Integer helpers of the compact encodings: a listpack, a ziplist, an intset and the RDB string
 * encoder store a string as an integer only when it is the canonical decimal form of a signed
 * 64-bit value (no '+', no leading zeros, no "-0", no spaces): util/number.ts's parseInteger, or
 * {@link rangeToInt64} for a range of a string.
 */

import { INT64_MIN, INT64_MAX } from '../../util/number.js';

/**
 * util/number.ts's parseInteger (string2ll rules: a number when |v| < 2^53, a bigint beyond, null
 * when not a canonical int64) of the `n` chars of `s` from `start`, without slicing them out
 * first (the encoder reads hash fields in place in the hash's flat string).
 */
export function rangeToInt64(s: string, start: number, n: number): number | bigint | null {
  if (n === 0 || n > 20) return null;
  const end = start + n;
  let i = start;
  const c0 = s.charCodeAt(start);
  if (c0 === 45) {
    if (n === 1) return null;
    i = start + 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return n === 1 ? 0 : null; // "0" only; "-0", "01" are not canonical
  if (first < 49 || first > 57) return null;
  if (n <= 16) {
    let v = 0;
    for (let j = i; j < end; j++) {
      const d = s.charCodeAt(j) - 48;
      if (d < 0 || d > 9) return null;
      v = v * 10 + d;
    }
    // up to 15 digits is always exact; 16 digits may pass 2^53
    if (v <= Number.MAX_SAFE_INTEGER) return i !== start ? -v : v;
  }
  for (let j = i; j < end; j++) {
    const d = s.charCodeAt(j);
    if (d < 48 || d > 57) return null;
  }
  const b = BigInt(start === 0 && n === s.length ? s : s.slice(start, end));
  if (b < INT64_MIN || b > INT64_MAX) return null;
  return b;
}

/** A decoded compact-encoding element: a latin1 string, or an integer (number when safe). */
export type PackedElement = string | number | bigint;

/** The string form of a decoded element (integers in decimal, as ll2string). */
export function elementToString(e: PackedElement): string {
  return typeof e === 'string' ? e : String(e);
}

/** Reads a signed 64-bit little-endian integer; a number when safe, else a bigint. */
export function readInt64LE(buf: Buffer, off: number): number | bigint {
  const lo = buf.readUInt32LE(off);
  const hi = buf.readInt32LE(off + 4);
  // |v| < 2^53 exactly when hi is in [-2^21, 2^21)
  if (hi >= -0x200000 && hi < 0x200000) return hi * 0x100000000 + lo;
  return buf.readBigInt64LE(off);
}

/** Normalizes an integer: a number when within ±(2^53-1), else a bigint. */
export function normInt(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}
