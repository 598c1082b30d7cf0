/**
 * Bytes an element takes in a Redis 7.0 listpack, back-length included (lpEncodeGetType,
 * lpEncodeIntegerGetType and lpEncodeBacklen of src/listpack.c), for the node layouts the keyspace
 * keeps of lists (quicklist-layout.ts) and streams (stream.ts). persistence/rdb/listpack.ts has the
 * encoder's own copy (lpElementSize): the keyspace does not depend on persistence.
 */
import { parseInteger } from '../../util/number.js';

/** lpEncodeBacklen: bytes of the back-length of an entry whose encoding and data take `l` bytes. */
export function listpackBacklenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/** Bytes of the integer entry `v` (a JS number: beyond int32 it takes the 64-bit encoding). */
export function listpackIntSize(v: number): number {
  if (v >= 0 && v <= 127) return 2;
  if (v >= -4096 && v <= 4095) return 3;
  if (v >= -32768 && v <= 32767) return 4;
  if (v >= -8388608 && v <= 8388607) return 5;
  if (v >= -2147483648 && v <= 2147483647) return 6;
  return 10;
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
  const n = s.length;
  const enc = n < 64 ? 1 + n : n < 4096 ? 2 + n : 5 + n;
  return enc + listpackBacklenSize(enc);
}
