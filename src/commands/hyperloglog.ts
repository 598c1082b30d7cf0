/**
 * HyperLogLog commands (src/hyperloglog.c of Redis 7.0.15): PFADD, PFCOUNT, PFMERGE, PFDEBUG,
 * PFSELFTEST.
 *
 * An HLL is a plain string value, byte for byte Redis's format, so HLLs travel through GET/SET,
 * DUMP/RESTORE and RDB files between Amber and Redis:
 * - a 16-byte header: "HYLL", the encoding byte (0 dense, 1 sparse), 3 unused bytes, the cached
 *   cardinality as a little-endian uint64 whose most significant bit marks the cache invalid;
 * - dense: 16384 6-bit registers packed LSB first (HLL_DENSE_GET_REGISTER/SET), 12304 bytes;
 * - sparse: run-length opcodes ZERO (00xxxxxx), XZERO (01xxxxxx yyyyyyyy) and VAL (1vvvvvxx),
 *   promoted to dense when a register would exceed 32 or the string `hll-sparse-max-bytes`.
 * Elements are hashed with MurmurHash64A, seed 0xadc83b19; the cardinality is Ertl's estimator
 * (hllCount with hllTau/hllSigma), rounded as llroundl.
 *
 * Strings are immutable in JS, so a change works on a byte buffer and stores the new string with
 * the keyspace gate. The dense buffer is kept between commands together with the string it holds
 * ({@link denseStr}): a run of PFADDs on one dense HLL neither re-copies it nor allocates, and a
 * PFADD that changes no register reads the string in place and writes nothing.
 *
 * Deviation: when PFADD meets a corrupted sparse HLL after having changed some registers, Redis
 * keeps those in-place changes (unsignalled) and replies INVALIDOBJ; Amber replies the same error
 * and changes nothing.
 */
import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { ERR } from '../server/dispatch.js';
import { STR_RAW } from '../keyspace/database.js';
import { NOTIFY_STRING } from '../keyspace/notify.js';
import { murmurHash64A, murmurHash64AU64, murmurHi, murmurLo } from '../util/murmur64a.js';

const HLL_P = 14;
const HLL_Q = 64 - HLL_P;
const HLL_REGISTERS = 1 << HLL_P;
const HLL_P_MASK = HLL_REGISTERS - 1;
const HLL_REGISTER_MAX = 63;
const HLL_HDR_SIZE = 16;
/** HLL_DENSE_SIZE: header plus 16384 * 6 bits. */
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + ((HLL_REGISTERS * 6 + 7) >> 3);
const HLL_DENSE = 0;
const HLL_SPARSE = 1;
const HLL_SPARSE_VAL_MAX_VALUE = 32;
const HLL_SPARSE_VAL_MAX_LEN = 4;
const HLL_SPARSE_ZERO_MAX_LEN = 64;
const HLL_SPARSE_XZERO_MAX_LEN = 16384;
/** 0.5 / ln(2) */
const HLL_ALPHA_INF = 0.72134752044448170368;
const HLL_SEED = 0xadc83b19;
/** Byte 15 (card[7]) bit 7: the cached cardinality is invalid. */
const CARD_MSB = 15;

const INVALID_HLL_ERR = 'INVALIDOBJ Corrupted HLL object detected';
const WRONGTYPE_HLL_ERR = 'WRONGTYPE Key is not a valid HyperLogLog string value.';
const LLONG_MIN_STR = '-9223372036854775808';

/** createHLLObject: an empty sparse HLL (one XZERO:16384), its cached cardinality 0 and valid. */
export const EMPTY_HLL = 'HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff';

// ---- working buffers -------------------------------------------------------------------------

/** The dense working buffer: HLL_DENSE_SIZE bytes plus the NUL that sds strings end with. */
const denseBuf = Buffer.alloc(HLL_DENSE_SIZE + 1);
/** The string whose bytes {@link denseBuf} holds, or null while they differ from any string. */
let denseStr: string | null = null;
/** The sparse working buffer (grown on demand); byte `wlen` is always 0, as sds's terminator. */
let sparseBuf = Buffer.alloc(4096);
/** The buffer of the HLL being worked on ({@link denseBuf} or {@link sparseBuf}) and its length. */
let wb: Buffer = denseBuf;
let wlen = 0;
/** hll-sparse-max-bytes for the running command. */
let sparseMaxBytes = 3000;
/** The opcode sequence replacing a split opcode in hllSparseSet (at most 5 bytes). */
const seqBuf = new Uint8Array(5);
/** Register index of the last {@link hllPatLen}. */
let patIndex = 0;
/** Register histogram (hllCount's reghisto), 64 slots as in Redis. */
const reghisto = new Int32Array(64);
/** Merge target of PFCOUNT with several keys and PFMERGE: one byte per register. */
const maxRegs = new Uint8Array(HLL_REGISTERS);
/** Set by the sparse histogram when the representation is invalid. */
let histoInvalid = false;

/** Loads `s` (an HLL string) as the work: dense into denseBuf (reused when it already holds s). */
function loadWork(s: string): void {
  if (s.charCodeAt(4) === HLL_DENSE) {
    if (s !== denseStr) {
      denseBuf.latin1Write(s, 0);
      denseStr = s;
    }
    wb = denseBuf;
    wlen = HLL_DENSE_SIZE;
  } else {
    const n = s.length;
    if (sparseBuf.length < n + 8) sparseBuf = Buffer.alloc(Math.max(n + 8, sparseBuf.length * 2));
    sparseBuf.latin1Write(s, 0);
    sparseBuf[n] = 0;
    wb = sparseBuf;
    wlen = n;
  }
}

/** The work as a string; the dense buffer is then known to hold it. */
function workString(): string {
  const s = wb.latin1Slice(0, wlen);
  if (wb === denseBuf) denseStr = s;
  return s;
}

/** Marks the work about to change: the dense buffer no longer matches any string. */
function touchWork(): void {
  if (wb === denseBuf) denseStr = null;
}

function ensureSparseRoom(n: number): void {
  if (sparseBuf.length >= n + 1) return;
  const nb = Buffer.alloc(Math.max(n + 64, sparseBuf.length * 2));
  sparseBuf.copy(nb, 0, 0, wlen + 1);
  if (wb !== denseBuf) wb = nb;
  sparseBuf = nb;
}

// ---- hashing and registers -------------------------------------------------------------------

/**
 * hllPatLen: the length of the 000..1 pattern of the element's hash (1..51); the register index
 * goes to {@link patIndex}.
 */
function hllPatLen(ele: string): number {
  murmurHash64A(ele, HLL_SEED);
  return patFromHash(murmurHi, murmurLo);
}

function patFromHash(hi: number, lo: number): number {
  patIndex = lo & HLL_P_MASK;
  // hash >>= HLL_P; hash |= 1 << HLL_Q; count trailing zeros + 1
  const xLo = ((lo >>> HLL_P) | (hi << (32 - HLL_P))) >>> 0;
  if (xLo !== 0) return 32 - Math.clz32(xLo & -xLo);
  const xHi = (hi >>> HLL_P) | (1 << (HLL_Q - 32));
  return 64 - Math.clz32(xHi & -xHi);
}

/** HLL_DENSE_GET_REGISTER over a byte array whose registers start at HLL_HDR_SIZE. */
function denseGet(b: Uint8Array, regnum: number): number {
  const bit = regnum * 6;
  const byte = HLL_HDR_SIZE + (bit >> 3);
  const fb = bit & 7;
  return ((b[byte]! >> fb) | (b[byte + 1]! << (8 - fb))) & HLL_REGISTER_MAX;
}

/** HLL_DENSE_GET_REGISTER over the bytes of a string (a missing byte past the end reads 0). */
function denseGetStr(s: string, regnum: number): number {
  const bit = regnum * 6;
  const byte = HLL_HDR_SIZE + (bit >> 3);
  const fb = bit & 7;
  return ((s.charCodeAt(byte) >> fb) | (s.charCodeAt(byte + 1) << (8 - fb))) & HLL_REGISTER_MAX;
}

/** HLL_DENSE_SET_REGISTER. */
function denseSetRaw(b: Uint8Array, regnum: number, val: number): void {
  const bit = regnum * 6;
  const byte = HLL_HDR_SIZE + (bit >> 3);
  const fb = bit & 7;
  const fb8 = 8 - fb;
  b[byte] = (b[byte]! & ~(HLL_REGISTER_MAX << fb)) | (val << fb);
  b[byte + 1] = (b[byte + 1]! & ~(HLL_REGISTER_MAX >> fb8)) | (val >> fb8);
}

/** hllDenseSet: raises register `index` to `count`; 1 when it changed. */
function hllDenseSet(b: Uint8Array, index: number, count: number): number {
  if (count > denseGet(b, index)) {
    denseSetRaw(b, index, count);
    return 1;
  }
  return 0;
}

// ---- sparse representation ---------------------------------------------------------------------

/**
 * hllSparseToDense on the work: a sparse work becomes dense in {@link denseBuf}, the header (magic,
 * unused bytes, cached cardinality) copied. False when the sparse form is invalid (the work is then
 * unchanged). Follows 7.0: ZERO/XZERO runs are summed, a VAL run must stay within the registers.
 */
function sparseToDense(): boolean {
  if (wb[4] === HLL_DENSE) return true;
  const sp = wb;
  const end = wlen;
  // validate first so an invalid HLL leaves the dense buffer's string intact
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < end) {
    const op = sp[p]!;
    if ((op & 0xc0) === 0) {
      idx += (op & 0x3f) + 1;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      idx += (((op & 0x3f) << 8) | sp[p + 1]!) + 1;
      p += 2;
    } else {
      const runlen = (op & 3) + 1;
      if (runlen + idx > HLL_REGISTERS) break;
      idx += runlen;
      p++;
    }
  }
  if (idx !== HLL_REGISTERS) return false;
  const d = denseBuf;
  denseStr = null;
  d.fill(0);
  sp.copy(d, 0, 0, HLL_HDR_SIZE);
  d[4] = HLL_DENSE;
  idx = 0;
  p = HLL_HDR_SIZE;
  while (p < end) {
    const op = sp[p]!;
    if ((op & 0xc0) === 0) {
      idx += (op & 0x3f) + 1;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      idx += (((op & 0x3f) << 8) | sp[p + 1]!) + 1;
      p += 2;
    } else {
      let runlen = (op & 3) + 1;
      const regval = ((op >> 2) & 0x1f) + 1;
      while (runlen-- > 0) denseSetRaw(d, idx++, regval);
      p++;
    }
  }
  wb = d;
  wlen = HLL_DENSE_SIZE;
  return true;
}

/** The promote: label of hllSparseSet: to dense, then set the register there. */
function sparsePromote(index: number, count: number): number {
  if (!sparseToDense()) return -1;
  hllDenseSet(wb, index, count);
  return 1;
}

/**
 * hllSparseSet on the (sparse) work: raises register `index` to `count`. Returns 1 when the
 * register changed, 0 when not, -1 when the representation is invalid. May promote the work to
 * dense (a value over 32, or a growth past hll-sparse-max-bytes).
 */
function hllSparseSet(index: number, count: number): number {
  if (count > HLL_SPARSE_VAL_MAX_VALUE) return sparsePromote(index, count);
  ensureSparseRoom(wlen + 3);
  const b = wb;
  let p = HLL_HDR_SIZE;
  let end = wlen;
  let first = 0;
  let prev = -1;
  let span = 0;
  // Step 1: find the opcode covering `index`.
  while (p < end) {
    const op = b[p]!;
    let oplen = 1;
    if ((op & 0xc0) === 0) span = (op & 0x3f) + 1;
    else if (op & 0x80) span = (op & 3) + 1;
    else {
      span = (((op & 0x3f) << 8) | b[p + 1]!) + 1;
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span === 0 || p >= end) return -1;
  const op = b[p]!;
  let next = (op & 0xc0) === 0x40 ? p + 2 : p + 1;
  if (next >= end) next = -1;
  const isZero = (op & 0xc0) === 0;
  const isXzero = (op & 0xc0) === 0x40;
  const isVal = !isZero && !isXzero;
  const runlen = isZero ? (op & 0x3f) + 1 : isXzero ? (((op & 0x3f) << 8) | b[p + 1]!) + 1 : (op & 3) + 1;

  // Step 2: the easy in-place cases A, B, C.
  if (isVal) {
    const oldcount = ((op >> 2) & 0x1f) + 1;
    if (oldcount >= count) return 0;
    if (runlen === 1) {
      b[p] = ((count - 1) << 2) | 0x80;
      return sparseMergeAdjacent(prev);
    }
  }
  if (isZero && runlen === 1) {
    b[p] = ((count - 1) << 2) | 0x80;
    return sparseMergeAdjacent(prev);
  }

  // Case D: split the opcode into up to three (at most 5 bytes).
  const last = first + span - 1;
  const seq = seqBuf;
  let n = 0;
  if (isZero || isXzero) {
    if (index !== first) {
      const len = index - first;
      if (len > HLL_SPARSE_ZERO_MAX_LEN) {
        seq[n++] = ((len - 1) >> 8) | 0x40;
        seq[n++] = (len - 1) & 0xff;
      } else seq[n++] = len - 1;
    }
    seq[n++] = ((count - 1) << 2) | 0x80;
    if (index !== last) {
      const len = last - index;
      if (len > HLL_SPARSE_ZERO_MAX_LEN) {
        seq[n++] = ((len - 1) >> 8) | 0x40;
        seq[n++] = (len - 1) & 0xff;
      } else seq[n++] = len - 1;
    }
  } else {
    const curval = ((op >> 2) & 0x1f) + 1;
    if (index !== first) seq[n++] = ((curval - 1) << 2) | (index - first - 1) | 0x80;
    seq[n++] = ((count - 1) << 2) | 0x80;
    if (index !== last) seq[n++] = ((curval - 1) << 2) | (last - index - 1) | 0x80;
  }

  // Step 3: substitute the new sequence for the old opcode.
  const seqlen = n;
  const oldlen = isXzero ? 2 : 1;
  const deltalen = seqlen - oldlen;
  if (deltalen > 0 && wlen + deltalen > sparseMaxBytes) return sparsePromote(index, count);
  if (deltalen !== 0 && next >= 0) b.copyWithin(next + deltalen, next, end);
  wlen += deltalen;
  b[wlen] = 0;
  for (let k = 0; k < seqlen; k++) b[p + k] = seq[k]!;
  end += deltalen;
  return sparseMergeAdjacent(prev);
}

/**
 * The `updated:` step of hllSparseSet: merges adjacent VAL opcodes of equal value, scanning at
 * most 5 opcodes from `prev` (or the first one), then invalidates the cached cardinality.
 */
function sparseMergeAdjacent(prev: number): number {
  const b = wb;
  let p = prev >= 0 ? prev : HLL_HDR_SIZE;
  let end = wlen;
  let scanlen = 5;
  while (p < end && scanlen-- > 0) {
    const op = b[p]!;
    if ((op & 0xc0) === 0x40) {
      p += 2;
      continue;
    } else if ((op & 0xc0) === 0) {
      p++;
      continue;
    }
    if (p + 1 < end && b[p + 1]! & 0x80) {
      const v1 = ((op >> 2) & 0x1f) + 1;
      const v2 = ((b[p + 1]! >> 2) & 0x1f) + 1;
      if (v1 === v2) {
        const len = (op & 3) + 1 + (b[p + 1]! & 3) + 1;
        if (len <= HLL_SPARSE_VAL_MAX_LEN) {
          b[p + 1] = ((v1 - 1) << 2) | (len - 1) | 0x80;
          b.copyWithin(p, p + 1, end + 1);
          wlen--;
          end--;
          b[wlen] = 0;
          continue;
        }
      }
    }
    p++;
  }
  b[CARD_MSB] = b[CARD_MSB]! | 0x80;
  return 1;
}

/** hllAdd on the work: 1 changed, 0 not, -1 invalid representation. */
function hllAddWork(ele: string): number {
  const count = hllPatLen(ele);
  if (wb[4] === HLL_DENSE) return hllDenseSet(wb, patIndex, count);
  return hllSparseSet(patIndex, count);
}

// ---- counting ----------------------------------------------------------------------------------

/** hllDenseRegHisto over the registers of `b` (from HLL_HDR_SIZE), into {@link reghisto}. */
function denseRegHisto(b: Uint8Array): void {
  const h = reghisto;
  let r = HLL_HDR_SIZE;
  for (let j = 0; j < 1024; j++) {
    const b0 = b[r]!, b1 = b[r + 1]!, b2 = b[r + 2]!, b3 = b[r + 3]!, b4 = b[r + 4]!, b5 = b[r + 5]!;
    const b6 = b[r + 6]!, b7 = b[r + 7]!, b8 = b[r + 8]!, b9 = b[r + 9]!, b10 = b[r + 10]!, b11 = b[r + 11]!;
    h[b0 & 63]!++;
    h[((b0 >> 6) | (b1 << 2)) & 63]!++;
    h[((b1 >> 4) | (b2 << 4)) & 63]!++;
    h[(b2 >> 2) & 63]!++;
    h[b3 & 63]!++;
    h[((b3 >> 6) | (b4 << 2)) & 63]!++;
    h[((b4 >> 4) | (b5 << 4)) & 63]!++;
    h[(b5 >> 2) & 63]!++;
    h[b6 & 63]!++;
    h[((b6 >> 6) | (b7 << 2)) & 63]!++;
    h[((b7 >> 4) | (b8 << 4)) & 63]!++;
    h[(b8 >> 2) & 63]!++;
    h[b9 & 63]!++;
    h[((b9 >> 6) | (b10 << 2)) & 63]!++;
    h[((b10 >> 4) | (b11 << 4)) & 63]!++;
    h[(b11 >> 2) & 63]!++;
    r += 12;
  }
}

/** hllSparseRegHisto (7.0) over b[HLL_HDR_SIZE..len); sets {@link histoInvalid} when invalid. */
function sparseRegHisto(b: Uint8Array, len: number): void {
  const h = reghisto;
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < len) {
    const op = b[p]!;
    if ((op & 0xc0) === 0) {
      const runlen = (op & 0x3f) + 1;
      idx += runlen;
      h[0] += runlen;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      const runlen = (((op & 0x3f) << 8) | (b[p + 1] ?? 0)) + 1;
      idx += runlen;
      h[0] += runlen;
      p += 2;
    } else {
      const runlen = (op & 3) + 1;
      idx += runlen;
      h[((op >> 2) & 0x1f) + 1] += runlen;
      p++;
    }
  }
  if (idx !== HLL_REGISTERS) histoInvalid = true;
}

/** hllSigma of Ertl's "New cardinality estimation algorithms for HyperLogLog sketches". */
function hllSigma(x: number): number {
  if (x === 1) return Infinity;
  let zPrime: number;
  let y = 1;
  let z = x;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

/** hllTau of the same paper; pow(1 - x, 2) is computed as a product, which is exact rounding. */
function hllTau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let zPrime: number;
  let y = 1.0;
  let z = 1 - x;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    const t = 1 - x;
    z -= t * t * y;
  } while (zPrime !== z);
  return z / 3;
}

/**
 * The estimator of hllCount from {@link reghisto}. Returns the cardinality, an integer below
 * 2^63, or -1 when llroundl overflows (an infinite or too large estimate, possible only with
 * corrupted registers): Redis then gets LLONG_MIN, i.e. the uint64 2^63.
 */
function estimate(): number {
  const h = reghisto;
  const m = HLL_REGISTERS;
  let z = m * hllTau((m - h[HLL_Q + 1]!) / m);
  for (let j = HLL_Q; j >= 1; --j) {
    z += h[j]!;
    z *= 0.5;
  }
  z += m * hllSigma(h[0]! / m);
  const e = (HLL_ALPHA_INF * m * m) / z;
  if (!(e < 9223372036854775808)) return -1;
  return Math.round(e);
}

/** hllCount of the work; sets {@link histoInvalid} for an invalid sparse representation. */
function countWork(): number {
  reghisto.fill(0);
  histoInvalid = false;
  if (wb[4] === HLL_DENSE) denseRegHisto(wb);
  else sparseRegHisto(wb, wlen);
  return estimate();
}

/** hllCount with the HLL_RAW encoding: {@link maxRegs} holds one register per byte. */
function countRaw(): number {
  reghisto.fill(0);
  const r = maxRegs;
  for (let j = 0; j < HLL_REGISTERS; j++) reghisto[r[j]!]!++;
  return estimate();
}

/** The reply form of a cardinality from {@link estimate} (addReplyLongLong of the uint64). */
function cardReply(e: number): number | string {
  return e < 0 ? LLONG_MIN_STR : e;
}

/** Writes a cardinality from {@link estimate} as the cached cardinality of the work. */
function storeCard(e: number): void {
  const b = wb;
  if (e < 0) {
    b.fill(0, 8, 15);
    b[15] = 0x80;
    return;
  }
  const lo = e % 4294967296;
  const hi = (e - lo) / 4294967296;
  b.writeUInt32LE(lo, 8);
  b.writeUInt32LE(hi, 12);
}

/** The cached cardinality of a valid-cache HLL string (bytes 8..15, little-endian). */
function cachedCard(s: string): number | bigint {
  const lo = (s.charCodeAt(8) | (s.charCodeAt(9) << 8) | (s.charCodeAt(10) << 16) | (s.charCodeAt(11) << 24)) >>> 0;
  const hi = (s.charCodeAt(12) | (s.charCodeAt(13) << 8) | (s.charCodeAt(14) << 16) | (s.charCodeAt(15) << 24)) >>> 0;
  if (hi < 0x200000) return hi * 4294967296 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * hllMerge: max[i] = MAX(max[i], register i) over {@link maxRegs}, reading the HLL string in
 * place. False for an invalid sparse representation (7.0's checks: the registers must add up to
 * exactly 16384 and no VAL run may pass the end).
 */
function hllMerge(s: string): boolean {
  const max = maxRegs;
  if (s.charCodeAt(4) === HLL_DENSE) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = denseGetStr(s, i);
      if (v > max[i]!) max[i] = v;
    }
    return true;
  }
  const end = s.length;
  let i = 0;
  let p = HLL_HDR_SIZE;
  while (p < end) {
    const op = s.charCodeAt(p);
    if ((op & 0xc0) === 0) {
      i += (op & 0x3f) + 1;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      i += (((op & 0x3f) << 8) | s.charCodeAt(p + 1)) + 1;
      p += 2;
    } else {
      let runlen = (op & 3) + 1;
      const regval = ((op >> 2) & 0x1f) + 1;
      if (runlen + i > HLL_REGISTERS) break;
      while (runlen-- > 0) {
        if (regval > max[i]!) max[i] = regval;
        i++;
      }
      p++;
    }
  }
  return i === HLL_REGISTERS;
}

// ---- commands ------------------------------------------------------------------------------------

/** isHLLObjectOrReply's checks on a string value: magic, encoding, exact dense length. */
export function isHLLString(s: string): boolean {
  if (s.length < HLL_HDR_SIZE) return false;
  if (s.charCodeAt(0) !== 72 || s.charCodeAt(1) !== 89 || s.charCodeAt(2) !== 76 || s.charCodeAt(3) !== 76) return false;
  const enc = s.charCodeAt(4);
  if (enc > HLL_SPARSE) return false;
  return enc !== HLL_DENSE || s.length === HLL_DENSE_SIZE;
}

/** isHLLObjectOrReply: the HLL string, or null after replying the error. */
function hllOrReply(c: Client, v: unknown): string | null {
  if (typeof v !== 'string') {
    c.addError(ERR.wrongType);
    return null;
  }
  if (!isHLLString(v)) {
    c.addError(WRONGTYPE_HLL_ERR);
    return null;
  }
  return v;
}

function readSparseMax(c: Client): void {
  sparseMaxBytes = c.server.config.get<number>('hll-sparse-max-bytes');
}

/** PFADD key [element ...]: 1 when a register changed (or the key was created), else 0. */
function pfaddCommand(c: Client): void {
  const argv = c.argv;
  const argc = argv.length;
  const key = argv[1]!;
  const db = c.db;
  const v = db.lookupWrite(key);
  let s: string;
  let updated = 0;
  if (v === undefined) {
    s = EMPTY_HLL;
    updated = 1;
  } else {
    const h = hllOrReply(c, v);
    if (h === null) return;
    s = h;
    // dbUnshareStringValue: raw from here on, even when no register changes
    db.markStringEncoding(key, STR_RAW);
  }
  if (s.charCodeAt(4) === HLL_DENSE) {
    // read the registers in the string itself until one must change
    let loaded = false;
    for (let j = 2; j < argc; j++) {
      const count = hllPatLen(argv[j]!);
      if (loaded) {
        updated += hllDenseSet(denseBuf, patIndex, count);
      } else if (count > denseGetStr(s, patIndex)) {
        loadWork(s);
        touchWork();
        loaded = true;
        denseSetRaw(denseBuf, patIndex, count);
        updated++;
      }
    }
    if (updated === 0) {
      c.addRaw(':0\r\n');
      return;
    }
  } else {
    readSparseMax(c);
    loadWork(s);
    touchWork();
    for (let j = 2; j < argc; j++) {
      const r = hllAddWork(argv[j]!);
      if (r === 1) updated++;
      else if (r < 0) {
        denseStr = null;
        c.addError(INVALID_HLL_ERR);
        return;
      }
    }
    if (updated === 0) {
      c.addRaw(':0\r\n');
      return;
    }
  }
  wb[CARD_MSB] = wb[CARD_MSB]! | 0x80;
  db.setKey(key, workString(), v === undefined ? undefined : 'keep');
  // createHLLObject or dbUnshareStringValue: a raw string
  db.markStringEncoding(key, STR_RAW);
  // Redis adds `updated` to dirty; setKey counted one
  db.ks.dirty += updated - 1;
  db.ks.notify(NOTIFY_STRING, 'pfadd', key, db.id);
  c.addRaw(':1\r\n');
}

/**
 * PFCOUNT key [key ...]. One key: the cached cardinality, or a fresh count that is cached in the
 * string (a write: signalled, dirty, propagated, as Redis does). Several keys: the count of their
 * union, computed in a temporary and written nowhere.
 */
function pfcountCommand(c: Client): void {
  const argv = c.argv;
  const db = c.db;
  if (argv.length > 2) {
    maxRegs.fill(0);
    for (let j = 1; j < argv.length; j++) {
      const v = db.lookupRead(argv[j]!);
      if (v === undefined) continue;
      const s = hllOrReply(c, v);
      if (s === null) return;
      if (!hllMerge(s)) {
        c.addError(INVALID_HLL_ERR);
        return;
      }
    }
    c.addRaw(':' + cardReply(countRaw()) + '\r\n');
    return;
  }
  const key = argv[1]!;
  const v = db.lookupRead(key);
  if (v === undefined) {
    c.addRaw(':0\r\n');
    return;
  }
  const s = hllOrReply(c, v);
  if (s === null) return;
  // pfcountCommand unshares the value before reading its cache (it may write it)
  db.markStringEncoding(key, STR_RAW);
  if ((s.charCodeAt(CARD_MSB) & 0x80) === 0) {
    c.addInt(cachedCard(s));
    return;
  }
  loadWork(s);
  const e = countWork();
  if (histoInvalid) {
    c.addError(INVALID_HLL_ERR);
    return;
  }
  touchWork();
  storeCard(e);
  db.setKey(key, workString(), 'keep');
  db.markStringEncoding(key, STR_RAW);
  c.addRaw(':' + cardReply(e) + '\r\n');
}

/**
 * PFMERGE destkey [sourcekey ...]: the register-wise maximum of all the HLLs (the destination
 * included) into destkey, dense when any input is dense, else sparse (possibly promoted on the
 * way). Notifies `pfadd`, as Redis does.
 */
function pfmergeCommand(c: Client): void {
  const argv = c.argv;
  const db = c.db;
  let useDense = false;
  maxRegs.fill(0);
  for (let j = 1; j < argv.length; j++) {
    const v = db.lookupRead(argv[j]!);
    if (v === undefined) continue;
    const s = hllOrReply(c, v);
    if (s === null) return;
    if (s.charCodeAt(4) === HLL_DENSE) useDense = true;
    if (!hllMerge(s)) {
      c.addError(INVALID_HLL_ERR);
      return;
    }
  }
  const key = argv[1]!;
  const dv = db.lookupWrite(key);
  // an existing destination was validated as one of the sources
  const d = dv === undefined ? EMPTY_HLL : (dv as string);
  readSparseMax(c);
  loadWork(d);
  touchWork();
  if (useDense && !sparseToDense()) {
    c.addError(INVALID_HLL_ERR);
    return;
  }
  const max = maxRegs;
  for (let j = 0; j < HLL_REGISTERS; j++) {
    const m = max[j]!;
    if (m === 0) continue;
    if (wb[4] === HLL_DENSE) hllDenseSet(wb, j, m);
    else hllSparseSet(j, m);
  }
  wb[CARD_MSB] = wb[CARD_MSB]! | 0x80;
  db.setKey(key, workString(), dv === undefined ? undefined : 'keep');
  db.markStringEncoding(key, STR_RAW);
  db.ks.notify(NOTIFY_STRING, 'pfadd', key, db.id);
  c.addOk();
}

/** ':n\r\n' for register values 0..63 (PFDEBUG GETREG). */
const INT_REPLIES: string[] = Array.from({ length: 64 }, (_, i) => ':' + i + '\r\n');

/** The argument as C's %s prints it: up to the first NUL. */
function cstr(s: string): string {
  const z = s.indexOf('\0');
  return z < 0 ? s : s.slice(0, z);
}

/** PFDEBUG GETREG|DECODE|ENCODING|TODENSE key (admin debugging of the representation). */
function pfdebugCommand(c: Client): void {
  const argv = c.argv;
  const cmd = cstr(argv[1]!);
  const key = argv[2]!;
  const db = c.db;
  const v = db.lookupWrite(key);
  if (v === undefined) {
    c.addError('ERR The specified key does not exist');
    return;
  }
  const s = hllOrReply(c, v);
  if (s === null) return;
  // pfdebugCommand unshares the value first, whatever the subcommand
  db.markStringEncoding(key, STR_RAW);
  const sub = cmd.toLowerCase();
  if (sub === 'getreg' || sub === 'todense') {
    let converted = false;
    loadWork(s);
    if (wb[4] === HLL_SPARSE) {
      if (!sparseToDense()) {
        c.addError(INVALID_HLL_ERR);
        return;
      }
      converted = true;
      // Redis forces propagation of the encoding change with dirty++ (setKey counts it)
      db.setKey(key, workString(), 'keep');
      db.markStringEncoding(key, STR_RAW);
    }
    if (sub === 'todense') {
      c.addRaw(converted ? ':1\r\n' : ':0\r\n');
      return;
    }
    let out = '*' + HLL_REGISTERS + '\r\n';
    for (let j = 0; j < HLL_REGISTERS; j++) out += INT_REPLIES[denseGet(wb, j)];
    c.addRaw(out);
  } else if (sub === 'decode') {
    if (s.charCodeAt(4) !== HLL_SPARSE) {
      c.addError('ERR HLL encoding is not sparse');
      return;
    }
    const parts: string[] = [];
    const end = s.length;
    let p = HLL_HDR_SIZE;
    while (p < end) {
      const op = s.charCodeAt(p);
      if ((op & 0xc0) === 0) {
        parts.push('z:' + ((op & 0x3f) + 1));
        p++;
      } else if ((op & 0xc0) === 0x40) {
        parts.push('Z:' + ((((op & 0x3f) << 8) | (p + 1 < end ? s.charCodeAt(p + 1) : 0)) + 1));
        p += 2;
      } else {
        parts.push('v:' + (((op >> 2) & 0x1f) + 1) + ',' + ((op & 3) + 1));
        p++;
      }
    }
    c.addBulk(parts.join(' '));
  } else if (sub === 'encoding') {
    c.addSimple(s.charCodeAt(4) === HLL_DENSE ? 'dense' : 'sparse');
  } else {
    c.addError(`ERR Unknown PFDEBUG subcommand '${cmd}'`);
  }
}

/** rand() & 0x7fffffff-like 31-bit random integer. */
function rand31(): number {
  return Math.floor(Math.random() * 0x80000000);
}

/**
 * PFSELFTEST: Redis's self test of the register access and of the estimator (10 million adds to
 * a dense and a sparse HLL, checking they agree and that the error stays within bounds). Blocks
 * for a few seconds, as in Redis.
 */
function pfselftestCommand(c: Client): void {
  const bits = new Uint8Array(HLL_DENSE_SIZE + 1);
  const bytecounters = new Uint8Array(HLL_REGISTERS);
  // Test 1: register access.
  for (let j = 0; j < 1000; j++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const r = rand31() & HLL_REGISTER_MAX;
      bytecounters[i] = r;
      denseSetRaw(bits, i, r);
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const val = denseGet(bits, i);
      if (val !== bytecounters[i]) {
        c.addError(`TESTFAILED Register ${i} should be ${bytecounters[i]} but is ${val}`);
        return;
      }
    }
  }
  // Test 2: approximation error, dense and sparse side by side.
  bits.fill(0);
  readSparseMax(c);
  loadWork(EMPTY_HLL);
  touchWork();
  const relerr = 1.04 / Math.sqrt(HLL_REGISTERS);
  let checkpoint = 1;
  // seed = rand() | rand() << 32
  const seedLo = rand31();
  const seedHi = rand31();
  const countBits = (): number => {
    reghisto.fill(0);
    denseRegHisto(bits);
    return estimate();
  };
  for (let j = 1; j <= 10000000; j++) {
    murmurHash64AU64(seedHi, (j ^ seedLo) >>> 0, HLL_SEED);
    const hi = murmurHi;
    const lo = murmurLo;
    const count = patFromHash(hi, lo);
    hllDenseSet(bits, patIndex, count);
    if (wb[4] === HLL_DENSE) hllDenseSet(wb, patIndex, count);
    else hllSparseSet(patIndex, count);
    if (j !== checkpoint) continue;
    if (j < sparseMaxBytes / 2 && wb[4] !== HLL_SPARSE) {
      denseStr = null;
      c.addError('TESTFAILED sparse encoding not used');
      return;
    }
    const dense = countBits();
    if (dense !== countWork()) {
      denseStr = null;
      c.addError('TESTFAILED dense/sparse disagree');
      return;
    }
    const abserr = Math.abs(checkpoint - dense);
    let maxerr = Math.ceil(relerr * 6 * checkpoint);
    if (j === 10) maxerr = 1;
    if (abserr > maxerr) {
      denseStr = null;
      c.addError(`TESTFAILED Too big error. card:${checkpoint} abserr:${abserr}`);
      return;
    }
    checkpoint *= 10;
  }
  denseStr = null;
  c.addOk();
}

/** Handlers of the hyperloglog command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const hyperloglogCommands: Record<string, Handler> = {
  pfadd: pfaddCommand,
  pfcount: pfcountCommand,
  pfmerge: pfmergeCommand,
  pfdebug: pfdebugCommand,
  pfselftest: pfselftestCommand,
};

/**
 * Internals for the unit tests (test/unit/hyperloglog.test.ts): register access on a byte array
 * laid out as a dense HLL, the hash-to-(register, count) mapping, and the estimator over a
 * register array of one byte per register.
 */
export const hllTesting = {
  denseGet,
  denseSetRaw,
  /** [register index, pattern length] of an element (hllPatLen). */
  patLen(ele: string): [number, number] {
    const count = hllPatLen(ele);
    return [patIndex, count];
  },
  /** hllCount of 16384 one-byte registers; -1 stands for Redis's LLONG_MIN overflow. */
  countRegisters(regs: Uint8Array): number {
    maxRegs.set(regs);
    return countRaw();
  },
};
