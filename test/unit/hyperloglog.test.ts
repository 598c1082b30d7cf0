/**
 * HyperLogLog internals: MurmurHash64A against vectors computed with Redis's C function, the
 * 6-bit register packing of HLL_DENSE_GET_REGISTER/SET against a bit-by-bit model, the hash to
 * (register, run length) mapping against a BigInt model, and estimator edge cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { murmurHash64ABig, murmurHash64AU64, murmurHi, murmurLo } from '../../src/util/murmur64a.js';
import { hllTesting, HLL_DENSE_SIZE, EMPTY_HLL, isHLLString } from '../../src/commands/hyperloglog.js';

const SEED = 0xadc83b19;

// MurmurHash64A(key, len, 0xadc83b19) computed by the C code of src/hyperloglog.c (gcc, x86-64).
const VECTORS: Array<[string, string]> = [
  ['', 'd8dfea6585bc9732'],
  ['a', '53d2470a9b43b1a7'],
  ['ab', '0eaed676437142cf'],
  ['abc', '77ec90aeb374e502'],
  ['abcd', 'b079ee3d44202b3e'],
  ['abcde', '52a7daa2324a0e8e'],
  ['abcdef', '3a4f3a74f538b54f'],
  ['abcdefg', '22fe613bb08c9602'],
  ['abcdefgh', 'f3a65df559914567'],
  ['abcdefghi', '834fba4d9152daf7'],
  ['hello world, this is a longer key!', '365221ed612d21cf'],
  ['\xff\xfe\x80\x00\x01zz', 'fa2de0e87bfa10c5'],
  ['12345678901234567', 'c535f864a8602e5e'],
];

const M = 0xc6a4a7935bd1e995n;
const MASK = (1n << 64n) - 1n;

/** The C code transcribed with BigInt, as an independent model. */
function murmurModel(s: string, seed: number): bigint {
  const len = s.length;
  let h = (BigInt(seed) ^ ((BigInt(len) * M) & MASK)) & MASK;
  const blocks = len - (len & 7);
  for (let i = 0; i < blocks; i += 8) {
    let k = 0n;
    for (let b = 7; b >= 0; b--) k = (k << 8n) | BigInt(s.charCodeAt(i + b));
    k = (k * M) & MASK;
    k ^= k >> 47n;
    k = (k * M) & MASK;
    h ^= k;
    h = (h * M) & MASK;
  }
  const rest = len & 7;
  if (rest) {
    for (let b = rest - 1; b >= 0; b--) h ^= BigInt(s.charCodeAt(blocks + b)) << BigInt(8 * b);
    h = (h * M) & MASK;
  }
  h ^= h >> 47n;
  h = (h * M) & MASK;
  h ^= h >> 47n;
  return h;
}

test('MurmurHash64A known vectors (seed 0xadc83b19)', () => {
  for (const [s, hex] of VECTORS) {
    assert.equal(murmurHash64ABig(s, SEED).toString(16).padStart(16, '0'), hex, JSON.stringify(s));
  }
});

test('MurmurHash64A agrees with a BigInt model on random byte strings and seeds', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 70 }), fc.nat(0xffffffff), (bytes, seed) => {
      const s = Buffer.from(bytes).latin1Slice();
      assert.equal(murmurHash64ABig(s, seed), murmurModel(s, seed));
    }),
    { numRuns: 500 },
  );
});

test('MurmurHash64A of a uint64 equals the hash of its 8 little-endian bytes', () => {
  fc.assert(
    fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), (hi, lo) => {
      const b = Buffer.alloc(8);
      b.writeUInt32LE(lo, 0);
      b.writeUInt32LE(hi, 4);
      murmurHash64AU64(hi, lo, SEED);
      const got = (BigInt(murmurHi) << 32n) | BigInt(murmurLo);
      assert.equal(got, murmurModel(b.latin1Slice(), SEED));
    }),
    { numRuns: 200 },
  );
});

test('hllPatLen: register = low 14 bits, count = trailing zeros of hash >> 14 (+1), at most 51', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 30 }), (str) => {
      const s = Buffer.from(str, 'utf8').latin1Slice();
      const h = murmurModel(s, SEED);
      let x = (h >> 14n) | (1n << 50n);
      let count = 1;
      while ((x & 1n) === 0n) {
        count++;
        x >>= 1n;
      }
      assert.deepEqual(hllTesting.patLen(s), [Number(h & 16383n), count]);
    }),
    { numRuns: 500 },
  );
});

/** Bit-level model of the dense layout: register i occupies bits 6i..6i+5, LSB first, from byte 16. */
function modelGet(b: Uint8Array, i: number): number {
  let v = 0;
  for (let k = 0; k < 6; k++) {
    const bit = 6 * i + k;
    if (b[16 + (bit >> 3)]! & (1 << (bit & 7))) v |= 1 << k;
  }
  return v;
}

test('dense register packing matches the bit layout and leaves neighbours alone', () => {
  const b = new Uint8Array(HLL_DENSE_SIZE + 1);
  const model = new Uint8Array(16384);
  let seed = 1;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 16384; i++) {
      const v = rnd() & 63;
      model[i] = v;
      hllTesting.denseSetRaw(b, i, v);
    }
    for (let i = 0; i < 16384; i++) {
      assert.equal(hllTesting.denseGet(b, i), model[i]);
      assert.equal(modelGet(b, i), model[i]);
    }
  }
  // the terminator byte after the registers is never written
  assert.equal(b[HLL_DENSE_SIZE], 0);
  // register 1 is bits 6..7 of byte 16 and 0..3 of byte 17 ("11000000|22221111")
  const z = new Uint8Array(HLL_DENSE_SIZE + 1);
  hllTesting.denseSetRaw(z, 1, 63);
  assert.deepEqual([z[16], z[17], z[18]], [0xc0, 0x0f, 0]);
  hllTesting.denseSetRaw(z, 2, 63);
  assert.deepEqual([z[17], z[18]], [0xff, 0x03]);
});

test('estimator edge cases', () => {
  const regs = new Uint8Array(16384);
  assert.equal(hllTesting.countRegisters(regs), 0);
  regs[100] = 1;
  assert.equal(hllTesting.countRegisters(regs), 1);
  regs.fill(63);
  // an infinite estimate: llroundl overflows to LLONG_MIN in Redis
  assert.equal(hllTesting.countRegisters(regs), -1);
});

test('HLL string validation', () => {
  assert.ok(isHLLString(EMPTY_HLL));
  assert.ok(!isHLLString('HYLL'));
  assert.ok(!isHLLString('HYLL\x02' + '\0'.repeat(13)));
  assert.ok(!isHLLString('HYLL\x00' + '\0'.repeat(13)));
  assert.ok(isHLLString('HYLL\x00' + '\0'.repeat(HLL_DENSE_SIZE - 5)));
  assert.ok(!isHLLString('HYLX\x01' + '\0'.repeat(13)));
});
