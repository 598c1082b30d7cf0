import { splitArgs } from './splitargs.js';

/** Largest inline request or bulk/multibulk header Redis accepts before a newline (PROTO_INLINE_MAX_SIZE). */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;

const EMPTY = Buffer.alloc(0);

/** A protocol error: `message` is the error reply Redis sends (without the leading '-') before closing. */
export class ProtocolError extends Error {}

/** What the parser needs to know about the connection it serves. */
export interface ParserLimits {
  /** proto-max-bulk-len, bytes */
  maxBulkLen: number;
  /** true while the client must still AUTH: Redis then limits multibulk counts to 10 and bulks to 16384 bytes */
  authRequired: boolean;
}

/**
 * Incremental RESP request parser following Redis 7.0's processMultibulkBuffer and
 * processInlineBuffer (src/networking.c): multibulk requests (`*N\r\n$len\r\n...`) and inline
 * requests (space-separated, quoted like sdssplitargs). Arguments come out as latin1 strings,
 * one char per byte, so any byte is carried unchanged.
 *
 * Feed it chunks with {@link feed}; call {@link next} until it returns null. A request with zero
 * arguments (an empty line, `*0`) is skipped as Redis skips it. Like Redis, the CRLF after a
 * bulk payload is not checked, only skipped.
 */
export class RequestParser {
  private buf: Buffer = EMPTY;
  /** bytes of {@link buf} that hold data: a shared read buffer is longer than one read */
  private end = 0;
  private pos = 0;
  /** chunks held back while a large bulk payload is still arriving */
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private multibulkLen = 0;
  private bulkLen = -1;
  private argv: string[] = [];
  /** true while {@link buf} is a chunk its owner will overwrite (see {@link detach}) */
  private transient = false;

  /**
   * Bulk lengths above which the limits are checked: 16384 (the unauthenticated limit), or less
   * when maxBulkLen starts lower. proto-max-bulk-len cannot go below 1 MB, so for a server the
   * bound never moves; a ParserLimits whose maxBulkLen shrinks below it is not supported.
   */
  private readonly checkAbove: number;

  constructor(private readonly limits: ParserLimits) {
    this.checkAbove = Math.min(16384, limits.maxBulkLen);
  }

  /** Bytes received but not yet consumed by a complete request (the query buffer length). */
  get bufferedBytes(): number {
    return this.end - this.pos + this.pendingLen;
  }

  /**
   * Appends received bytes. The chunk is copied out of only when a request spans chunks.
   * `transient`: the caller reuses the chunk's memory after this turn (a shared read buffer); it
   * must then call {@link detach} once it has consumed the requests it wants for now. `length`:
   * the bytes of `chunk` that were received (a read into a larger buffer).
   */
  feed(chunk: Buffer, transient = false, length = chunk.length): void {
    if (this.pos >= this.end && this.pendingLen === 0) {
      this.buf = chunk;
      this.end = length;
      this.pos = 0;
      this.transient = transient;
      return;
    }
    if (transient || length !== chunk.length) chunk = Buffer.from(chunk.subarray(0, length));
    // While waiting for a big bulk body, keep chunks aside and join once it is complete,
    // so a 512 MB value costs one copy, not one per chunk.
    if (this.bulkLen >= 0) {
      this.pending.push(chunk);
      this.pendingLen += chunk.length;
      if (this.end - this.pos + this.pendingLen < this.bulkLen + 2) return;
    } else {
      this.pending.push(chunk);
      this.pendingLen += chunk.length;
    }
    this.buf = Buffer.concat([this.buf.subarray(this.pos, this.end), ...this.pending]);
    this.end = this.buf.length;
    this.pos = 0;
    this.transient = false;
    this.pending = [];
    this.pendingLen = 0;
  }

  /**
   * Returns the next complete request's argv, or null when more bytes are needed.
   * @throws ProtocolError with Redis's reply text on malformed input; the caller replies and closes.
   */
  next(): string[] | null {
    for (;;) {
      if (this.pendingLen > 0) return null;
      const buf = this.buf;
      const end = this.end;
      if (this.multibulkLen === 0) {
        if (this.pos >= end) return null;
        if (buf[this.pos] !== 42 /* '*' */) {
          const argv = this.inline();
          if (argv === null) return null;
          if (argv.length === 0) continue;
          return argv;
        }
        const nl = indexOfCR(buf, this.pos, end);
        if (nl < 0) {
          if (end - this.pos > PROTO_INLINE_MAX_SIZE) {
            throw new ProtocolError('ERR Protocol error: too big mbulk count string');
          }
          return null;
        }
        if (nl + 1 >= end) return null; // the \n is not here yet
        const ll = parseLongLong(buf, this.pos + 1, nl);
        if (ll === null || ll > 2147483647) throw new ProtocolError('ERR Protocol error: invalid multibulk length');
        if (ll > 10 && this.limits.authRequired) {
          throw new ProtocolError('ERR Protocol error: unauthenticated multibulk length');
        }
        this.pos = nl + 2;
        if (ll <= 0) continue;
        this.multibulkLen = ll;
        this.argv = [];
      }
      while (this.multibulkLen > 0) {
        if (this.bulkLen === -1) {
          const nl = indexOfCR(buf, this.pos, end);
          if (nl < 0) {
            if (end - this.pos > PROTO_INLINE_MAX_SIZE) {
              throw new ProtocolError('ERR Protocol error: too big bulk count string');
            }
            this.compact();
            return null;
          }
          if (nl + 1 >= end) {
            this.compact();
            return null;
          }
          if (buf[this.pos] !== 36 /* '$' */) {
            throw new ProtocolError(`ERR Protocol error: expected '$', got '${String.fromCharCode(buf[this.pos]!)}'`);
          }
          const ll = parseLongLong(buf, this.pos + 1, nl);
          if (ll === null || ll < 0) throw new ProtocolError('ERR Protocol error: invalid bulk length');
          // small bulks need not consult the limits (a config lookup): see checkAbove
          if (ll > this.checkAbove) {
            if (ll > this.limits.maxBulkLen) throw new ProtocolError('ERR Protocol error: invalid bulk length');
            if (this.limits.authRequired) throw new ProtocolError('ERR Protocol error: unauthenticated bulk length');
          }
          this.pos = nl + 2;
          this.bulkLen = ll;
        }
        if (end - this.pos < this.bulkLen + 2) {
          this.compact();
          return null;
        }
        const argv = this.argv;
        if (argv.length === 0) argv.push(this.commandName(buf, this.pos, this.bulkLen));
        else argv.push(buf.latin1Slice(this.pos, this.pos + this.bulkLen));
        this.pos += this.bulkLen + 2;
        this.bulkLen = -1;
        this.multibulkLen--;
      }
      const argv = this.argv;
      this.argv = [];
      return argv;
    }
  }

  /**
   * argv[0] of a request: the previous request's string when the bytes are the same. A client
   * mostly repeats a few commands; reusing the string saves its allocation, and the command
   * table lookup finds its hash already computed.
   */
  private commandName(buf: Buffer, pos: number, len: number): string {
    const last = this.lastName;
    if (last.length === len && len <= 32) {
      let i = 0;
      while (i < len && buf[pos + i] === last.charCodeAt(i)) i++;
      if (i === len) return last;
    }
    const name = buf.latin1Slice(pos, pos + len);
    if (len <= 32) this.lastName = name;
    return name;
  }
  private lastName = '';

  /**
   * Copies the unconsumed bytes out of a transient chunk (see {@link feed}), so the caller may
   * overwrite it. Cheap when everything was consumed, as it is after a complete read.
   */
  detach(): void {
    if (!this.transient) return;
    this.transient = false;
    this.buf = this.pos < this.end ? Buffer.from(this.buf.subarray(this.pos, this.end)) : EMPTY;
    this.end = this.buf.length;
    this.pos = 0;
  }

  /** Drops consumed bytes so a partial request does not pin the whole received chunk. */
  private compact(): void {
    if (this.pos > 0 && this.pos >= this.end / 2) {
      this.buf = Buffer.from(this.buf.subarray(this.pos, this.end));
      this.end = this.buf.length;
      this.pos = 0;
      this.transient = false;
    }
  }

  private inline(): string[] | null {
    const buf = this.buf;
    let nl = buf.indexOf(10 /* \n */, this.pos);
    if (nl >= this.end) nl = -1;
    if (nl < 0) {
      if (this.end - this.pos > PROTO_INLINE_MAX_SIZE) {
        throw new ProtocolError('ERR Protocol error: too big inline request');
      }
      this.compact();
      return null;
    }
    let end = nl;
    if (end > this.pos && buf[end - 1] === 13) end--;
    const line = buf.latin1Slice(this.pos, end);
    const argv = splitArgs(line);
    if (argv === null) throw new ProtocolError('ERR Protocol error: unbalanced quotes in request');
    this.pos = nl + 1;
    return argv;
  }
}

/**
 * Index of the first CR in buf[from, end), or -1. Request headers (`*3`, `$5`) are a few bytes
 * long: a JS loop beats Buffer#indexOf's native call there; past a header's plausible length it
 * hands over to indexOf.
 */
function indexOfCR(buf: Buffer, from: number, end: number): number {
  const stop = Math.min(end, from + 24);
  for (let i = from; i < stop; i++) if (buf[i] === 13) return i;
  if (stop === end) return -1;
  const i = buf.indexOf(13, stop);
  return i < end ? i : -1;
}

/**
 * Parses a signed decimal integer from buf[start, end) strictly as Redis's string2ll: no spaces,
 * no '+', no leading zeros (except "0"), within int64. Returns null when invalid. Values beyond
 * 2^53 lose precision, which is harmless for lengths (they fail the range checks anyway).
 */
function parseLongLong(buf: Buffer, start: number, end: number): number | null {
  if (start >= end || end - start > 20) return null;
  let i = start;
  let neg = false;
  if (buf[i] === 45 /* - */) {
    neg = true;
    i++;
    if (i === end) return null;
  }
  if (buf[i] === 48 /* 0 */) return end - i === 1 && !neg ? 0 : null;
  let v = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}
