/**
 * The RDB encoder: writes values, whole RDB files and DUMP payloads exactly as Redis 7.0 does
 * (rdbSaveRio, rdbSaveObject, rdbSaveRawString, createDumpPayload in src/rdb.c and
 * src/cluster.c): `REDIS0010`, the aux fields, SELECTDB + RESIZEDB per non-empty database,
 * EXPIRETIME_MS, the RDB type Redis 7.0 chooses for each encoding, integer and LZF string
 * encodings, listpack/intset blobs, and the CRC-64 trailer.
 *
 * Output goes to a sink in chunks, so the same encoder serves SAVE (a file), BGSAVE (a queue)
 * and DUMP (a buffer).
 */
import type { Value } from '../../keyspace/types/object.js';
import { Stream, streamIdFromKey, type StreamID } from '../../keyspace/types/stream.js';
import { ZSet, type ZLeaf } from '../../keyspace/types/zset.js';
import { Hash, LP_LONG_HEADER, forEachRecord } from '../../keyspace/types/hash.js';
import { RedisSet } from '../../keyspace/types/set.js';
import { ListObject } from '../../keyspace/types/list.js';
import { nodeFits, PACKED_THRESHOLD, SIZE_ESTIMATE_OVERHEAD } from '../../keyspace/types/quicklist-layout.js';
import { formatG, INT64_MAX, INT64_MIN, parseInteger } from '../../util/number.js';
import { Crc64 } from './crc64.js';
import { lzfCompressInto, LZF_SLACK } from './lzf.js';
import { ListpackWriter, lpElementSize } from './listpack.js';
import { intsetEncode } from './intset.js';
import * as C from './constants.js';
import { DEFAULT_LIMITS, type TypeLimits } from './values.js';

/** The Redis version written in the `redis-ver` aux field. */
export const RDB_REDIS_VER = '7.0.15';

/** Options that change the bytes written. */
export interface RdbSaveOptions {
  /** rdbcompression: LZF for strings longer than 20 bytes when it saves space */
  compression: boolean;
  /** rdbchecksum: CRC-64 trailer (zero when off) */
  checksum: boolean;
  /** list node sizes and stream node sizes */
  limits: TypeLimits;
}

/** rdbcompression yes, rdbchecksum yes, Redis's default encoding limits. */
export const DEFAULT_SAVE_OPTIONS: Readonly<RdbSaveOptions> = Object.freeze({
  compression: true,
  checksum: true,
  limits: DEFAULT_LIMITS,
});

const BUF_SIZE = 64 * 1024;
const EMPTY_DEFERRED: number[] = [];
/** Copies up to this many bytes are done in a JS loop rather than a native call. */
const SHORT_COPY = 64;

/** Bytes rdbSaveLen takes for `v`. */
function lenSize(v: number): number {
  return v < 1 << 6 ? 1 : v < 1 << 14 ? 2 : v <= 0xffffffff ? 5 : 9;
}

/** t_stream.c STREAM_LISTPACK_MAX_SIZE */
const STREAM_LISTPACK_MAX_SIZE = 1 << 30;

/**
 * Low-level RDB output (rio + rdbSave* primitives): buffers bytes, feeds the CRC, and hands
 * full chunks to `sink`. A chunk passed to the sink is never reused by the writer.
 */
export class RdbWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly crc: Crc64 | null;
  /** bytes handed to the sink so far plus those buffered */
  get written(): number {
    return this.flushed + this.pos;
  }
  private flushed = 0;
  private scratch = Buffer.allocUnsafe(1024);
  /**
   * Deferred compression (see {@link deferCompression}): [offset, header bytes, data bytes]
   * triples of the raw strings written since {@link takeDeferred}, offsets in the output stream.
   */
  private deferred: number[] | null = null;
  /** see {@link lend} */
  private lent = false;

  /**
   * @param sink receives the output in order
   * @param reuse keep one buffer and hand the sink copies (for many small outputs, one per key);
   *   otherwise the buffer itself is handed over and a new one allocated
   */
  constructor(
    private readonly sink: (chunk: Buffer) => void,
    readonly opts: RdbSaveOptions = DEFAULT_SAVE_OPTIONS,
    private readonly reuse = false,
  ) {
    this.crc = opts.checksum ? new Crc64() : null;
    this.buf = Buffer.allocUnsafe(reuse ? 4096 : BUF_SIZE);
  }

  /**
   * Leaves LZF to a later stage (a worker thread: {@link RdbLzfStage}): strings and blobs that
   * rdbSaveRawString would try to compress (longer than 20 bytes, with compression on) are written
   * raw, length header and bytes in one chunk, and their places recorded for
   * {@link takeDeferred}. Strings too big for one chunk are still compressed here. The stage then
   * produces exactly the bytes this writer would have. Use with checksum off: the CRC belongs to
   * the final bytes.
   */
  deferCompression(): void {
    if (this.opts.compression) this.deferred = [];
  }

  /**
   * The raw strings written since the last call, as [offset, header bytes, data bytes] triples
   * (offsets in the output stream: {@link written} counts them). A sink calls it for its chunk:
   * every triple returned lies in chunks handed over so far.
   */
  takeDeferred(): number[] {
    const d = this.deferred;
    if (d === null || d.length === 0) return EMPTY_DEFERRED;
    this.deferred = [];
    return d;
  }

  /**
   * Starts a deferred raw string of `n` bytes: room for header and bytes in one chunk, the length
   * header, the record for the compression stage. False (nothing written) when it would not fit
   * one chunk: the caller compresses it here. The caller writes the `n` bytes next.
   */
  private deferHeader(n: number): boolean {
    const room = lenSize(n) + n;
    if (room > BUF_SIZE) return false;
    this.ensure(room);
    const off = this.flushed + this.pos;
    this.len(n);
    this.deferred!.push(off, this.flushed + this.pos - off, n);
    return true;
  }

  /** Sends buffered bytes to the sink. */
  flush(): void {
    if (this.pos === 0) return;
    let chunk = this.buf.subarray(0, this.pos);
    if (this.crc !== null) this.crc.update(chunk);
    this.flushed += this.pos;
    if (this.reuse) {
      chunk = Buffer.from(chunk);
    } else if (!this.lent) {
      this.buf = Buffer.allocUnsafe(BUF_SIZE);
    }
    this.pos = 0;
    this.sink(chunk);
  }

  /**
   * The sink consumes every chunk before it returns and keeps none (it copies, as postMessage
   * does): the writer then keeps writing into its one buffer instead of allocating 64 KB per chunk.
   */
  lend(): void {
    this.lent = true;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.reuse && this.pos + n <= BUF_SIZE) {
      // grow the reused buffer rather than cutting a key into many chunks
      const nb = Buffer.allocUnsafe(Math.min(BUF_SIZE, Math.max(this.buf.length * 2, this.pos + n)));
      this.buf.copy(nb, 0, 0, this.pos);
      this.buf = nb;
      return;
    }
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  u8(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Raw bytes [start, end) of `b`. Large blobs go to the sink without a copy. */
  bytes(b: Uint8Array, start = 0, end = b.length): void {
    const n = end - start;
    if (n >= BUF_SIZE) {
      this.flush();
      const chunk = Buffer.from(b.buffer, b.byteOffset + start, n);
      if (this.crc !== null) this.crc.update(chunk);
      this.flushed += n;
      this.sink(chunk);
      return;
    }
    this.ensure(n);
    const buf = this.buf;
    const p = this.pos;
    if (n <= SHORT_COPY) {
      // a short copy in JS costs less than a subarray view and a native copy
      for (let j = 0; j < n; j++) buf[p + j] = b[start + j]!;
    } else {
      buf.set(start === 0 && end === b.length ? b : b.subarray(start, end), p);
    }
    this.pos = p + n;
  }

  /** A latin1 string's bytes. */
  latin1(s: string): void {
    const n = s.length;
    if (n >= BUF_SIZE) {
      this.bytes(Buffer.from(s, 'latin1'));
      return;
    }
    this.ensure(n);
    const buf = this.buf;
    const p = this.pos;
    if (n <= SHORT_COPY) {
      for (let j = 0; j < n; j++) buf[p + j] = s.charCodeAt(j);
    } else {
      buf.latin1Write(s, p, n);
    }
    this.pos = p + n;
  }

  /** rdbSaveLen: 6-bit, 14-bit, 32-bit or 64-bit length. */
  len(v: number | bigint): void {
    if (typeof v === 'bigint') {
      if (v <= 0xffffffffn) {
        this.len(Number(v));
        return;
      }
      this.ensure(9);
      this.buf[this.pos++] = C.RDB_64BITLEN;
      this.buf.writeBigUInt64BE(v, this.pos);
      this.pos += 8;
      return;
    }
    this.ensure(9);
    const buf = this.buf;
    if (v < 1 << 6) {
      buf[this.pos++] = v;
    } else if (v < 1 << 14) {
      buf[this.pos++] = (v >> 8) | 0x40;
      buf[this.pos++] = v & 0xff;
    } else if (v <= 0xffffffff) {
      buf[this.pos++] = C.RDB_32BITLEN;
      buf.writeUInt32BE(v, this.pos);
      this.pos += 4;
    } else {
      buf[this.pos++] = C.RDB_64BITLEN;
      buf.writeBigUInt64BE(BigInt(v), this.pos);
      this.pos += 8;
    }
  }

  /**
   * rdbSaveMillisecondTime: signed 64-bit little-endian. A time beyond int64 (a double that
   * rounded up to 2^63) is written as the int64 limit rather than failing the whole save.
   */
  millis(t: number): void {
    this.ensure(8);
    const v = BigInt(Math.trunc(t));
    this.buf.writeBigInt64LE(v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : v, this.pos);
    this.pos += 8;
  }

  /** rdbSaveBinaryDoubleValue. */
  binaryDouble(d: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(d, this.pos);
    this.pos += 8;
  }

  /** rdbEncodeInteger: the special int8/16/32 forms; false when `v` does not fit 32 bits. */
  private encodeInteger(v: number): boolean {
    if (v >= -128 && v <= 127) {
      this.ensure(2);
      this.buf[this.pos++] = (C.RDB_ENCVAL << 6) | C.RDB_ENC_INT8;
      this.buf.writeInt8(v, this.pos);
      this.pos += 1;
      return true;
    }
    if (v >= -32768 && v <= 32767) {
      this.ensure(3);
      this.buf[this.pos++] = (C.RDB_ENCVAL << 6) | C.RDB_ENC_INT16;
      this.buf.writeInt16LE(v, this.pos);
      this.pos += 2;
      return true;
    }
    if (v >= -2147483648 && v <= 2147483647) {
      this.ensure(5);
      this.buf[this.pos++] = (C.RDB_ENCVAL << 6) | C.RDB_ENC_INT32;
      this.buf.writeInt32LE(v, this.pos);
      this.pos += 4;
      return true;
    }
    return false;
  }

  /**
   * rdbSaveRawString of a latin1 string: integer encoding when it is a canonical integer of at
   * most 11 chars fitting 32 bits, LZF when longer than 20 bytes, compression is on and it saves
   * at least 4 bytes, else length + bytes.
   */
  string(s: string): void {
    const n = s.length;
    if (n <= 20 && n > 0) {
      // the common short string (set members, hash fields, keys): never LZF (n <= 20), a
      // 6-bit length; an integer encoding only when it starts like a number
      const c0 = s.charCodeAt(0);
      if (n > 11 || !((c0 >= 48 && c0 <= 57) || c0 === 45)) {
        this.ensure(n + 1);
        const buf = this.buf;
        const p = this.pos;
        buf[p] = n;
        for (let j = 0; j < n; j++) buf[p + 1 + j] = s.charCodeAt(j);
        this.pos = p + 1 + n;
        return;
      }
    }
    if (n <= 11 && n > 0) {
      const v = parseInteger(s);
      if (typeof v === 'number' && this.encodeInteger(v)) return;
    }
    if (this.opts.compression && n > 20) {
      if (this.deferred !== null && this.deferHeader(n)) {
        this.latin1(s);
        return;
      }
      let src: Buffer;
      if (n <= SHORT_COPY) {
        src = this.scratch;
        for (let j = 0; j < n; j++) src[j] = s.charCodeAt(j);
      } else if (n <= this.scratch.length) {
        this.scratch.latin1Write(s, 0, n);
        src = this.scratch;
      } else {
        src = Buffer.from(s, 'latin1');
      }
      // rdbSaveLzfStringObject: worth it only when it saves at least 4 bytes
      if (this.lzfInto(src, 0, n, n - 4, n - 4)) return;
    }
    this.len(n);
    if (n > 0) this.latin1(s);
  }

  /** rdbSaveRawString of bytes (listpack and intset blobs). */
  blob(b: Buffer, start = 0, end = b.length): void {
    const n = end - start;
    if (n <= 11 && n > 0) {
      const v = parseInteger(b.latin1Slice(start, end));
      if (typeof v === 'number' && this.encodeInteger(v)) return;
    }
    if (this.opts.compression && n > 20) {
      if (this.deferred !== null && this.deferHeader(n)) {
        this.bytes(b, start, end);
        return;
      }
      if (this.lzfInto(b, start, n, n - 4, n - 4)) return;
    }
    this.len(n);
    this.bytes(b, start, end);
  }

  /**
   * A quicklist node as __quicklistCompressNode leaves it: an LZF blob (rdbSaveLzfBlob) when
   * the node has at least 48 bytes and compression saves more than 8; false (nothing written)
   * otherwise.
   */
  lzfBlob(node: Buffer): boolean {
    const sz = node.length;
    if (sz < 48) return false;
    return this.lzfInto(node, 0, sz, sz, sz - 9);
  }

  /**
   * Compresses bytes [start, start+n) of `src` into at most `outLen` bytes straight into the
   * output buffer and, when the result has at most `accept` bytes, writes it as an LZF string
   * (RDB_ENC_LZF, compressed length, original length, data) and returns true; otherwise
   * writes nothing and returns false.
   */
  private lzfInto(src: Uint8Array, start: number, n: number, outLen: number, accept: number): boolean {
    if (outLen <= 0) return false;
    const hn = lenSize(n);
    const hcMax = lenSize(outLen);
    const room = 1 + hcMax + hn + outLen + LZF_SLACK;
    this.ensure(room);
    const buf = this.buf;
    const p = this.pos;
    const dataAt = p + 1 + hcMax + hn;
    const clen = lzfCompressInto(src, start, n, buf, dataAt, outLen);
    if (clen === 0 || clen > accept) return false;
    const hc = lenSize(clen);
    if (hc < hcMax) {
      // the compressed length needs a shorter header than its bound: move the data back
      const to = p + 1 + hc + hn;
      if (clen <= SHORT_COPY) for (let j = 0; j < clen; j++) buf[to + j] = buf[dataAt + j]!;
      else buf.copyWithin(to, dataAt, dataAt + clen);
    }
    buf[p] = (C.RDB_ENCVAL << 6) | C.RDB_ENC_LZF;
    this.pos = p + 1;
    this.len(clen);
    this.len(n);
    this.pos += clen;
    return true;
  }

  /**
   * Reuse mode: after a value too big for the 64 KB buffer made it grow, goes back to a small
   * buffer, so that a writer kept for many values does not hold a huge one.
   */
  trim(): void {
    if (this.reuse && this.pos === 0 && this.buf.length > BUF_SIZE) this.buf = Buffer.allocUnsafe(4096);
  }

  /** The file's last 8 bytes: the CRC-64 of everything before (zero when rdbchecksum is off); flushes. */
  trailer(): void {
    this.flush();
    const t = Buffer.alloc(8);
    if (this.crc !== null) this.crc.writeLE(t, 0);
    this.bytes(t);
    this.flush();
  }
}

/** rdbSaveObjectType: the RDB type byte Redis 7.0 writes for a value in its encoding. */
export function rdbTypeOf(v: Value): number {
  if (typeof v === 'string') return C.RDB_TYPE_STRING;
  if (v instanceof ListObject) return C.RDB_TYPE_LIST_QUICKLIST_2;
  if (v instanceof RedisSet) return v.isIntset() ? C.RDB_TYPE_SET_INTSET : C.RDB_TYPE_SET;
  if (v instanceof ZSet) return v.listpack ? C.RDB_TYPE_ZSET_LISTPACK : C.RDB_TYPE_ZSET_2;
  if (v instanceof Hash) return v.isListpack() ? C.RDB_TYPE_HASH_LISTPACK : C.RDB_TYPE_HASH;
  if (v instanceof Stream) return C.RDB_TYPE_STREAM_LISTPACKS_2;
  throw new Error(`RDB encoder: unknown value type ${v.type}`);
}

/** d2string of Redis 7.0 (src/util.c): integers without a fraction, else %.17g. */
export function d2string(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  if (v > -4503599627370495 && v < 4503599627370496 && Number.isInteger(v)) return String(v);
  // zsets often repeat scores: a small direct-mapped cache keyed by the double's bits
  d2sKey[0] = v;
  // short mantissas leave the low bits zero: mix the high word down before masking
  let h = d2sBits[0]! ^ Math.imul(d2sBits[1]!, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  const slot = (h ^ (h >>> 16)) & (D2S_CACHE - 1);
  if (d2sCacheKey[slot] === v) return d2sCacheVal[slot]!;
  const short = exactShortDecimal(v);
  const out = short !== null ? short : formatG(v, 17);
  d2sCacheKey[slot] = v;
  d2sCacheVal[slot] = out;
  return out;
}

/** d2string cache: slots keyed by the value (NaN, infinities and zeros never get here). */
const D2S_CACHE = 4096;
const d2sCacheKey = new Float64Array(D2S_CACHE);
const d2sCacheVal: string[] = new Array<string>(D2S_CACHE).fill('0');
const d2sKey = new Float64Array(1);
const d2sBits = new Int32Array(d2sKey.buffer);

const POW5 = [1, 5, 25, 125, 625, 3125, 15625, 78125, 390625, 1953125, 9765625, 48828125, 244140625, 1220703125,
  6103515625, 30517578125, 152587890625, 762939453125, 3814697265625, 19073486328125, 95367431640625, 476837158203125];

/**
 * %.17g of `v` when it is cheap to get: when JS's shortest form of `v` is a plain decimal
 * (no exponent) of at most 16 significant digits that is *exactly* `v`, printing 17 significant
 * digits of the exact value and stripping trailing zeros gives that same decimal (1.5, 0.25,
 * 123.125). Null otherwise (0.1 is not exactly 0.1: %.17g shows 0.10000000000000001).
 * Exactness: v = N / 10^f exactly iff a = v * 2^f (an exact scaling) is an integer and
 * a * 5^f = N, checked below 2^53 where the product is exact.
 */
function exactShortDecimal(v: number): string | null {
  const a0 = v < 0 ? -v : v;
  // %g switches to an exponent below 1e-4; JS's shortest form switches at 1e21
  if (!(a0 >= 1e-4 && a0 < 1e16)) return null;
  const str = String(v);
  const dot = str.indexOf('.');
  if (dot < 0 || str.indexOf('e') >= 0) return null;
  const f = str.length - dot - 1;
  if (f >= POW5.length) return null;
  // the digits without sign and point, as an integer N
  const neg = v < 0 ? 1 : 0;
  let N = 0;
  for (let i = neg; i < str.length; i++) {
    if (i === dot) continue;
    N = N * 10 + (str.charCodeAt(i) - 48);
  }
  if (N > 9007199254740991) return null;
  const a = a0 * 2 ** f;
  if (!Number.isInteger(a)) return null;
  const prod = a * POW5[f]!;
  if (prod !== N || prod > 9007199254740991) return null;
  return str;
}

/**
 * rdbSaveObjectType + rdbSaveObject: writes the type byte, then `key` when given (as
 * rdbSaveKeyValuePair puts it between the type and the value), then the value.
 */
export function writeTypedValue(w: RdbWriter, v: Value, key?: string): void {
  const type = rdbTypeOf(v);
  w.u8(type);
  if (key !== undefined) w.string(key);
  if (typeof v === 'string') {
    w.string(v);
    return;
  }
  switch (type) {
    case C.RDB_TYPE_LIST_QUICKLIST_2:
      writeQuicklist(w, v as ListObject, w.opts.limits.listFill);
      return;
    case C.RDB_TYPE_SET_INTSET:
      w.blob(intsetEncode((v as RedisSet).intsetValues()));
      return;
    case C.RDB_TYPE_SET: {
      const set = v as RedisSet;
      w.len(set.size);
      // a set still as loaded: its members straight from the packed records
      const packed = set.packedMembers;
      if (packed !== null) {
        const b = latin1Scratch(packed);
        forEachRecord(packed, (_s, start, len) => w.blob(b, start, start + len));
        return;
      }
      set.forEach(writeString, w);
      return;
    }
    case C.RDB_TYPE_ZSET_LISTPACK: {
      // a zset still as loaded: its listpack's own bytes, as Redis writes a listpack it loaded
      const packed = (v as ZSet).packedListpack;
      if (packed !== null) {
        w.blob(latin1Scratch(packed), 0, packed.length);
        return;
      }
      const lp = scratchLp.reset();
      // the leaf chain walked in place (ZSet.forEach's order) rather than a callback per element
      for (let l: ZLeaf | null = (v as ZSet).head; l !== null; l = l.next) {
        const ms = l.m;
        const ss = l.s;
        for (let i = 0; i < ms.length; i++) {
          const m = ms[i]!;
          const s = ss[i]!;
          lp.appendRange(m, 0, m.length);
          // d2string then lpAppend: an integral score within d2string's integer range is
          // stored as that integer; append it directly rather than print and parse it
          if (s > -4503599627370495 && s < 4503599627370496 && Number.isInteger(s) && !Object.is(s, -0)) lp.appendInteger(s);
          else lp.appendString(d2string(s));
        }
      }
      w.blob(unshared(lp.finishView()));
      return;
    }
    case C.RDB_TYPE_ZSET_2:
      writeSkiplistZset(w, v as ZSet);
      return;
    case C.RDB_TYPE_HASH_LISTPACK: {
      // a hash still as loaded: its listpack's own bytes, as Redis writes a listpack it loaded
      const packed = (v as Hash).packedListpack;
      if (packed !== null) {
        w.blob(latin1Scratch(packed), 0, packed.length);
        return;
      }
      const lp = scratchLp.reset();
      lp.appendFlat((v as Hash).lp!, LP_LONG_HEADER);
      w.blob(unshared(lp.finishView()));
      return;
    }
    case C.RDB_TYPE_HASH: {
      const h = v as Hash;
      w.len(h.size);
      h.forEach(writePair, w);
      return;
    }
    case C.RDB_TYPE_STREAM_LISTPACKS_2:
      writeStream(w, v as Stream);
      return;
  }
}

let latin1Buf = Buffer.allocUnsafe(4096);

/**
 * A view of a reused scratch buffer made safe to hand to {@link RdbWriter.blob}: the writer
 * copies a blob under BUF_SIZE bytes into its output, but hands a bigger one to the sink as it
 * is (RdbWriter.bytes), where the next value written into the scratch would change it.
 */
function unshared(b: Buffer): Buffer {
  return b.length < BUF_SIZE ? b : Buffer.from(b);
}

/** `s`'s bytes, in a scratch buffer valid until the next call ({@link unshared} applies). */
function latin1Scratch(s: string): Buffer {
  if (s.length >= BUF_SIZE) return Buffer.from(s, 'latin1');
  if (latin1Buf.length < s.length) latin1Buf = Buffer.allocUnsafe(Math.max(s.length, latin1Buf.length * 2));
  latin1Buf.latin1Write(s, 0, s.length);
  return latin1Buf;
}

/**
 * One listpack writer reused for every small hash and zset: encoding is synchronous and the
 * bytes are copied into the output before the next value starts.
 */
const scratchLp = new ListpackWriter(4096);

function writeString(w: RdbWriter, s: string): void {
  w.string(s);
}

function writePair(w: RdbWriter, f: string, v: string): void {
  w.string(f);
  w.string(v);
}

function writeSkiplistZset(w: RdbWriter, z: ZSet): void {
  w.len(z.size);
  // from the greatest to the smallest, as rdbSaveObject walks the skiplist from its tail
  z.forEachReverse((m, s) => {
    w.string(m);
    w.binaryDouble(s);
  });
}

/**
 * A list as RDB_TYPE_LIST_QUICKLIST_2: the nodes Redis holds after the same commands when the
 * list kept its layout (ListObject.ql), else those a quicklist built by pushing every item at the
 * tail would have (_quicklistNodeAllowInsert of Redis 7.0 with list-max-listpack-size `fill`);
 * each a PACKED listpack, or a PLAIN node for an item of 1 GB or more.
 */
function writeQuicklist(w: RdbWriter, list: ListObject, fill: number): void {
  // the nodes Redis holds after the same commands, when the list kept them (QuicklistLayout)
  const qb = quicklistBuilder.start(fill, list.layout()?.counts() ?? null);
  list.forEachRange(quicklistAdd, qb);
  const nodes = qb.finish();
  w.len(nodes.length);
  const depth = w.opts.limits.listCompressDepth;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    const bytes = typeof node === 'string' ? Buffer.from(node, 'latin1') : node;
    w.len(typeof node === 'string' ? C.QUICKLIST_NODE_CONTAINER_PLAIN : C.QUICKLIST_NODE_CONTAINER_PACKED);
    // with list-compress-depth, Redis keeps inner nodes LZF-compressed and saves them as is
    if (depth > 0 && i >= depth && i < nodes.length - depth && w.lzfBlob(bytes)) continue;
    w.blob(bytes);
  }
  qb.release();
}

/** Pooled node writers kept between lists: at most this many, each at most this large. */
const NODE_POOL_MAX = 64;
const NODE_POOL_BYTES = 64 * 1024;

/**
 * Cuts a list into quicklist nodes as _quicklistNodeAllowInsert does. Node listpacks are built
 * in pooled writers and handed out as views (valid until {@link release}), so saving many small
 * lists allocates nothing per node.
 */
class QuicklistBuilder {
  private readonly pool: ListpackWriter[] = [];
  private used = 0;
  private nodes: Array<Buffer | string> = [];
  private cur: ListpackWriter | null = null;
  private fill = 0;

  /** element counts of the nodes to cut (a kept layout), or null to cut as pushes at the tail */
  private counts: readonly number[] | null = null;
  /** index in {@link counts} of the node being filled */
  private node = 0;

  start(fill: number, counts: readonly number[] | null = null): this {
    this.counts = counts;
    this.node = -1;
    this.fill = fill;
    this.nodes = [];
    this.cur = null;
    this.used = 0;
    return this;
  }

  /** Appends one item: the `sz` chars of `s` from `start`. */
  add(s: string, start: number, sz: number): void {
    let cur = this.cur;
    if (sz >= PACKED_THRESHOLD) {
      if (cur !== null) this.nodes.push(cur.finishView());
      this.cur = null;
      this.nodes.push(start === 0 && sz === s.length ? s : s.slice(start, start + sz));
      return;
    }
    let allow = false;
    const counts = this.counts;
    if (counts !== null) {
      allow = cur !== null && cur.count < counts[this.node]!;
      if (!allow) this.node++;
    } else if (cur !== null) {
      allow = nodeFits(cur.bytes + sz + SIZE_ESTIMATE_OVERHEAD, this.fill, cur.count < this.fill);
    }
    if (!allow) {
      if (cur !== null) this.nodes.push(cur.finishView());
      cur = this.cur = this.writer();
    }
    cur!.appendRange(s, start, sz);
  }

  private writer(): ListpackWriter {
    if (this.used < NODE_POOL_MAX) {
      let lp = this.pool[this.used];
      if (lp === undefined) {
        lp = new ListpackWriter(256);
        this.pool.push(lp);
      }
      this.used++;
      return lp.reset();
    }
    return new ListpackWriter(256);
  }

  /** The nodes: listpack views, or the item itself for a PLAIN node. */
  finish(): Array<Buffer | string> {
    if (this.cur !== null) this.nodes.push(this.cur.finishView());
    this.cur = null;
    return this.nodes;
  }

  /** Ends the views' validity; drops writers grown past the pool's size bound. */
  release(): void {
    for (let i = 0; i < this.used; i++) {
      if (this.pool[i]!.capacity > NODE_POOL_BYTES) this.pool[i] = new ListpackWriter(256);
    }
    this.nodes = [];
    this.used = 0;
  }
}

const quicklistBuilder = new QuicklistBuilder();

function quicklistAdd(qb: QuicklistBuilder, s: string, start: number, len: number): void {
  qb.add(s, start, len);
}

/** One listpack node of a stream being rebuilt. */
interface RdbStreamNode {
  master: StreamID;
  masterKey: string;
  masterFields: string[];
  /** [key, fields] of its entries */
  entries: Array<[string, string[]]>;
  /** [key, fields] of the entries flagged deleted it still holds (StreamNode.tombstones), in key order */
  deleted: ReadonlyArray<[string, string[]]>;
  /** bytes of the entries part (after the master entry) */
  entriesBytes: number;
}

const NO_TOMBSTONES: ReadonlyArray<[string, string[]]> = Object.freeze([]);

function masterPartSize(node: RdbStreamNode): number {
  let n = lpElementSize(node.entries.length) + lpElementSize(0) + lpElementSize(node.masterFields.length) + lpElementSize(0);
  for (const f of node.masterFields) n += lpElementSize(f);
  return n;
}

function sameFields(master: string[], fields: string[]): boolean {
  if (master.length * 2 !== fields.length) return false;
  for (let i = 0; i < master.length; i++) if (master[i] !== fields[2 * i]) return false;
  return true;
}

/** Bytes an entry takes in a node (flags, ID deltas, optional field names, values, lp-count). */
function entrySize(node: RdbStreamNode, id: StreamID, fields: string[]): number {
  const same = sameFields(node.masterFields, fields);
  const nf = fields.length >> 1;
  let n = lpElementSize(same ? 2 : 0) + lpElementSize(BigInt.asIntN(64, id.ms - node.master.ms)) + lpElementSize(BigInt.asIntN(64, id.seq - node.master.seq));
  if (!same) n += lpElementSize(nf);
  for (let i = 0; i < fields.length; i += 2) {
    if (!same) n += lpElementSize(fields[i]!);
    n += lpElementSize(fields[i + 1]!);
  }
  n += lpElementSize(same ? nf + 3 : nf + 3 + nf + 1);
  return n;
}

/**
 * A node's listpack as Redis holds it: count, deleted, the master entry, then the live entries and
 * the tombstones merged in ID order, each tombstone with the DELETED flag.
 */
function nodeListpack(node: RdbStreamNode): Buffer {
  const lp = new ListpackWriter(256);
  const live = node.entries;
  const dead = node.deleted;
  lp.appendInteger(live.length);
  lp.appendInteger(dead.length);
  lp.appendInteger(node.masterFields.length);
  for (const f of node.masterFields) lp.appendString(f);
  lp.appendInteger(0);
  let li = 0;
  let di = 0;
  while (li < live.length || di < dead.length) {
    const isDead = li === live.length || (di < dead.length && dead[di]![0] < live[li]![0]);
    const [k, fields] = isDead ? dead[di++]! : live[li++]!;
    const id = streamIdFromKey(k);
    const same = sameFields(node.masterFields, fields);
    const nf = fields.length >> 1;
    lp.appendInteger((same ? 2 : 0) | (isDead ? 1 : 0));
    lp.appendInteger(BigInt.asIntN(64, id.ms - node.master.ms));
    lp.appendInteger(BigInt.asIntN(64, id.seq - node.master.seq));
    if (!same) lp.appendInteger(nf);
    for (let i = 0; i < fields.length; i += 2) {
      if (!same) lp.appendString(fields[i]!);
      lp.appendString(fields[i + 1]!);
    }
    lp.appendInteger(same ? nf + 3 : nf + 3 + nf + 1);
  }
  return lp.finish();
}

/**
 * A stream as RDB_TYPE_STREAM_LISTPACKS_2: the nodes of its kept layout, tombstones included, as
 * Redis has them after the same commands; without a layout, the listpack nodes streamAppendItem
 * would have built appending every entry in order under stream-node-max-bytes and
 * stream-node-max-entries.
 */
function writeStream(w: RdbWriter, s: Stream): void {
  const nodes = layoutNodes(s) ?? appendNodes(s, w.opts.limits);
  w.len(nodes.length);
  for (const n of nodes) {
    w.string(n.masterKey);
    w.blob(nodeListpack(n));
  }
  writeStreamMeta(w, s);
}

/**
 * The nodes of the stream's kept layout (the boundaries, master entries and tombstones Redis has
 * after the same commands, see StreamLayout); null when there is no layout or it does not match
 * the entries.
 */
function layoutNodes(s: Stream): RdbStreamNode[] | null {
  const layout = s.layout;
  if (layout === null || layout.live !== s.length || layout.nodes.length === 0) return null;
  const out: RdbStreamNode[] = [];
  let total = 0;
  const ln = layout.nodes;
  for (let i = 0; i < ln.length; i++) {
    const node = ln[i]!;
    const next = i + 1 < ln.length ? ln[i + 1]!.masterKey : undefined;
    const entries: Array<[string, string[]]> = [];
    for (const e of s.entries.range(node.masterKey)) {
      if (next !== undefined && e[0] >= next) break;
      entries.push(e);
    }
    total += entries.length;
    const deleted = node.tombstones ?? NO_TOMBSTONES;
    if (entries.length === 0 && deleted.length === 0) continue;
    out.push({ master: { ms: node.masterMs, seq: node.masterSeq }, masterKey: node.masterKey, masterFields: node.masterFields, entries, deleted, entriesBytes: 0 });
  }
  return total === s.length ? out : null;
}

/** The nodes streamAppendItem builds appending every entry in order (no layout kept). */
function appendNodes(s: Stream, limits: TypeLimits): RdbStreamNode[] {
  let maxBytes = limits.streamNodeMaxBytes;
  if (maxBytes === 0 || maxBytes > STREAM_LISTPACK_MAX_SIZE) maxBytes = STREAM_LISTPACK_MAX_SIZE;
  const nodes: RdbStreamNode[] = [];
  let node: RdbStreamNode | null = null;
  for (const [k, fields] of s.entries.entries()) {
    const id = streamIdFromKey(k);
    if (node !== null) {
      let totelelen = 0;
      for (const f of fields) totelelen += f.length;
      const lpBytes = 6 + masterPartSize(node) + node.entriesBytes + 1;
      if (lpBytes + totelelen >= maxBytes) node = null;
      else if (limits.streamNodeMaxEntries && node.entries.length >= limits.streamNodeMaxEntries) node = null;
    }
    if (node === null) {
      const mf: string[] = [];
      for (let i = 0; i < fields.length; i += 2) mf.push(fields[i]!);
      node = { master: id, masterKey: k, masterFields: mf, entries: [], deleted: NO_TOMBSTONES, entriesBytes: 0 };
      nodes.push(node);
    }
    node.entriesBytes += entrySize(node, id, fields);
    node.entries.push([k, fields]);
  }
  return nodes;
}

/** Length, IDs, counters and consumer groups after the nodes (rdbSaveObject, OBJ_STREAM). */
function writeStreamMeta(w: RdbWriter, s: Stream): void {
  w.len(s.length);
  w.len(s.lastId.ms);
  w.len(s.lastId.seq);
  w.len(s.firstId.ms);
  w.len(s.firstId.seq);
  w.len(s.maxDeletedEntryId.ms);
  w.len(s.maxDeletedEntryId.seq);
  w.len(s.entriesAdded);
  const groups = s.sortedGroups();
  w.len(groups.length);
  for (const g of groups) {
    w.string(g.name);
    w.len(g.lastId.ms);
    w.len(g.lastId.seq);
    // a long long saved with rdbSaveLen: -1 becomes 2^64-1
    w.len(BigInt.asUintN(64, BigInt(g.entriesRead)));
    w.len(g.pel.size);
    for (const [k, nack] of g.pel.entries()) {
      w.latin1(k);
      w.millis(nack.deliveryTime);
      w.len(nack.deliveryCount);
    }
    const consumers = g.sortedConsumers();
    w.len(consumers.length);
    for (const c of consumers) {
      w.string(c.name);
      w.millis(c.seenTime);
      w.len(c.pel.size);
      for (const [k] of c.pel.entries()) w.latin1(k);
    }
  }
}

/** Aux fields written after the magic (rdbSaveInfoAuxFields). */
export interface RdbAuxInfo {
  /** Unix seconds; default now */
  ctime?: number;
  /** bytes; default the process's heap in use */
  usedMem?: number;
  /** the file is an AOF base (aof-base 1) */
  aofBase?: boolean;
}

/**
 * Writes a whole RDB file: {@link begin}, then per non-empty database {@link selectDb} and its
 * keys with {@link key}, then {@link end}.
 */
export class RdbFileEncoder {
  readonly w: RdbWriter;

  constructor(sink: (chunk: Buffer) => void, opts: RdbSaveOptions = DEFAULT_SAVE_OPTIONS) {
    this.w = new RdbWriter(sink, opts);
  }

  /**
   * Magic, aux fields, then a FUNCTION2 record per function library (rdbSaveRio's order:
   * rdbSaveInfoAuxFields, rdbSaveFunctions); `functions` are the libraries' codes.
   */
  begin(aux: RdbAuxInfo = {}, functions: readonly string[] = []): void {
    const w = this.w;
    w.latin1(`REDIS${String(C.RDB_VERSION).padStart(4, '0')}`);
    const field = (k: string, v: string): void => {
      w.u8(C.RDB_OPCODE_AUX);
      w.string(k);
      w.string(v);
    };
    field('redis-ver', RDB_REDIS_VER);
    field('redis-bits', '64');
    field('ctime', String(aux.ctime ?? Math.floor(Date.now() / 1000)));
    field('used-mem', String(aux.usedMem ?? process.memoryUsage().heapUsed));
    field('aof-base', aux.aofBase ? '1' : '0');
    writeFunctionRecords(w, functions);
  }

  /** SELECTDB and RESIZEDB for a database with `size` keys of which `expires` have a TTL. */
  selectDb(dbid: number, size: number, expires: number): void {
    const w = this.w;
    w.u8(C.RDB_OPCODE_SELECTDB);
    w.len(dbid);
    w.u8(C.RDB_OPCODE_RESIZEDB);
    w.len(size);
    w.len(expires);
  }

  /**
   * One key (rdbSaveKeyValuePair): EXPIRETIME_MS when `expireAt` is not -1, IDLE (seconds) or
   * FREQ (LFU counter) when given (maxmemory-policy *-lru / *-lfu), then type, key, value.
   */
  key(key: string, value: Value, expireAt = -1, access?: KeyAccess): void {
    writeKeyValuePair(this.w, key, value, expireAt, access);
  }

  /**
   * EOF opcode and the 8-byte checksum (zero when rdbchecksum is off); flushes. `withTrailer` false
   * leaves the checksum to a later stage ({@link RdbLzfStage.end}).
   */
  end(withTrailer = true): void {
    const w = this.w;
    w.u8(C.RDB_OPCODE_EOF);
    if (withTrailer) w.trailer();
    else w.flush();
  }
}

/** LRU/LFU information saved before a key (RDB_OPCODE_IDLE / RDB_OPCODE_FREQ). */
export interface KeyAccess {
  /** idle time in seconds (LRU policies) */
  idle?: number;
  /** LFU counter 0-255 (LFU policies) */
  freq?: number;
}

function writeKeyValuePair(w: RdbWriter, key: string, value: Value, expireAt: number, access?: KeyAccess): void {
  if (expireAt !== -1) {
    w.u8(C.RDB_OPCODE_EXPIRETIME_MS);
    w.millis(expireAt);
  }
  if (access !== undefined) {
    if (access.idle !== undefined) {
      w.u8(C.RDB_OPCODE_IDLE);
      w.len(access.idle);
    }
    if (access.freq !== undefined) {
      w.u8(C.RDB_OPCODE_FREQ);
      w.u8(access.freq);
    }
  }
  writeTypedValue(w, value, key);
}

/**
 * A DUMP payload (createDumpPayload in src/cluster.c): type byte and value, the RDB version as
 * two bytes little-endian, and the CRC-64 of all that, little-endian.
 */
export function dumpPayload(v: Value, opts: RdbSaveOptions = DEFAULT_SAVE_OPTIONS): Buffer {
  return payloadWithFooter((w) => writeTypedValue(w, v), opts);
}

/** A FUNCTION2 record per function library (rdbSaveFunctions): the opcode, then the code as an RDB string. */
export function writeFunctionRecords(w: RdbWriter, codes: readonly string[]): void {
  for (const code of codes) {
    w.u8(C.RDB_OPCODE_FUNCTION2);
    w.string(code);
  }
}

/**
 * A payload in DUMP's frame: what `fill` writes, the RDB version as two bytes little-endian, and
 * the CRC-64 of all that, little-endian (DUMP, FUNCTION DUMP).
 */
export function payloadWithFooter(fill: (w: RdbWriter) => void, opts: RdbSaveOptions = DEFAULT_SAVE_OPTIONS): Buffer {
  const chunks: Buffer[] = [];
  // reuse mode: a 4 KB buffer grown as needed, rather than 64 KB allocated for every DUMP
  const w = new RdbWriter((c) => chunks.push(c), { ...opts, checksum: false }, true);
  fill(w);
  w.u8(C.RDB_VERSION & 0xff);
  w.u8((C.RDB_VERSION >> 8) & 0xff);
  w.flush();
  const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const out = Buffer.allocUnsafe(body.length + 8);
  body.copy(out, 0);
  new Crc64().update(body).writeLE(out, body.length);
  return out;
}

/**
 * The RDB encoder cut per key, for the {@link Snapshot}'s guard: the bytes of a key that is about
 * to change in place, serialized early and later written raw into the file encoder's stream
 * (BGSAVE, the AOF's RDB-preamble base), where they stand exactly as
 * {@link RdbFileEncoder.selectDb} / {@link RdbFileEncoder.key} would have written them.
 */
export interface RdbSnapshotFormat {
  /** per database and per key bytes, for {@link Snapshot} */
  snapshot: {
    beginDb(db: number, keys: number, expires: number): Buffer;
    entry(db: number, key: string, value: Value, expireAt: number): Buffer;
  };
}

/** The RDB encoder as a snapshot format: the same bytes as {@link RdbFileEncoder}, cut per key. */
export function rdbSnapshotFormat(opts: RdbSaveOptions,
  access?: (db: number, key: string, value: Value) => KeyAccess | undefined): RdbSnapshotFormat {
  // one writer for every entry (encoding is synchronous): its buffer is reused and each entry
  // comes out as a right-sized copy, instead of a 4 KB buffer allocated per key
  const chunks: Buffer[] = [];
  const writer = new RdbWriter((c) => chunks.push(c), { ...opts, checksum: false }, true);
  const collect = (fn: (w: RdbWriter) => void): Buffer => {
    chunks.length = 0;
    try {
      fn(writer);
    } finally {
      writer.flush();
      writer.trim();
    }
    const out = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    chunks.length = 0;
    return out;
  };
  return {
    snapshot: {
      beginDb: (db, keys, expires) => collect((w) => {
        w.u8(C.RDB_OPCODE_SELECTDB);
        w.len(db);
        w.u8(C.RDB_OPCODE_RESIZEDB);
        w.len(keys);
        w.len(expires);
      }),
      entry: (db, key, value, expireAt) => collect((w) => {
        writeKeyValuePair(w, key, value, expireAt, access?.(db, key, value));
      }),
    },
  };
}
