/**
 * LZF compression as Redis uses it for RDB strings (src/lzf_c.c, src/lzf_d.c by Marc Lehmann,
 * built with HLOG 16 and VERY_FAST): the compressor follows lzf_compress step by step so that
 * its output matches Redis's for the same input; the decompressor is lzf_decompress with
 * CHECK_INPUT, and never reads or writes out of bounds.
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
      ip + 4 < inEnd &&
      inp[ref] === inp[ip] && inp[ref + 1] === inp[ip + 1] && inp[ref + 2] === inp[ip + 2]
    ) {
      let len = 2;
      let maxlen = inEnd - ip - len;
      if (maxlen > MAX_REF) maxlen = MAX_REF;
      out[op - lit - 1] = (lit - 1) & 0xff; // stop run
      if (lit === 0) op--; // undo run if length is zero
      if (op + 3 + 1 >= oEnd) return 0;
      let mismatch = false;
      if (maxlen > 16) {
        // the unrolled part of lzf_c.c: 16 steps without the maxlen test
        for (let k = 0; k < 16; k++) {
          len++;
          if (inp[ref + len] !== inp[ip + len]) {
            mismatch = true;
            break;
          }
        }
      }
      if (!mismatch) {
        do len++;
        while (len < maxlen && inp[ref + len] === inp[ip + len]);
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
      // at most 32 bytes: a loop beats a subarray view and a native copy
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
      if (len > 32 && op - ref >= len) {
        out.copyWithin(op, ref, ref + len); // no overlap: one block copy
        op += len;
      } else if (len > 16 && op - ref === 1) {
        // a run of one byte (padding, repeated chars): one fill
        out.fill(out[ref]!, op, op + len);
        op += len;
      } else {
        // overlapping references repeat bytes just written: copy forward byte by byte
        const refEnd = op + len;
        while (op < refEnd) out[op++] = out[ref++]!;
      }
    }
  } while (ip < end);
  if (op !== oEnd) throw new LzfError('Invalid LZF compressed string');
}
