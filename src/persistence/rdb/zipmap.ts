/**
 * Zipmaps (src/zipmap.c): the small-hash encoding of Redis before 2.6, RDB type 9. Read only.
 * Layout: `<zmlen> (<len>field<len><free>value<free bytes>)... 0xFF`; a length is one byte
 * below 254, else 254 followed by a u32le.
 */

const ZIPMAP_BIGLEN = 254;
const ZIPMAP_END = 255;

/**
 * Decodes the zipmap in bytes [start, start+size) of `buf`, validated as
 * zipmapValidateIntegrity(deep=1). Returns the flat [field, value, ...] list, or null when the
 * zipmap is invalid or empty.
 */
export function zipmapDecode(buf: Buffer, start: number, size: number): string[] | null {
  if (size < 2 || start + size > buf.length) return null;
  const last = start + size - 1;
  if (buf[last] !== ZIPMAP_END) return null;
  const out: string[] = [];
  let p = start + 1;
  const outOfRange = (q: number): boolean => q < start + 2 || q > last;
  let count = 0;
  while (buf[p] !== ZIPMAP_END) {
    if (p > last) return null;
    let s = buf[p]! < ZIPMAP_BIGLEN ? 1 : 5;
    if (outOfRange(p + s)) return null;
    let l = s === 1 ? buf[p]! : buf.readUInt32LE(p + 1);
    p += s;
    const f0 = p;
    p += l;
    if (outOfRange(p)) return null;
    const field = buf.latin1Slice(f0, p);
    s = buf[p]! < ZIPMAP_BIGLEN ? 1 : 5;
    if (outOfRange(p + s)) return null;
    l = s === 1 ? buf[p]! : buf.readUInt32LE(p + 1);
    p += s;
    const free = buf[p++]!;
    const v0 = p;
    p += l + free;
    count++;
    if (outOfRange(p)) return null;
    out.push(field, buf.latin1Slice(v0, v0 + l));
  }
  if (count === 0) return null;
  if (buf[start] !== ZIPMAP_BIGLEN && buf[start] !== count) return null;
  return out;
}
