/**
 * The word-at-a-time LZF paths (issue 5) against byte-at-a-time references: the compressor's
 * match-length search (4 bytes per step, with lzf_c.c's unrolled-16 quirk at maxlen 17 and 18)
 * must give the same bytes as the step-by-step port it replaced, and the decompressor's word
 * copies (literals, references at distance >= 4) the same output and the same errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lzfCompressInto, lzfDecompressInto, LzfError, LZF_SLACK } from '../../src/persistence/rdb/lzf.js';

const HSIZE = 1 << 16;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

/**
 * liblzf 3.6's lzf_compress step by step (the implementation before the word compare, without the
 * `ip + 4 < in_end` test of Redis's bundled copy: see lzf.ts), fresh table per call.
 */
function refCompress(inp: Uint8Array, outLen: number): Buffer | null {
  const inLen = inp.length;
  if (inLen === 0 || outLen === 0) return null;
  const htab = new Int32Array(HSIZE).fill(-1);
  const out = Buffer.alloc(outLen + LZF_SLACK);
  const inEnd = inLen;
  let ip = 0;
  let op = 1;
  let lit = 0;
  let hval = (inp[0]! << 8) | (inLen > 1 ? inp[1]! : 0);
  const idx = (h: number): number => ((h >>> 8) - Math.imul(h, 5)) & (HSIZE - 1);
  while (ip < inEnd - 2) {
    hval = (hval << 8) | inp[ip + 2]!;
    const slot = idx(hval);
    const ref = htab[slot]!;
    htab[slot] = ip;
    const off = ip - ref - 1;
    if (ref > 0 && ref < ip && off < MAX_OFF &&
      inp[ref] === inp[ip] && inp[ref + 1] === inp[ip + 1] && inp[ref + 2] === inp[ip + 2]) {
      let len = 2;
      let maxlen = inEnd - ip - len;
      if (maxlen > MAX_REF) maxlen = MAX_REF;
      out[op - lit - 1] = (lit - 1) & 0xff;
      if (lit === 0) op--;
      if (op + 3 + 1 >= outLen) return null;
      let mismatch = false;
      if (maxlen > 16) {
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
      len -= 2;
      ip++;
      if (len < 7) {
        out[op++] = ((off >> 8) + (len << 5)) & 0xff;
      } else {
        out[op++] = ((off >> 8) + (7 << 5)) & 0xff;
        out[op++] = (len - 7) & 0xff;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++;
      ip += len + 1;
      if (ip >= inEnd - 2) break;
      ip -= 2;
      hval = (inp[ip]! << 8) | inp[ip + 1]!;
      hval = (hval << 8) | inp[ip + 2]!;
      htab[idx(hval)] = ip;
      ip++;
      hval = (hval << 8) | inp[ip + 2]!;
      htab[idx(hval)] = ip;
      ip++;
    } else {
      if (op >= outLen) return null;
      lit++;
      out[op++] = inp[ip++]!;
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1;
        lit = 0;
        op++;
      }
    }
  }
  if (op + 3 > outLen) return null;
  while (ip < inEnd) {
    lit++;
    out[op++] = inp[ip++]!;
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  out[op - lit - 1] = (lit - 1) & 0xff;
  if (lit === 0) op--;
  if (op > outLen) return null;
  return out.subarray(0, op);
}

/** lzf_decompress byte by byte (the implementation before the word copies). */
function refDecompress(input: Uint8Array, outLen: number): Buffer {
  const out = Buffer.alloc(outLen);
  let ip = 0;
  let op = 0;
  const end = input.length;
  if (end === 0) throw new LzfError('Invalid LZF compressed string');
  do {
    let ctrl = input[ip++]!;
    if (ctrl < 32) {
      ctrl++;
      if (op + ctrl > outLen || ip + ctrl > end) throw new LzfError('Invalid LZF compressed string');
      while (ctrl--) out[op++] = input[ip++]!;
    } else {
      let len = ctrl >> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (ip >= end) throw new LzfError('Invalid LZF compressed string');
      if (len === 7) {
        len += input[ip++]!;
        if (ip >= end) throw new LzfError('Invalid LZF compressed string');
      }
      ref -= input[ip++]!;
      if (op + len + 2 > outLen || ref < 0) throw new LzfError('Invalid LZF compressed string');
      len += 2;
      while (len--) out[op++] = out[ref++]!;
    }
  } while (ip < end);
  if (op !== outLen) throw new LzfError('Invalid LZF compressed string');
  return out;
}

/** lzfCompressInto at an odd offset of a larger buffer (as the encoder calls it). */
function compressAt(inp: Uint8Array, outLen: number): Buffer | null {
  // the input at an odd offset too: the word loads must not assume alignment
  const src = Buffer.alloc(inp.length + 3);
  src.set(inp, 3);
  const out = Buffer.alloc(outLen + LZF_SLACK + 7);
  const n = lzfCompressInto(src, 3, inp.length, out, 5, outLen);
  return n === 0 ? null : Buffer.from(out.subarray(5, 5 + n));
}

/** Inputs rich in matches of every length around the quirks (16..20, 262..266, long runs). */
const matchy = fc.tuple(
  fc.uint8Array({ minLength: 1, maxLength: 40 }),
  fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 })), { maxLength: 30 }),
).map(([seed, ops]) => {
  const b: number[] = [...seed];
  for (const [len, kind, v] of ops) {
    if (kind === 0) for (let i = 0; i < len; i++) b.push(b[b.length - 1 - (v % Math.min(b.length, 40))]!); // a repeat
    else if (kind === 1) for (let i = 0; i < len % 40; i++) b.push((v + i * 7) & 0xff); // fresh bytes
    else if (kind === 2) for (let i = 0; i < len; i++) b.push(v); // a run
    else b.push(...b.slice(0, len)); // a copy of the start (a far match)
  }
  return Uint8Array.from(b);
});

test('LZF compressor: same bytes as the step-by-step port, for every output budget', () => {
  fc.assert(fc.property(fc.oneof(matchy, fc.uint8Array({ minLength: 1, maxLength: 3000 })), fc.integer({ min: 0, max: 100 }), (inp, cut) => {
    for (const outLen of [inp.length + 64, Math.max(1, inp.length - 4), Math.max(1, Math.floor((inp.length * cut) / 100))]) {
      assert.deepEqual(compressAt(inp, outLen), refCompress(inp, outLen));
    }
  }), { numRuns: 1500 });
});

test('LZF compressor: matches that end exactly at maxlen 17 and 18 (the unrolled-16 quirk)', () => {
  // a 3-byte seed, then a copy of it running to the end of the input, at every length near the
  // point where maxlen (input left after the match start, minus 2) is 16 to 20 or MAX_REF
  for (let tail = 10; tail < 300; tail++) {
    for (const period of [1, 2, 3, 4, 5, 7, 13]) {
      const inp = Uint8Array.from({ length: 3 + period + tail }, (_, i) => (i < 3 ? 200 + i : (i * 37) % period + 1));
      const inp2 = Uint8Array.from(inp, (v, i) => (i === inp.length - 1 ? 255 - v : v)); // last byte differs
      for (const x of [inp, inp2]) assert.deepEqual(compressAt(x, x.length + 64), refCompress(x, x.length + 64), `tail ${tail} period ${period}`);
    }
  }
});

test('LZF compressor: back to back calls give the same bytes as a fresh table each time', () => {
  const inputs = Array.from({ length: 200 }, (_, k) => Buffer.from(Array.from({ length: 100 }, (_, i) => `f${i % 9}-${k}`).join('|')));
  for (const inp of inputs) assert.deepEqual(compressAt(inp, inp.length - 4), refCompress(inp, inp.length - 4));
});

test('LZF decompressor: word copies give the byte-by-byte output, and the same errors', () => {
  fc.assert(fc.property(fc.oneof(matchy, fc.uint8Array({ minLength: 1, maxLength: 2000 })), fc.nat(), fc.integer({ min: -2, max: 2 }), (inp, flip, delta) => {
    const c = refCompress(inp, inp.length + 64)!;
    const run = (fn: () => Buffer): string => {
      try {
        return fn().toString('hex');
      } catch (e) {
        assert.ok(e instanceof LzfError);
        return 'LzfError';
      }
    };
    const mine = (src: Uint8Array, n: number) => (): Buffer => {
      // output at an odd offset of a larger buffer, input at an odd offset too
      const s = Buffer.alloc(src.length + 1);
      s.set(src, 1);
      const out = Buffer.alloc(n + 9);
      lzfDecompressInto(s, 1, 1 + src.length, out, 3, n);
      return Buffer.from(out.subarray(3, 3 + n));
    };
    assert.equal(run(mine(c, inp.length)), Buffer.from(inp).toString('hex'));
    // corrupt one bit, and/or claim another length: same result or same refusal
    const bad = Buffer.from(c);
    bad[flip % bad.length]! ^= 1 << (flip % 8);
    const n = Math.max(0, inp.length + delta);
    assert.equal(run(mine(bad, n)), run(() => refDecompress(bad, n)));
    assert.equal(run(mine(c, n)), run(() => refDecompress(c, n)));
  }), { numRuns: 1500 });
});

test('LZF decompressor: references at distances 1 to 8 of every length, short and long outputs', () => {
  for (let dist = 1; dist <= 8; dist++) {
    for (let len = 3; len <= 270; len += 1) {
      // literal run of `dist` bytes, then one back reference of `len` bytes at distance `dist`
      const lit = Array.from({ length: dist }, (_, i) => 10 + i);
      const l = len - 2;
      const off = dist - 1;
      const refBytes = l < 7 ? [(l << 5) | (off >> 8), off & 0xff] : [(7 << 5) | (off >> 8), l - 7, off & 0xff];
      if (l - 7 > 255) continue;
      for (const pre of [0, 10]) {
        // with `pre` runs of 32 literal bytes before: outputs of 256 bytes and more take the
        // word-copy path, shorter ones the byte path
        const prefix: number[] = [];
        for (let r = 0; r < pre; r++) prefix.push(31, ...Array.from({ length: 32 }, (_, i) => (r * 32 + i) & 0xff));
        const c = Uint8Array.from([...prefix, dist - 1, ...lit, ...refBytes]);
        const n = pre * 32 + dist + len;
        const want = refDecompress(c, n);
        const out = Buffer.alloc(n);
        lzfDecompressInto(c, 0, c.length, out, 0, n);
        assert.deepEqual(out, want, `dist ${dist} len ${len} prefix ${pre}`);
      }
    }
  }
});
