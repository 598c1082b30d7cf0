/**
 * Bytes an element takes in a Redis 7.0 listpack, back-length included (lpEncodeGetType,
 * lpEncodeIntegerGetType and lpEncodeBacklen of src/listpack.c), for the node layouts the keyspace
 * keeps of lists (quicklist-layout.ts) and streams (stream.ts), and for the listpack codec
 * (persistence/rdb/listpack.ts), which writes entries of these sizes: one copy of the rule, here,
 * as the keyspace does not depend on persistence.
 */
import { parseInteger } from '../../util/number.js';

/** LP_HDR_SIZE of listpack.c: a listpack's header (total bytes u32, element count u16); the terminator adds one byte. */
export const LP_HDR_SIZE = 6;

/** lpEncodeBacklen: bytes of the back-length of an entry whose encoding and data take `l` bytes. */
export function listpackBacklenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/**
 * lpEncodeIntegerGetType: bytes of the encoding and data of the integer entry `v` (a number, or
 * a bigint for values beyond 2^53 or so: 64-bit), without the back-length.
 */
export function listpackIntEncodedSize(v: number | bigint): number {
  if (typeof v === 'bigint') return v >= -2147483648n && v <= 2147483647n ? listpackIntEncodedSize(Number(v)) : 9;
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= -2147483648 && v <= 2147483647) return 5;
  return 9;
}

/** Bytes of the encoding and data of a string entry of `len` bytes (6, 12 or 32-bit length), without the back-length. */
export function listpackStrEncodedSize(len: number): number {
  return len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
}

/** Bytes of the integer entry `v` (a JS number: beyond int32 it takes the 64-bit encoding), back-length included. */
export function listpackIntSize(v: number): number {
  return listpackIntEncodedSize(v) + 1;
}

/**
 * Bytes of the entry lpAppend makes of string `s`: an integer entry (1 to 9 bytes) when `s` is a
 * canonical int64 (string2ll, as lpStringToInt64), else a string with a 1, 2 or 5 byte header.
 */
export function listpackEntrySize(s: string): number {
  const iv = parseInteger(s);
  // beyond 2^53 a bigint: the 64-bit encoding
  if (typeof iv === 'bigint') return 10;
  if (iv !== null) return listpackIntSize(iv);
  const enc = listpackStrEncodedSize(s.length);
  return enc + listpackBacklenSize(enc);
}
