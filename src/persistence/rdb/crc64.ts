/**
 * CRC-64/Jones as Redis computes it (src/crc64.c, crcspeed): reflected polynomial
 * 0xad93d23594c935a9, initial value 0, no final xor. crc64("123456789") = 0xe9c6d914c4b8d9ca.
 *
 * The 64-bit state is kept as two uint32 halves so that no BigInt is needed per byte; tables are
 * for slicing-by-8 so a 1 MB value costs about a millisecond.
 */


/** Reflected Jones polynomial 0x95ac9329ac4bc9b5 (bit-reverse of 0xad93d23594c935a9). */
const RPOLY_HI = 0x95ac9329;
const RPOLY_LO = 0xac4bc9b5;

/** 8 tables of 256 entries, lo and hi halves; table k advances the CRC over k+1 zero bytes. */
const TLO: Uint32Array[] = [];
const THI: Uint32Array[] = [];

(function buildTables(): void {
  const lo0 = new Uint32Array(256);
  const hi0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let lo = n;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const bit = lo & 1;
      lo = ((lo >>> 1) | (hi << 31)) >>> 0;
      hi = hi >>> 1;
      if (bit) {
        lo = (lo ^ RPOLY_LO) >>> 0;
        hi = (hi ^ RPOLY_HI) >>> 0;
      }
    }
    lo0[n] = lo;
    hi0[n] = hi;
  }
  TLO.push(lo0);
  THI.push(hi0);
  for (let t = 1; t < 8; t++) {
    const plo = TLO[t - 1]!;
    const phi = THI[t - 1]!;
    const lo = new Uint32Array(256);
    const hi = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      // one more zero byte: crc = T0[crc & 0xff] ^ (crc >> 8)
      const clo = plo[n]!;
      const chi = phi[n]!;
      const idx = clo & 0xff;
      lo[n] = (lo0[idx]! ^ ((clo >>> 8) | (chi << 24))) >>> 0;
      hi[n] = (hi0[idx]! ^ (chi >>> 8)) >>> 0;
    }
    TLO.push(lo);
    THI.push(hi);
  }
})();

const [T0L, T1L, T2L, T3L, T4L, T5L, T6L, T7L] = TLO as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
const [T0H, T1H, T2H, T3H, T4H, T5H, T6H, T7H] = THI as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];

/** A running CRC-64 (the state of rio's cksum). */
export class Crc64 {
  lo = 0;
  hi = 0;

  /** Feeds bytes [start, end) of `buf`. */
  update(buf: Uint8Array, start = 0, end = buf.length): this {
    let lo = this.lo;
    let hi = this.hi;
    let i = start;
    // slicing-by-8 over aligned groups of 8 bytes
    while (end - i >= 8) {
      const a = (lo ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))) >>> 0;
      const b = (hi ^ (buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24))) >>> 0;
      lo = (T7L[a & 0xff]! ^ T6L[(a >>> 8) & 0xff]! ^ T5L[(a >>> 16) & 0xff]! ^ T4L[a >>> 24]! ^
        T3L[b & 0xff]! ^ T2L[(b >>> 8) & 0xff]! ^ T1L[(b >>> 16) & 0xff]! ^ T0L[b >>> 24]!) >>> 0;
      hi = (T7H[a & 0xff]! ^ T6H[(a >>> 8) & 0xff]! ^ T5H[(a >>> 16) & 0xff]! ^ T4H[a >>> 24]! ^
        T3H[b & 0xff]! ^ T2H[(b >>> 8) & 0xff]! ^ T1H[(b >>> 16) & 0xff]! ^ T0H[b >>> 24]!) >>> 0;
      i += 8;
    }
    for (; i < end; i++) {
      const idx = (lo ^ buf[i]!) & 0xff;
      const nlo = (lo >>> 8) | (hi << 24);
      lo = (T0L[idx]! ^ nlo) >>> 0;
      hi = (T0H[idx]! ^ (hi >>> 8)) >>> 0;
    }
    this.lo = lo;
    this.hi = hi;
    return this;
  }

  /** The CRC as an unsigned 64-bit bigint. */
  value(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** Writes the CRC little-endian (memrev64ifbe on disk) at `off` of `buf`. */
  writeLE(buf: Uint8Array, off: number): void {
    buf[off] = this.lo & 0xff;
    buf[off + 1] = (this.lo >>> 8) & 0xff;
    buf[off + 2] = (this.lo >>> 16) & 0xff;
    buf[off + 3] = this.lo >>> 24;
    buf[off + 4] = this.hi & 0xff;
    buf[off + 5] = (this.hi >>> 8) & 0xff;
    buf[off + 6] = (this.hi >>> 16) & 0xff;
    buf[off + 7] = this.hi >>> 24;
  }

  /** True when the 8 bytes at `off` of `buf` are this CRC, little-endian. */
  equalsLE(buf: Uint8Array, off: number): boolean {
    const lo = (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
    const hi = (buf[off + 4]! | (buf[off + 5]! << 8) | (buf[off + 6]! << 16) | (buf[off + 7]! << 24)) >>> 0;
    return lo === this.lo && hi === this.hi;
  }
}

/** CRC-64/Jones of bytes [start, end) of `buf`, as an unsigned bigint (crc64(0, p, len)). */
export function crc64(buf: Uint8Array, start = 0, end = buf.length): bigint {
  return new Crc64().update(buf, start, end).value();
}
