/**
 * Decompression of Snappy's raw format (google/snappy format_description.txt), the compression
 * LevelDB applies to table blocks (block type 1). Only the store check (verify.ts) needs it, for
 * the index and metaindex blocks it walks; LevelDB itself decompresses everything else.
 */

/** Literals and copies up to this many bytes are moved a byte at a time (cheaper than a call). */
const SHORT = 32;

/**
 * The bytes a Snappy block decompresses to.
 * @throws Error naming the offset in `src` where the stream is malformed: a bad length preamble,
 *   an element running past the input, a copy reaching before the output's start, or an output
 *   longer or shorter than the preamble said
 */
export function snappyUncompress(src: Uint8Array): Uint8Array {
  let pos = 0;
  let len = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= src.length || shift > 28) throw new Error('bad uncompressed length');
    const c = src[pos++]!;
    len += (c & 127) * 2 ** shift;
    if (c < 128) break;
  }
  if (len > 0xffffffff) throw new Error('bad uncompressed length');
  const out = new Uint8Array(len);
  let op = 0;
  while (pos < src.length) {
    const at = pos;
    const tag = src[pos++]!;
    let n: number;
    let offset = 0;
    switch (tag & 3) {
      case 0: { // literal
        n = tag >>> 2;
        if (n >= 60) {
          const bytes = n - 59;
          if (pos + bytes > src.length) throw new Error(`literal length past the end at ${at}`);
          n = 0;
          for (let i = 0; i < bytes; i++) n += src[pos + i]! * 2 ** (8 * i);
          pos += bytes;
        }
        n += 1;
        if (pos + n > src.length) throw new Error(`literal past the end at ${at}`);
        if (op + n > len) throw new Error(`output longer than ${len} bytes at ${at}`);
        // an index block is mostly literals of a few bytes: a loop, not a subarray and a set each
        if (n <= SHORT) {
          for (let i = 0; i < n; i++) out[op + i] = src[pos + i]!;
        } else {
          out.set(src.subarray(pos, pos + n), op);
        }
        pos += n;
        op += n;
        continue;
      }
      case 1:
        if (pos + 1 > src.length) throw new Error(`copy past the end at ${at}`);
        n = ((tag >>> 2) & 7) + 4;
        offset = ((tag >>> 5) << 8) | src[pos++]!;
        break;
      case 2:
        if (pos + 2 > src.length) throw new Error(`copy past the end at ${at}`);
        n = (tag >>> 2) + 1;
        offset = src[pos]! | (src[pos + 1]! << 8);
        pos += 2;
        break;
      default:
        if (pos + 4 > src.length) throw new Error(`copy past the end at ${at}`);
        n = (tag >>> 2) + 1;
        offset = (src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16) | (src[pos + 3]! << 24)) >>> 0;
        pos += 4;
        break;
    }
    if (offset === 0 || offset > op) throw new Error(`copy from before the start at ${at}`);
    if (op + n > len) throw new Error(`output longer than ${len} bytes at ${at}`);
    if (offset >= n && n > SHORT) {
      out.copyWithin(op, op - offset, op - offset + n);
      op += n;
    } else {
      // byte by byte: a short copy, or one that overlaps what it writes (a repeated pattern)
      for (let i = 0; i < n; i++, op++) out[op] = out[op - offset]!;
    }
  }
  if (op !== len) throw new Error(`output of ${op} bytes where ${len} were announced`);
  return out;
}
