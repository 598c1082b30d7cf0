/**
 * MurmurHash64A (MurmurHash2, 64-bit version) exactly as Redis 7.0 computes it in
 * src/hyperloglog.c: the endian-neutral variant that reads 8-byte blocks little-endian.
 *
 * JS has no 64-bit integer arithmetic without BigInt, and BigInt allocates on every operation, so
 * the hash works on two unsigned 32-bit halves. The result is left in {@link murmurHi} and
 * {@link murmurLo} (module state, read right after the call) so that hashing allocates nothing:
 * PFADD hashes every element on its hot path.
 */

/** m = 0xc6a4a7935bd1e995 as two 32-bit halves. */
const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;

/** High 32 bits of the last hash, unsigned. */
export let murmurHi = 0;
/** Low 32 bits of the last hash, unsigned. */
export let murmurLo = 0;

// Product of the last mulM call.
let pHi = 0;
let pLo = 0;

/** (hi:lo) * m mod 2^64 into pHi:pLo. Both inputs unsigned or signed 32-bit, output unsigned. */
function mulM(hi: number, lo: number): void {
  const a0 = lo & 0xffff;
  const a1 = lo >>> 16;
  // M_LO = 0x5bd1e995: b0 = 0xe995, b1 = 0x5bd1
  const p00 = a0 * 0xe995;
  const p01 = a0 * 0x5bd1;
  const p10 = a1 * 0xe995;
  const p11 = a1 * 0x5bd1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  pLo = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  // high half of lo * M_LO, plus the cross products that land in the high word (mod 2^32)
  const carry = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  pHi = (carry + Math.imul(lo, M_HI) + Math.imul(hi, M_LO)) >>> 0;
}

/**
 * MurmurHash64A of the bytes of `s` (a latin1 string: one char per byte) with a 32-bit `seed`.
 * Sets {@link murmurHi} and {@link murmurLo}.
 */
export function murmurHash64A(s: string, seed: number): void {
  const len = s.length;
  // h = seed ^ (len * m)
  mulM(0, len);
  let hHi = pHi;
  let hLo = (pLo ^ seed) >>> 0;
  const blocks = len - (len & 7);
  let i = 0;
  while (i < blocks) {
    let kLo = (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)) >>> 0;
    let kHi = (s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 8) | (s.charCodeAt(i + 6) << 16) | (s.charCodeAt(i + 7) << 24)) >>> 0;
    i += 8;
    // k *= m; k ^= k >> 47; k *= m
    mulM(kHi, kLo);
    kHi = pHi;
    kLo = (pLo ^ (pHi >>> 15)) >>> 0;
    mulM(kHi, kLo);
    // h ^= k; h *= m
    mulM(hHi ^ pHi, hLo ^ pLo);
    hHi = pHi;
    hLo = pLo;
  }
  const rest = len & 7;
  if (rest !== 0) {
    // the fall-through switch: bytes 4..6 go to the high word, 0..3 to the low word
    let xHi = 0;
    let xLo = 0;
    if (rest >= 7) xHi |= s.charCodeAt(i + 6) << 16;
    if (rest >= 6) xHi |= s.charCodeAt(i + 5) << 8;
    if (rest >= 5) xHi |= s.charCodeAt(i + 4);
    if (rest >= 4) xLo |= s.charCodeAt(i + 3) << 24;
    if (rest >= 3) xLo |= s.charCodeAt(i + 2) << 16;
    if (rest >= 2) xLo |= s.charCodeAt(i + 1) << 8;
    xLo |= s.charCodeAt(i);
    mulM(hHi ^ xHi, hLo ^ xLo);
    hHi = pHi;
    hLo = pLo;
  }
  // h ^= h >> 47; h *= m; h ^= h >> 47
  mulM(hHi, hLo ^ (hHi >>> 15));
  murmurHi = pHi;
  murmurLo = (pLo ^ (pHi >>> 15)) >>> 0;
}

/** MurmurHash64A of `s` with `seed` as an unsigned 64-bit bigint (tests, debugging). */
export function murmurHash64ABig(s: string, seed: number): bigint {
  murmurHash64A(s, seed);
  return (BigInt(murmurHi) << 32n) | BigInt(murmurLo);
}

/**
 * MurmurHash64A of the 8 bytes of the unsigned 64-bit integer (hi:lo) stored little-endian, as
 * PFSELFTEST hashes its elements; sets {@link murmurHi} and {@link murmurLo}.
 */
export function murmurHash64AU64(hi: number, lo: number, seed: number): void {
  mulM(0, 8);
  let hHi = pHi;
  let hLo = (pLo ^ seed) >>> 0;
  mulM(hi, lo);
  const kHi = pHi;
  const kLo = (pLo ^ (pHi >>> 15)) >>> 0;
  mulM(kHi, kLo);
  mulM(hHi ^ pHi, hLo ^ pLo);
  hHi = pHi;
  hLo = pLo;
  mulM(hHi, hLo ^ (hHi >>> 15));
  murmurHi = pHi;
  murmurLo = (pLo ^ (pHi >>> 15)) >>> 0;
}
