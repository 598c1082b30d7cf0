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
 * @returns the compressed bytes, or null when they would not fit in `outLen` bytes
 */
export function lzfCompress(input: Uint8Array, outLen: number, start = 0, inLen = input.length - start): Buffer | null {
  if (inLen === 0 || outLen === 0) return null;
  if (base + inLen + 1 > 0x7ffffff0) {
    htab.fill(-1);
    base = 0;
  }
  const b = base;
  base += inLen + 1;
  const inp = start === 0 && inLen === input.length ? input : input.subarray(start, start + inLen);
  // slack: the C code may reserve a literal-length byte one past out_end before it gives up
  const out = Buffer.allocUnsafe(outLen + 4);
  const inEnd = inLen;
  let ip = 0;
  let op = 0;
  let lit = 0;
  op++; // start run
  let hval = (inp[0]! << 8) | (inLen > 1 ? inp[1]! : 0);
  while (ip < inEnd - 2) {
    hval = ((hval << 8) | inp[ip + 2]!) >>> 0;
    let slot = ((hval >>> (3 * 8 - HLOG)) - Math.imul(hval, 5)) & (HSIZE - 1);
    const stored = htab[slot]!;
    htab[slot] = b + ip;
    const ref = stored >= b ? stored - b : -1;
    const off = ip - ref - 1;
    if (
      ref > 0 && // ref > in_data: a match at offset 0 is never used
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
      if (op + 3 + 1 >= outLen) return null;
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
      hval = ((hval << 8) | inp[ip + 2]!) >>> 0;
      slot = ((hval >>> (3 * 8 - HLOG)) - Math.imul(hval, 5)) & (HSIZE - 1);
      htab[slot] = b + ip;
      ip++;
      hval = ((hval << 8) | inp[ip + 2]!) >>> 0;
      slot = ((hval >>> (3 * 8 - HLOG)) - Math.imul(hval, 5)) & (HSIZE - 1);
      htab[slot] = b + ip;
      ip++;
    } else {
      if (op >= outLen) return null;
      lit++;
      out[op++] = inp[ip++]!;
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1; // stop run
        lit = 0;
        op++; // start run
      }
    }
  }
  if (op + 3 > outLen) return null; // at most 3 bytes can be missing here
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
  if (op > outLen) return null;
  return out.subarray(0, op);
}

/**
 * Decompresses bytes [start, end) of `input` into exactly `outLen` bytes (lzf_decompress plus the
 * length check of rdbLoadLzfStringObject).
 * @throws LzfError when the stream is malformed or does not expand to exactly `outLen` bytes
 */
export function lzfDecompress(input: Uint8Array, outLen: number, start = 0, end = input.length): Buffer {
  const out = Buffer.allocUnsafe(outLen);
  let ip = start;
  let op = 0;
  if (end <= start) throw new LzfError('Invalid LZF compressed string');
  do {
    let ctrl = input[ip++]!;
    if (ctrl < 1 << 5) {
      ctrl++;
      if (op + ctrl > outLen) throw new LzfError('Invalid LZF compressed string');
      if (ip + ctrl > end) throw new LzfError('Invalid LZF compressed string');
      if (ctrl < 16) {
        for (let k = 0; k < ctrl; k++) out[op++] = input[ip++]!;
      } else {
        out.set(input.subarray(ip, ip + ctrl), op);
        op += ctrl;
        ip += ctrl;
      }
    } else {
      let len = ctrl >> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (ip >= end) throw new LzfError('Invalid LZF compressed string');
      if (len === 7) {
        len += input[ip++]!;
        if (ip >= end) throw new LzfError('Invalid LZF compressed string');
      }
      ref -= input[ip++]!;
      if (op + len + 2 > outLen) throw new LzfError('Invalid LZF compressed string');
      if (ref < 0) throw new LzfError('Invalid LZF compressed string');
      len += 2;
      if (len > 32 && op - ref >= len) {
        out.copyWithin(op, ref, ref + len); // no overlap: one block copy
        op += len;
      } else {
        // overlapping references repeat bytes just written: copy forward byte by byte
        for (let k = 0; k < len; k++) out[op++] = out[ref++]!;
      }
    }
  } while (ip < end);
  if (op !== outLen) throw new LzfError('Invalid LZF compressed string');
  return out;
}
