import { formatDouble } from '../util/number.js';

/** A RESP3 reply tree, for replies built as data (COMMAND INFO/DOCS, CONFIG GET, HELLO). */
export type ReplyNode =
  | string
  | number
  | bigint
  | null
  | ReplyNode[]
  | { map: ReplyNode[] }
  | { set: ReplyNode[] }
  | { s: string }
  | { err: string }
  | { double: number }
  | { bool: boolean };

/**
 * Accumulates RESP replies as one latin1 string, for RESP2 or RESP3 (`resp`), following Redis's
 * addReply* family (src/networking.c). Types that RESP2 lacks degrade as Redis degrades them:
 * maps become flat arrays, sets arrays, doubles bulk strings, booleans integers, push frames
 * arrays, and the RESP3 null `_` becomes `$-1` or `*-1`.
 *
 * Strings are latin1 (one char per byte), so lengths are byte lengths.
 */
export class ReplyWriter {
  /** pending output, flushed to the socket at the end of the event-loop turn */
  out = '';
  resp: 2 | 3 = 2;
  /** set by addReplyError; dispatch reads it for errorstats and failed_calls */
  lastError: string | null = null;

  addRaw(s: string): void {
    this.out += s;
  }
  addOk(): void {
    this.out += '+OK\r\n';
  }
  addSimple(s: string): void {
    this.out += '+' + s + '\r\n';
  }
  /**
   * Adds an error reply. `msg` carries its code ("ERR ...", "WRONGTYPE ..."); CR and LF are
   * replaced by spaces as Redis's addReplyErrorLength does, so a reply can never be split.
   */
  addError(msg: string): void {
    if (msg.indexOf('\r') >= 0 || msg.indexOf('\n') >= 0) msg = msg.replace(/[\r\n]/g, ' ');
    this.lastError = msg;
    this.out += '-' + msg + '\r\n';
  }
  addInt(n: number | bigint): void {
    this.out += ':' + n + '\r\n';
  }
  addBulk(s: string): void {
    this.out += '$' + s.length + '\r\n' + s + '\r\n';
  }
  /** Bulk string of a number's decimal form (addReplyBulkLongLong). */
  addBulkInt(n: number | bigint): void {
    this.addBulk(String(n));
  }
  /** The null bulk string: `$-1` in RESP2, `_` in RESP3 (addReplyNull). */
  addNull(): void {
    this.out += this.resp === 2 ? '$-1\r\n' : '_\r\n';
  }
  /** The null array: `*-1` in RESP2, `_` in RESP3 (addReplyNullArray). */
  addNullArray(): void {
    this.out += this.resp === 2 ? '*-1\r\n' : '_\r\n';
  }
  addArrayLen(n: number): void {
    this.out += '*' + n + '\r\n';
  }
  /** Map header with n key-value pairs: `%n` in RESP3, `*2n` in RESP2. */
  addMapLen(n: number): void {
    this.out += this.resp === 2 ? '*' + n * 2 + '\r\n' : '%' + n + '\r\n';
  }
  addSetLen(n: number): void {
    this.out += this.resp === 2 ? '*' + n + '\r\n' : '~' + n + '\r\n';
  }
  addPushLen(n: number): void {
    this.out += this.resp === 2 ? '*' + n + '\r\n' : '>' + n + '\r\n';
  }
  /** A double: `,x` in RESP3, a bulk string in RESP2 (addReplyDouble; %.17g formatting). */
  addDouble(d: number): void {
    const s = formatDouble(d);
    if (this.resp === 3) this.out += ',' + s + '\r\n';
    else this.addBulk(s);
  }
  addBool(b: boolean): void {
    this.out += this.resp === 3 ? (b ? '#t\r\n' : '#f\r\n') : b ? ':1\r\n' : ':0\r\n';
  }
  /** Verbatim string (`=len\r\ntxt:...`) in RESP3, plain bulk in RESP2 (addReplyVerbatim). */
  addVerbatim(s: string, format = 'txt'): void {
    if (this.resp === 3) this.out += '=' + (s.length + 4) + '\r\n' + format + ':' + s + '\r\n';
    else this.addBulk(s);
  }
  addBulkArray(items: readonly string[]): void {
    let s = '*' + items.length + '\r\n';
    for (const it of items) s += '$' + it.length + '\r\n' + it + '\r\n';
    this.out += s;
  }
  /** Emits a reply tree; see {@link ReplyNode}. Numbers are integers unless wrapped in {double}. */
  addNode(node: ReplyNode): void {
    if (node === null) return this.addNull();
    if (typeof node === 'string') return this.addBulk(node);
    if (typeof node === 'number' || typeof node === 'bigint') return this.addInt(node);
    if (Array.isArray(node)) {
      this.addArrayLen(node.length);
      for (const n of node) this.addNode(n);
      return;
    }
    if ('map' in node) {
      this.addMapLen(node.map.length / 2);
      for (const n of node.map) this.addNode(n);
    } else if ('set' in node) {
      this.addSetLen(node.set.length);
      for (const n of node.set) this.addNode(n);
    } else if ('s' in node) {
      this.addSimple(node.s);
    } else if ('err' in node) {
      this.addError(node.err);
    } else if ('double' in node) {
      this.addDouble(node.double);
    } else {
      this.addBool(node.bool);
    }
  }
}

/** Pre-encoded frequent replies. */
export const SHARED = {
  ok: '+OK\r\n',
  pong: '+PONG\r\n',
  queued: '+QUEUED\r\n',
  czero: ':0\r\n',
  cone: ':1\r\n',
  emptyArray: '*0\r\n',
} as const;
