import { readSync, fstatSync } from 'node:fs';
import { Crc64 } from './crc64.js';
import { lzfDecompress, lzfDecompressInto, LzfError } from './lzf.js';
import {
  RDB_6BITLEN, RDB_14BITLEN, RDB_32BITLEN, RDB_64BITLEN, RDB_ENCVAL,
  RDB_ENC_INT8, RDB_ENC_INT16, RDB_ENC_INT32, RDB_ENC_LZF,
} from './constants.js';

/**
 * Why an RDB file or DUMP payload was refused: the byte offset (from the start of the file) at
 * which the problem was found, Redis's reason text, and the file name when there is one.
 */
export class RdbError extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
    readonly file = '',
  ) {
    super(file ? `Bad RDB file ${file} at offset ${offset}: ${reason}` : `Bad RDB data at offset ${offset}: ${reason}`);
  }

  /** The same error with the file name filled in. */
  withFile(file: string): RdbError {
    return new RdbError(this.offset, this.reason, file);
  }
}

/** Bytes read from a file per refill: large enough to amortize syscalls, small enough for RSS. */
const CHUNK = 4 * 1024 * 1024;

/** Decompressed strings up to this size go through one reused scratch buffer. */
const LZF_SCRATCH_MAX = 1024 * 1024;
let lzfScratch = Buffer.allocUnsafe(4096);
/** The buffer of {@link RdbReader.readBlobTransient} (apart from lzfScratch: never shared). */
let blobScratch = Buffer.allocUnsafe(16 * 1024);
const SCRATCH_STRING = 0;
const SCRATCH_BLOB = 1;

/** A blob read by {@link RdbReader.readBlob}: bytes [start, end) of `buf`. */
export interface Blob {
  buf: Buffer;
  start: number;
  end: number;
}

/**
 * Sequential reader of RDB primitives (rio + rdbLoadLen/rdbGenericLoadStringObject of
 * src/rdb.c) over an in-memory buffer or a file descriptor read in chunks. Keeps the running
 * CRC-64 of the bytes consumed when asked to. Every read checks bounds: a short file raises an
 * {@link RdbError} ("Unexpected EOF reading RDB file"), never a crash.
 *
 * A buffer handed out by {@link readBlob} stays valid after later reads: refills allocate a new
 * buffer instead of overwriting the old one.
 */
export class RdbReader {
  buf: Buffer;
  pos: number;
  end: number;
  /** file offset of buf[0] */
  private base: number;
  private readonly fd: number | null;
  private filePos: number;
  private eof: boolean;
  /** size of the whole source, to refuse impossible lengths before allocating */
  private readonly total: number;
  /** CRC of consumed bytes up to buf[crcPos] (null: not computed) */
  crc: Crc64 | null = null;
  private crcPos = 0;
  /** true after {@link readEncodedLen} when the length was a special encoding */
  encoded = false;

  /**
   * @param source a buffer holding the data, or a file descriptor to read from `startOffset`
   * @param startOffset where reading starts: in the buffer, or in the file
   */
  constructor(source: Buffer | number, startOffset = 0) {
    if (typeof source === 'number') {
      this.fd = source;
      this.buf = Buffer.alloc(0);
      this.pos = 0;
      this.end = 0;
      this.base = startOffset;
      this.filePos = startOffset;
      this.eof = false;
      this.total = fstatSync(source).size;
    } else {
      this.fd = null;
      this.buf = source;
      this.pos = startOffset;
      this.end = source.length;
      this.base = 0;
      this.filePos = source.length;
      this.eof = true;
      this.total = source.length;
    }
    this.crcPos = this.pos;
  }

  /** Offset (in the file or buffer) of the next byte to read. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Starts computing the CRC-64 from the current position. */
  startCrc(): void {
    this.crc = new Crc64();
    this.crcPos = this.pos;
  }

  /** Adds the consumed bytes not yet in the CRC. */
  flushCrc(): void {
    if (this.crc !== null && this.pos > this.crcPos) this.crc.update(this.buf, this.crcPos, this.pos);
    this.crcPos = this.pos;
  }

  /** Stops the CRC (the stored checksum itself is not part of it) and returns it. */
  stopCrc(): Crc64 | null {
    this.flushCrc();
    const c = this.crc;
    this.crc = null;
    return c;
  }

  /** Makes `n` bytes available at `pos`, reading from the file as needed. */
  ensure(n: number): void {
    if (this.end - this.pos >= n) return;
    if (this.fd === null || this.eof || this.base + this.pos + n > this.total) throw this.error('Unexpected EOF reading RDB file');
    this.flushCrc();
    const keep = this.end - this.pos;
    const size = Math.max(CHUNK, n);
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, this.pos, this.end);
    let have = keep;
    while (have < size) {
      const r = readSync(this.fd, nb, have, size - have, this.filePos);
      if (r === 0) {
        this.eof = true;
        break;
      }
      this.filePos += r;
      have += r;
    }
    this.base += this.pos;
    this.buf = nb;
    this.pos = 0;
    this.crcPos = 0;
    this.end = have;
    if (have < n) throw this.error('Unexpected EOF reading RDB file');
  }

  /** An {@link RdbError} at the current offset. */
  error(reason: string, at = this.offset): RdbError {
    return new RdbError(at, reason);
  }

  u8(): number {
    if (this.pos >= this.end) this.ensure(1);
    return this.buf[this.pos++]!;
  }

  /** Raw bytes as a buffer (valid after further reads). */
  bytes(n: number): Buffer {
    this.ensure(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Signed 64-bit little-endian (rdbLoadMillisecondTime), as a number (ms fit in 2^53). */
  int64LE(): number {
    this.ensure(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }

  /** Signed 32-bit little-endian (rdbLoadTime). */
  int32LE(): number {
    this.ensure(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** IEEE-754 binary64 little-endian (rdbLoadBinaryDoubleValue). */
  binaryDouble(): number {
    this.ensure(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** IEEE-754 binary32 little-endian (rdbLoadBinaryFloatValue). */
  binaryFloat(): number {
    this.ensure(4);
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }

  /**
   * A length or special-encoding marker (rdbLoadLenByRef): sets {@link encoded}. Values beyond
   * 2^53 come back rounded; use {@link readLenBig} where they matter.
   */
  readEncodedLen(): number {
    const b = this.u8();
    const type = (b & 0xc0) >> 6;
    this.encoded = false;
    if (type === RDB_ENCVAL) {
      this.encoded = true;
      return b & 0x3f;
    }
    if (type === RDB_6BITLEN) return b & 0x3f;
    if (type === RDB_14BITLEN) return ((b & 0x3f) << 8) | this.u8();
    if (b === RDB_32BITLEN) {
      this.ensure(4);
      const v = this.buf.readUInt32BE(this.pos);
      this.pos += 4;
      return v;
    }
    if (b === RDB_64BITLEN) {
      this.ensure(8);
      const hi = this.buf.readUInt32BE(this.pos);
      const lo = this.buf.readUInt32BE(this.pos + 4);
      this.pos += 8;
      return hi * 0x100000000 + lo;
    }
    throw this.error(`Unknown length encoding ${type} in rdbLoadLen()`, this.offset - 1);
  }

  /** A plain length (rdbLoadLen); an encoding marker where a length is due is corruption. */
  readLen(): number {
    const at = this.offset;
    const v = this.readEncodedLen();
    if (this.encoded) throw this.error(`Unexpected string encoding where a length was expected`, at);
    return v;
  }

  /** A plain length as an exact unsigned 64-bit bigint (stream IDs and counters). */
  readLenBig(): bigint {
    const at = this.offset;
    const b = this.u8();
    if (b === RDB_64BITLEN) {
      this.ensure(8);
      const v = this.buf.readBigUInt64BE(this.pos);
      this.pos += 8;
      return v;
    }
    this.pos--;
    const v = this.readEncodedLen();
    if (this.encoded) throw this.error('Unexpected string encoding where a length was expected', at);
    return BigInt(v);
  }

  /**
   * A string (rdbGenericLoadStringObject) as a latin1 string: raw, integer-encoded (as its
   * decimal form) or LZF-compressed.
   */
  readString(): string {
    const len = this.readEncodedLen();
    if (this.encoded) return this.readSpecialString(len);
    if (len === 0) return '';
    this.ensure(len);
    const s = this.buf.latin1Slice(this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** A string as bytes: raw (a view into the read buffer), integer-encoded or decompressed. */
  readBlob(): Blob {
    const len = this.readEncodedLen();
    if (this.encoded) {
      if (len === RDB_ENC_LZF) {
        const out = this.readLzf();
        return { buf: out, start: 0, end: out.length };
      }
      const s = this.readSpecialString(len);
      const b = Buffer.from(s, 'latin1');
      return { buf: b, start: 0, end: b.length };
    }
    this.ensure(len);
    const blob = { buf: this.buf, start: this.pos, end: this.pos + len };
    this.pos += len;
    return blob;
  }

  /**
   * Like {@link readBlob}, but an LZF blob is decompressed into a buffer reused by the next call,
   * and the Blob returned is one object of this reader, overwritten by the next call too: for
   * blobs consumed at once (set members, listpacks, intsets, ziplists turned into values), so
   * that loading makes no garbage per blob (a set of 100 members read 100 of them).
   */
  readBlobTransient(): Blob {
    const len = this.readEncodedLen();
    const b = this.transient;
    if (this.encoded) {
      if (len === RDB_ENC_LZF) {
        b.end = this.readLzfInto(SCRATCH_BLOB);
        b.buf = this.lzfOut;
        b.start = 0;
        return b;
      }
      const str = this.readSpecialString(len);
      b.buf = Buffer.from(str, 'latin1');
      b.start = 0;
      b.end = b.buf.length;
      return b;
    }
    this.ensure(len);
    b.buf = this.buf;
    b.start = this.pos;
    b.end = this.pos + len;
    this.pos += len;
    return b;
  }

  /** The Blob {@link readBlobTransient} returns. */
  private readonly transient: Blob = { buf: blobScratch, start: 0, end: 0 };

  /** Output buffer of the last {@link readLzfInto}. */
  private lzfOut: Buffer = blobScratch;

  /**
   * Reads an LZF string's lengths and data and decompresses it into scratch buffer `which`
   * (a fresh buffer beyond LZF_SCRATCH_MAX, so no scratch stays huge); the bytes are
   * [0, returned length) of {@link lzfOut}.
   */
  private readLzfInto(which: number): number {
    const at = this.offset;
    const clen = this.readLen();
    const len = this.readLen();
    // a back reference of 3 bytes expands to at most 264: anything beyond is corrupt
    if (len > 0x7fffffff || clen > 0x7fffffff || len > clen * 88 + 32) throw this.error(`rdbLoadLzfStringObject failed allocating ${len} bytes`, at);
    this.ensure(clen);
    let out: Buffer;
    if (len > LZF_SCRATCH_MAX) {
      out = Buffer.allocUnsafe(len);
    } else if (which === SCRATCH_STRING) {
      if (lzfScratch.length < len) lzfScratch = Buffer.allocUnsafe(Math.min(LZF_SCRATCH_MAX, Math.max(len, lzfScratch.length * 2)));
      out = lzfScratch;
    } else {
      if (blobScratch.length < len) blobScratch = Buffer.allocUnsafe(Math.min(LZF_SCRATCH_MAX, Math.max(len, blobScratch.length * 2)));
      out = blobScratch;
    }
    try {
      lzfDecompressInto(this.buf, this.pos, this.pos + clen, out, 0, len);
    } catch (e) {
      if (e instanceof LzfError) throw this.error('Invalid LZF compressed string', at);
      throw e;
    }
    this.pos += clen;
    this.lzfOut = out;
    return len;
  }

  private readSpecialString(enc: number): string {
    switch (enc) {
      case RDB_ENC_INT8: {
        this.ensure(1);
        const v = this.buf.readInt8(this.pos);
        this.pos += 1;
        return String(v);
      }
      case RDB_ENC_INT16: {
        this.ensure(2);
        const v = this.buf.readInt16LE(this.pos);
        this.pos += 2;
        return String(v);
      }
      case RDB_ENC_INT32: {
        this.ensure(4);
        const v = this.buf.readInt32LE(this.pos);
        this.pos += 4;
        return String(v);
      }
      case RDB_ENC_LZF:
        return this.readLzfString();
      default:
        throw this.error(`Unknown RDB string encoding type ${enc}`, this.offset - 1);
    }
  }

  /** An LZF string decompressed into a reused buffer, as a latin1 string. */
  private readLzfString(): string {
    const n = this.readLzfInto(SCRATCH_STRING);
    return this.lzfOut.latin1Slice(0, n);
  }

  private readLzf(): Buffer {
    const at = this.offset;
    const clen = this.readLen();
    const len = this.readLen();
    // a back reference of 3 bytes expands to at most 264: anything beyond is corrupt
    if (len > 0x7fffffff || clen > 0x7fffffff || len > clen * 88 + 32) throw this.error(`rdbLoadLzfStringObject failed allocating ${len} bytes`, at);
    this.ensure(clen);
    try {
      const out = lzfDecompress(this.buf, len, this.pos, this.pos + clen);
      this.pos += clen;
      return out;
    } catch (e) {
      if (e instanceof LzfError) throw this.error('Invalid LZF compressed string', at);
      throw e;
    }
  }

  /**
   * A double in the old text form (rdbLoadDoubleValue): a length byte, 253 NaN, 254 +inf,
   * 255 -inf, else that many chars read with "%lg".
   */
  readTextDouble(): number {
    const len = this.u8();
    if (len === 255) return -Infinity;
    if (len === 254) return Infinity;
    if (len === 253) return NaN;
    this.ensure(len);
    const s = this.buf.latin1Slice(this.pos, this.pos + len);
    this.pos += len;
    const v = scanDouble(s);
    if (v === null) throw this.error('Unexpected EOF reading RDB file');
    return v;
  }
}

/**
 * sscanf("%lg") / strtod of a prefix: leading spaces, sign, digits, fraction, exponent,
 * inf/infinity/nan. Null when nothing converts.
 */
export function scanDouble(s: string): number | null {
  const m = /^\s*([+-]?)(?:(inf(?:inity)?)|(nan)|((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))/i.exec(s);
  if (!m) return null;
  const neg = m[1] === '-';
  if (m[2]) return neg ? -Infinity : Infinity;
  if (m[3]) return NaN;
  const v = Number(m[4]);
  return neg ? -v : v;
}
