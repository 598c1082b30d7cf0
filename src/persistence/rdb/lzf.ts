/**
 * LZF compression as Redis uses it for RDB strings (lzf_compress and lzf_decompress by Marc
 * Lehmann, built with HLOG 16 and VERY_FAST): the compressor follows lzf_compress step by step so
 * that its output matches Redis's for the same input; the decompressor is lzf_decompress with
 * CHECK_INPUT, and never reads or writes out of bounds.
 *
 * The compressor is liblzf 3.6's, the one Debian's redis-server 7.0.15 links (the reference
 * binary here): the copy bundled in Redis's source tree (src/lzf_c.c) also refuses a match that
 * starts in the input's last 4 bytes (`ip + 4 < in_end`), so for some inputs a Redis built from
 * source ends its output with a few literals where Debian's build has a back reference. Both
 * decompress to the same bytes with either decompressor; only DUMP payloads and RDB files differ.
 * test/compat/dump-restore.test.ts compares the DUMP payloads of 1,500 such strings with Redis's.
 *
 * Format: `000LLLLL` + L+1 literal bytes; `LLLooooo oooooooo` back reference of L+2 bytes at
 * distance o+1; `111ooooo LLLLLLLL oooooooo` back reference of L+9 bytes.
 */

const HLOG = 16;
const HSIZE = 1 << HLOG;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

/**
 * The hash table of positions. Instead of clearing 64K slots per call (INIT_HTAB), each call
 * stores positions offset by `base`, and slots below the current base count as empty.
 */
const htab = new Int32Array(HSIZE).fill(-1);
let base = 0;

/** A view for the short inputs and outputs that never use one. */
const NO_VIEW = new DataView(new ArrayBuffer(0));

/**
 * Inputs (compressing) and outputs (decompressing) shorter than this go byte by byte: making
 * the DataViews costs more than words save there (a million 100-byte values).
 */
const WORDS_MIN = 256;

/** Error of a malformed LZF stream. */
export class LzfError extends Error {}

/**
 * Compresses bytes [start, start+inLen) of `input` into at most `outLen` bytes
 * (lzf_compress(in, in_len, out, out_len)).
 * @returns the compressed bytes (a new buffer), or null when they would not fit in `outLen` bytes
 */
export function lzfCompress(input: Uint8Array, outLen: number, start = 0, inLen = input.length - start): Buffer | null {
  if (inLen === 0 || outLen === 0) return null;
  // slack: the C code may reserve a literal-length byte one past out_end before it gives up
  const out = Buffer.allocUnsafe(outLen + LZF_SLACK);
  const n = lzfCompressInto(input, start, inLen, out, 0, outLen);
  return n === 0 ? null : out.subarray(0, n);
}

/** Bytes past `outLen` that {@link lzfCompressInto} may touch before it gives up. */
export const LZF_SLACK = 4;

/**
 * lzf_compress writing into `out` at `outStart`, with no allocation: the encoder compresses
 * straight into its output buffer. `out` must have `outLen + LZF_SLACK` bytes from `outStart`.
 * @returns the number of compressed bytes, or 0 when they would not fit in `outLen` bytes
 */
export function lzfCompressInto(inp: Uint8Array, start: number, inLen: number, out: Uint8Array, outStart: number, outLen: number): number {
  if (inLen === 0 || outLen === 0) return 0;
  if (base + inLen + 1 > 0x7ffffff0) {
    htab.fill(-1);
    base = 0;
  }
  // positions are stored as b + (index in inp), so slots of earlier calls read as < b
  const b = base - start;
  base += inLen + 1;
  const inEnd = start + inLen;
  // unaligned little-endian 32-bit loads for comparing matches 4 bytes at a time
  const words = inLen >= WORDS_MIN;
  const dv = words ? new DataView(inp.buffer, inp.byteOffset, inp.byteLength) : NO_VIEW;
  const o0 = outStart;
  const oEnd = outStart + outLen;
  let ip = start;
  let op = o0;
  let lit = 0;
  op++; // start run
  let hval = (inp[ip]! << 8) | (inLen > 1 ? inp[ip + 1]! : 0);
  while (ip < inEnd - 2) {
    hval = (hval << 8) | inp[ip + 2]!; // int32 bits: unsigned arithmetic mod 2^16 below
    let slot = ((hval >>> (3 * 8 - HLOG)) - Math.imul(hval, 5)) & (HSIZE - 1);
    const stored = htab[slot]!;
    htab[slot] = b + ip;
    const ref = stored >= b + start ? stored - b : -1;
    const off = ip - ref - 1;
    if (
      ref > start && // ref > in_data: a match at offset 0 is never used
      ref < ip &&
      off < MAX_OFF &&
      inp[ref] === inp[ip] && inp[ref + 1] === inp[ip + 1] && inp[ref + 2] === inp[ip + 2]
    ) {
      let len = 2;
      let maxlen = inEnd - ip - len;
      if (maxlen > MAX_REF) maxlen = MAX_REF;
      out[op - lit - 1] = (lit - 1) & 0xff; // stop run
      if (lit === 0) op--; // undo run if length is zero
      if (op + 3 + 1 >= oEnd) return 0;
      // lzf_c.c's match length: the first mismatch at index 3 or later, capped at maxlen,
      // except that when maxlen > 16 its 16 unrolled steps compare up to index 18 before the
      // first maxlen test (so maxlen 17 or 18 acts as 19; those bytes are within the input).
      // Compared 4 bytes at a time: the first differing byte is the lowest set byte of the xor.
      const lim = maxlen === 17 || maxlen === 18 ? 19 : maxlen;
      len = 3;
      for (;;) {
        if (!words || len + 4 > lim) {
          while (len < lim && inp[ref + len] === inp[ip + len]) len++;
          break;
        }
        const x = dv.getInt32(ref + len, true) ^ dv.getInt32(ip + len, true);
        if (x !== 0) {
          len += (31 - Math.clz32(x & -x)) >> 3;
          break;
        }
        len += 4;
      }
      len -= 2; // len is now #octets - 1
      ip++;
      if (len < 7) {
        out[op++] = ((off >> 8) + (len << 5)) & 0xff;
      } else {
        out[op++] = ((off >> 8) + (7 << 5)) & 0xff;
        out[op++] = (len - 7) & 0xff;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++; // start run
      ip += len + 1;
      if (ip >= inEnd - 2) break;
      // VERY_FAST: rehash the two positions before the new ip
      ip -= 2;
      hval = (inp[ip]! << 8) | inp[ip + 1]!;
      hval = (hval << 8) | inp[ip + 2]!; // int32 bits: unsigned arithmetic mod 2^16 below
      slot = ((hval >>> (3 * 8 - HLOG)) - Math.imul(hval, 5)) & (HSIZE - 1);
      htab[slot] = b + ip;
      ip++;
      hval = (hval << 8) | inp[ip + 2]!; // int32 bits: unsigned arithmetic mod 2^16 below
      slot = ((hval >>> (3 * 8 - HLOG)) - Math.imul(hval, 5)) & (HSIZE - 1);
      htab[slot] = b + ip;
      ip++;
    } else {
      if (op >= oEnd) return 0;
      lit++;
      out[op++] = inp[ip++]!;
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1; // stop run
        lit = 0;
        op++; // start run
      }
    }
  }
  if (op + 3 > oEnd) return 0; // at most 3 bytes can be missing here
  while (ip < inEnd) {
    lit++;
    out[op++] = inp[ip++]!;
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  out[op - lit - 1] = (lit - 1) & 0xff; // end run
  if (lit === 0) op--; // undo run if length is zero
  if (op > oEnd) return 0;
  return op - o0;
}

/**
 * Decompresses bytes [start, end) of `input` into exactly `outLen` bytes (lzf_decompress plus the
 * length check of rdbLoadLzfStringObject).
 * @throws LzfError when the stream is malformed or does not expand to exactly `outLen` bytes
 */
export function lzfDecompress(input: Uint8Array, outLen: number, start = 0, end = input.length): Buffer {
  const out = Buffer.allocUnsafe(outLen);
  lzfDecompressInto(input, start, end, out, 0, outLen);
  return out;
}

/**
 * {@link lzfDecompress} into `out` at `outStart` (which must have room for `outLen` bytes), for
 * decoding into a reused scratch buffer.
 * @throws LzfError when the stream is malformed or does not expand to exactly `outLen` bytes
 */
export function lzfDecompressInto(input: Uint8Array, start: number, end: number, out: Uint8Array, outStart: number, outLen: number): void {
  if (outLen < WORDS_MIN) {
    lzfDecompressBytes(input, start, end, out, outStart, outLen);
    return;
  }
  let ip = start;
  let op = outStart;
  const oEnd = outStart + outLen;
  if (end <= start) throw new LzfError('Invalid LZF compressed string');
  // unaligned 32-bit loads and stores: literals and references are copied 4 bytes at a time
  const din = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const dout = new DataView(out.buffer, out.byteOffset, out.byteLength);
  do {
    let ctrl = input[ip++]!;
    if (ctrl < 1 << 5) {
      ctrl++;
      if (op + ctrl > oEnd) throw new LzfError('Invalid LZF compressed string');
      if (ip + ctrl > end) throw new LzfError('Invalid LZF compressed string');
      // at most 32 bytes: words in JS beat a subarray view and a native copy
      const litEnd = ip + ctrl;
      while (ip + 4 <= litEnd) {
        dout.setInt32(op, din.getInt32(ip, true), true);
        ip += 4;
        op += 4;
      }
      while (ip < litEnd) out[op++] = input[ip++]!;
    } else {
      let len = ctrl >> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (ip >= end) throw new LzfError('Invalid LZF compressed string');
      if (len === 7) {
        len += input[ip++]!;
        if (ip >= end) throw new LzfError('Invalid LZF compressed string');
      }
      ref -= input[ip++]!;
      if (op + len + 2 > oEnd) throw new LzfError('Invalid LZF compressed string');
      if (ref < outStart) throw new LzfError('Invalid LZF compressed string');
      len += 2;
      const refEnd = op + len;
      const dist = op - ref;
      if (dist === 1 && len > 16) {
        // a run of one byte (padding, repeated chars): one fill
        out.fill(out[ref]!, op, refEnd);
        op = refEnd;
      } else {
        if (dist >= 4) {
          // overlapping or not, a word read 4 or more bytes back holds bytes already written
          while (op + 4 <= refEnd) {
            dout.setInt32(op, dout.getInt32(ref, true), true);
            op += 4;
            ref += 4;
          }
        }
        // the tail, and distances 1 to 3 (repeating the bytes just written): byte by byte
        while (op < refEnd) out[op++] = out[ref++]!;
      }
    }
  } while (ip < end);
  if (op !== oEnd) throw new LzfError('Invalid LZF compressed string');
}

/** {@link lzfDecompressInto} byte by byte, for short outputs. */
function lzfDecompressBytes(input: Uint8Array, start: number, end: number, out: Uint8Array, outStart: number, outLen: number): void {
  let ip = start;
  let op = outStart;
  const oEnd = outStart + outLen;
  if (end <= start) throw new LzfError('Invalid LZF compressed string');
  do {
    let ctrl = input[ip++]!;
    if (ctrl < 1 << 5) {
      ctrl++;
      if (op + ctrl > oEnd) throw new LzfError('Invalid LZF compressed string');
      if (ip + ctrl > end) throw new LzfError('Invalid LZF compressed string');
      const litEnd = ip + ctrl;
      while (ip < litEnd) out[op++] = input[ip++]!;
    } else {
      let len = ctrl >> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (ip >= end) throw new LzfError('Invalid LZF compressed string');
      if (len === 7) {
        len += input[ip++]!;
        if (ip >= end) throw new LzfError('Invalid LZF compressed string');
      }
      ref -= input[ip++]!;
      if (op + len + 2 > oEnd) throw new LzfError('Invalid LZF compressed string');
      if (ref < outStart) throw new LzfError('Invalid LZF compressed string');
      len += 2;
      const refEnd = op + len;
      if (len > 16 && op - ref === 1) {
        // a run of one byte (padding, repeated chars): one fill
        out.fill(out[ref]!, op, refEnd);
        op = refEnd;
      } else {
        // overlapping references repeat bytes just written: copy forward byte by byte
        while (op < refEnd) out[op++] = out[ref++]!;
      }
    }
  } while (ip < end);
  if (op !== oEnd) throw new LzfError('Invalid LZF compressed string');
}
