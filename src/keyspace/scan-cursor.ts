/**
 * The cursor of a SCAN-family step over a linear-hashing table of `mask + 1` base segments (the
 * keyspace's segments in database.ts, the hash and set tables in types/dict.ts, a zset's member
 * table in types/zset.ts): dictScan's reverse-binary increment (Redis's dict.c). The bucket index
 * `i` (below `mask + 1`) has its bits reversed, is incremented and reversed back, so that the
 * buckets a grown table split a bucket into come after it: a key present for a whole scan is
 * returned at least once while the table grows.
 * @returns the next cursor, below `mask + 1`; 0 once every bucket has been visited
 */
export function nextScanCursor(i: number, mask: number): number {
  let v = i | ~mask;
  v = rev32(v);
  v = (v + 1) | 0;
  v = rev32(v);
  return (v & mask) >>> 0;
}

/** The 32 bits of `v` in reverse order (dict.c rev()), as an unsigned integer. */
function rev32(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  v = (v >>> 16) | (v << 16);
  return v >>> 0;
}
