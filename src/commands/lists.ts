/**
 * List commands (src/t_list.c of Redis 7.0.15): LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LINDEX
 * LSET LRANGE LTRIM LREM LINSERT LPOS LMOVE RPOPLPUSH LMPOP, and the blocking BLPOP BRPOP BLMOVE
 * BRPOPLPUSH BLMPOP through server/blocking.ts.
 *
 * Replies, error texts, argument-check order, keyspace events and dirty counts follow Redis 7.0.15
 * (the dirty counter is set explicitly where the keyspace gate counts differently from Redis,
 * e.g. deleting an emptied list costs nothing in Redis). An emptied list is deleted. Propagation:
 * a blocking pop that does not block propagates as its plain form (BLPOP -> LPOP, BLMOVE -> LMOVE,
 * BRPOPLPUSH -> RPOPLPUSH, BLMPOP and LMPOP -> LPOP/RPOP key count); a served blocked client
 * propagates the same way from the blocking layer.
 */
import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import type { RObject } from '../keyspace/types/object.js';
import { ERR, getLongOrReply } from '../server/dispatch.js';
import { NOTIFY_GENERIC, NOTIFY_LIST } from '../keyspace/notify.js';
import { ListObject } from '../keyspace/types/list.js';
import { parseLong, parseInt64, INT64_MIN } from '../util/number.js';
import { blockForKeys, isInMulti, parseTimeout, type BlockRequest } from '../server/blocking.js';

const CZERO = ':0\r\n';
const EMPTY_ARRAY = '*0\r\n';

/** strcasecmp(arg, word) == 0 for a lower-case word: C strings end at a NUL byte. */
function isWord(arg: string, word: string): boolean {
  const z = arg.indexOf('\0');
  const s = z < 0 ? arg : arg.slice(0, z);
  return s.length === word.length && s.toLowerCase() === word;
}

/** getListPositionFromObjectOrReply: LEFT -> true (head), RIGHT -> false, else syntax error. */
function whereArg(c: Client, s: string): boolean | null {
  if (isWord(s, 'left')) return true;
  if (isWord(s, 'right')) return false;
  c.addError(ERR.syntax);
  return null;
}

function bulk(v: string): string {
  return '$' + v.length + '\r\n' + v + '\r\n';
}

/** The value of `key` for a write if it is a list; undefined when missing; null after WRONGTYPE. */
function listForWrite(c: Client, key: string): ListObject | undefined | null {
  const o = c.db.lookupWrite(key);
  if (o === undefined) return undefined;
  if (o instanceof ListObject) return o;
  c.addError(ERR.wrongType);
  return null;
}

function listForRead(c: Client, key: string): ListObject | undefined | null {
  const o = c.db.lookupRead(key);
  if (o === undefined) return undefined;
  if (o instanceof ListObject) return o;
  c.addError(ERR.wrongType);
  return null;
}

/**
 * listElementsRemoved (t_list.c): `lpop`/`rpop` event, the key deleted with a `del` event when the
 * list is empty, and the key signalled. Returns true when the key was deleted. Dirty is the
 * caller's business.
 */
function elementsRemoved(c: Client, key: string, l: ListObject, head: boolean): boolean {
  const db = c.db;
  db.ks.notify(NOTIFY_LIST, head ? 'lpop' : 'rpop', key, db.id);
  if (l.length === 0) {
    db.deleteKey(key);
    db.ks.notify(NOTIFY_GENERIC, 'del', key, db.id);
    return true;
  }
  db.modified(key, 0);
  return false;
}

/** Deletes an emptied list with its `del` event, or signals the change. */
function deleteIfEmpty(c: Client, key: string, l: ListObject): void {
  const db = c.db;
  if (l.length === 0) {
    db.deleteKey(key);
    db.ks.notify(NOTIFY_GENERIC, 'del', key, db.id);
  } else {
    db.modified(key, 0);
  }
}

// ---- push ---------------------------------------------------------------------------------

/** pushGenericCommand / pushxGenericCommand: LPUSH RPUSH LPUSHX RPUSHX. */
function pushGeneric(c: Client, head: boolean, xx: boolean): void {
  const argv = c.argv;
  const key = argv[1]!;
  const db = c.db;
  const o = db.lookupWrite(key);
  let l: ListObject;
  const n = argv.length - 2;
  if (o === undefined) {
    if (xx) {
      c.addRaw(CZERO);
      return;
    }
    l = ListObject.created(c.server.config.get<number>('list-max-listpack-size'));
    if (head) for (let j = 2; j < argv.length; j++) l.pushHead(argv[j]!);
    else for (let j = 2; j < argv.length; j++) l.pushTail(argv[j]!);
    db.setKey(key, l);
    db.ks.dirty += n - 1; // setKey counted one; Redis counts one per element
  } else {
    if (!(o instanceof ListObject)) {
      c.addError(ERR.wrongType);
      return;
    }
    l = o;
    if (head) for (let j = 2; j < argv.length; j++) l.pushHead(argv[j]!);
    else for (let j = 2; j < argv.length; j++) l.pushTail(argv[j]!);
    db.modified(key, n);
  }
  c.addInt(l.length);
  db.ks.notify(NOTIFY_LIST, head ? 'lpush' : 'rpush', key, db.id);
}

// ---- pop ----------------------------------------------------------------------------------

/** Replies `*n` and the first (head) or last (tail, in pop order) n elements, then removes them. */
function popRangeReply(c: Client, l: ListObject, head: boolean, n: number): void {
  const len = l.length;
  c.addRaw('*' + n + '\r\n' + (head ? l.rangeReply(0, n - 1) : l.rangeReply(len - n, len - 1, true)));
  if (head) l.trim(n, 0);
  else l.trim(0, n);
}

/** popGenericCommand: LPOP/RPOP key [count]. */
function popGeneric(c: Client, head: boolean): void {
  const argv = c.argv;
  if (argv.length > 3) {
    c.addError(`ERR wrong number of arguments for '${c.cmd?.fullName ?? (head ? 'lpop' : 'rpop')}' command`);
    return;
  }
  const hascount = argv.length === 3;
  let count = 0;
  if (hascount) {
    const v = parseLong(argv[2]!);
    if (v === null || v < 0) {
      c.addError('ERR value is out of range, must be positive');
      return;
    }
    count = v;
  }
  const key = argv[1]!;
  const l = listForWrite(c, key);
  if (l === null) return;
  if (l === undefined) {
    if (hascount) c.addNullArray();
    else c.addNull();
    return;
  }
  if (hascount && count === 0) {
    c.addRaw(EMPTY_ARRAY);
    return;
  }
  const ks = c.db.ks;
  const d0 = ks.dirty;
  let removed = 1;
  if (!hascount) {
    c.addBulk((head ? l.popHead() : l.popTail())!);
  } else {
    removed = Math.min(count, l.length);
    popRangeReply(c, l, head, removed);
  }
  elementsRemoved(c, key, l, head);
  ks.dirty = d0 + removed;
}

// ---- read ---------------------------------------------------------------------------------

function llen(c: Client): void {
  const l = listForRead(c, c.argv[1]!);
  if (l === null) return;
  if (l === undefined) c.addRaw(CZERO);
  else c.addInt(l.length);
}

function lindex(c: Client): void {
  const l = listForRead(c, c.argv[1]!);
  if (l === null) return;
  if (l === undefined) {
    c.addNull();
    return;
  }
  let index = getLongOrReply(c, c.argv[2]!);
  if (index === null) return;
  if (index < 0) index += l.length;
  if (index < 0 || index >= l.length) c.addNull();
  else c.addBulk(l.get(index));
}

function lrange(c: Client): void {
  const argv = c.argv;
  let start = getLongOrReply(c, argv[2]!);
  if (start === null) return;
  let end = getLongOrReply(c, argv[3]!);
  if (end === null) return;
  const l = listForRead(c, argv[1]!);
  if (l === null) return;
  if (l === undefined) {
    c.addRaw(EMPTY_ARRAY);
    return;
  }
  const llen = l.length;
  if (start < 0) start += llen;
  if (end < 0) end += llen;
  if (start < 0) start = 0;
  if (start > end || start >= llen) {
    c.addRaw(EMPTY_ARRAY);
    return;
  }
  if (end >= llen) end = llen - 1;
  c.addRaw('*' + (end - start + 1) + '\r\n' + l.rangeReply(start, end));
}

/** LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] (lposCommand). */
function lpos(c: Client): void {
  const argv = c.argv;
  const ele = argv[2]!;
  let rank = 1;
  let rankIsMin = false;
  let count = -1;
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!;
    const moreargs = argv.length - 1 - j;
    if (moreargs > 0 && isWord(opt, 'rank')) {
      j++;
      const r = parseInt64(argv[j]!);
      if (r === null) {
        c.addError(ERR.notInteger);
        return;
      }
      if (r === 0n) {
        c.addError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
        return;
      }
      // -LONG_MIN overflows back to LONG_MIN in Redis: from the tail, every match qualifies and
      // the COUNT limit never triggers
      rankIsMin = r === INT64_MIN;
      rank = Number(r);
    } else if (moreargs > 0 && isWord(opt, 'count')) {
      j++;
      const v = parseLong(argv[j]!);
      if (v === null || v < 0) {
        c.addError("ERR COUNT can't be negative");
        return;
      }
      count = v;
    } else if (moreargs > 0 && isWord(opt, 'maxlen')) {
      j++;
      const v = parseLong(argv[j]!);
      if (v === null || v < 0) {
        c.addError("ERR MAXLEN can't be negative");
        return;
      }
      maxlen = v;
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  let fromTail = false;
  if (rank < 0) {
    rank = -rank;
    fromTail = true;
  }
  if (rankIsMin) rank = 1;
  const l = listForRead(c, argv[1]!);
  if (l === null) return;
  if (l === undefined) {
    if (count !== -1) c.addRaw(EMPTY_ARRAY);
    else c.addNull();
    return;
  }
  let matches = 0;
  if (count === -1) {
    let found = -1;
    l.scan(ele, fromTail, maxlen, (idx) => {
      if (++matches >= rank) {
        found = idx;
        return false;
      }
      return true;
    });
    if (found >= 0) c.addInt(found);
    else c.addNull();
    return;
  }
  let out = '';
  let emitted = 0;
  const limit = rankIsMin ? 0 : count;
  l.scan(ele, fromTail, maxlen, (idx) => {
    if (++matches >= rank) {
      out += ':' + idx + '\r\n';
      emitted++;
      if (limit > 0 && emitted >= limit) return false;
    }
    return true;
  });
  c.addRaw('*' + emitted + '\r\n' + out);
}

// ---- in-place edits -------------------------------------------------------------------------

function lset(c: Client): void {
  const argv = c.argv;
  const key = argv[1]!;
  const l = c.db.lookupWrite(key);
  if (l === undefined) {
    c.addError(ERR.noSuchKey);
    return;
  }
  if (!(l instanceof ListObject)) {
    c.addError(ERR.wrongType);
    return;
  }
  let index = getLongOrReply(c, argv[2]!);
  if (index === null) return;
  if (index < 0) index += l.length;
  if (index < 0 || index >= l.length) {
    c.addError(ERR.outOfRange);
    return;
  }
  l.set(index, argv[3]!);
  c.addOk();
  c.db.modified(key, 1);
  c.db.ks.notify(NOTIFY_LIST, 'lset', key, c.db.id);
}

function ltrim(c: Client): void {
  const argv = c.argv;
  let start = getLongOrReply(c, argv[2]!);
  if (start === null) return;
  let end = getLongOrReply(c, argv[3]!);
  if (end === null) return;
  const key = argv[1]!;
  const l = listForWrite(c, key);
  if (l === null) return;
  if (l === undefined) {
    c.addOk();
    return;
  }
  const llen = l.length;
  if (start < 0) start += llen;
  if (end < 0) end += llen;
  if (start < 0) start = 0;
  let lt: number;
  let rt: number;
  if (start > end || start >= llen) {
    lt = llen;
    rt = 0;
  } else {
    if (end >= llen) end = llen - 1;
    lt = start;
    rt = llen - end - 1;
  }
  const ks = c.db.ks;
  const d0 = ks.dirty;
  l.trim(lt, rt);
  ks.notify(NOTIFY_LIST, 'ltrim', key, c.db.id);
  deleteIfEmpty(c, key, l);
  ks.dirty = d0 + lt + rt;
  c.addOk();
}

function lrem(c: Client): void {
  const argv = c.argv;
  const count = getLongOrReply(c, argv[2]!);
  if (count === null) return;
  const key = argv[1]!;
  const l = listForWrite(c, key);
  if (l === null) return;
  if (l === undefined) {
    c.addRaw(CZERO);
    return;
  }
  const removed = l.remove(argv[3]!, count);
  if (removed > 0) {
    const ks = c.db.ks;
    const d0 = ks.dirty;
    ks.notify(NOTIFY_LIST, 'lrem', key, c.db.id);
    deleteIfEmpty(c, key, l);
    ks.dirty = d0 + removed;
  }
  c.addInt(removed);
}

function linsert(c: Client): void {
  const argv = c.argv;
  let after: boolean;
  if (isWord(argv[2]!, 'after')) after = true;
  else if (isWord(argv[2]!, 'before')) after = false;
  else {
    c.addError(ERR.syntax);
    return;
  }
  const key = argv[1]!;
  const l = listForWrite(c, key);
  if (l === null) return;
  if (l === undefined) {
    c.addRaw(CZERO);
    return;
  }
  if (!l.insert(argv[3]!, argv[4]!, after)) {
    c.addInt(-1);
    return;
  }
  c.db.modified(key, 1);
  c.db.ks.notify(NOTIFY_LIST, 'linsert', key, c.db.id);
  c.addInt(l.length);
}

// ---- moves --------------------------------------------------------------------------------

/**
 * lmoveHandlePush: pushes `v` on `dstkey` (created when missing), with its lpush/rpush event,
 * and replies with the element.
 */
function lmoveHandlePush(c: Client, dstkey: string, dst: ListObject | undefined, v: string, toHead: boolean): void {
  const db = c.db;
  if (dst === undefined) {
    dst = ListObject.created(c.server.config.get<number>('list-max-listpack-size'));
    if (toHead) dst.pushHead(v);
    else dst.pushTail(v);
    db.setKey(dstkey, dst);
  } else {
    if (toHead) dst.pushHead(v);
    else dst.pushTail(v);
    db.modified(dstkey, 0);
  }
  db.ks.notify(NOTIFY_LIST, toHead ? 'lpush' : 'rpush', dstkey, db.id);
  c.addBulk(v);
}

/**
 * lmoveGenericCommand: LMOVE/RPOPLPUSH (and BLMOVE/BRPOPLPUSH when the source has elements).
 * `rewrite` is the argv to propagate instead of the command's own, or null.
 */
function lmoveGeneric(c: Client, fromHead: boolean, toHead: boolean, rewrite: string[] | null): void {
  const argv = c.argv;
  const srckey = argv[1]!;
  const dstkey = argv[2]!;
  const src = listForWrite(c, srckey);
  if (src === null) return;
  if (src === undefined) {
    c.addNull();
    return;
  }
  const dst = listForWrite(c, dstkey);
  if (dst === null) return;
  const ks = c.db.ks;
  const d0 = ks.dirty;
  const v = (fromHead ? src.popHead() : src.popTail())!;
  lmoveHandlePush(c, dstkey, dst, v, toHead);
  ks.notify(NOTIFY_LIST, fromHead ? 'lpop' : 'rpop', srckey, c.db.id);
  deleteIfEmpty(c, srckey, src);
  ks.dirty = d0 + 1;
  if (rewrite !== null) c.server.effects.rewrite(rewrite);
}

function lmove(c: Client): void {
  const from = whereArg(c, c.argv[3]!);
  if (from === null) return;
  const to = whereArg(c, c.argv[4]!);
  if (to === null) return;
  lmoveGeneric(c, from, to, null);
}

function rpoplpush(c: Client): void {
  lmoveGeneric(c, false, true, null);
}

// ---- LMPOP --------------------------------------------------------------------------------

/** listPopRangeAndReplyWithKey: `[key, [elements]]`, the elements removed with their events. */
function popRangeWithKey(c: Client, key: string, l: ListObject, head: boolean, count: number): number {
  const n = Math.min(count, l.length);
  c.addRaw('*2\r\n' + bulk(key));
  popRangeReply(c, l, head, n);
  elementsRemoved(c, key, l, head);
  return n;
}

/**
 * Parses LMPOP/BLMPOP arguments from argv[numkeysIdx] (lmpopGenericCommand). Returns null after
 * replying with the error.
 */
function parseMpop(c: Client, numkeysIdx: number): { keys: string[]; head: boolean; count: number } | null {
  const argv = c.argv;
  const nk = parseLong(argv[numkeysIdx]!);
  if (nk === null || nk < 1) {
    c.addError('ERR numkeys should be greater than 0');
    return null;
  }
  const whereIdx = numkeysIdx + nk + 1;
  if (whereIdx >= argv.length) {
    c.addError(ERR.syntax);
    return null;
  }
  const head = whereArg(c, argv[whereIdx]!);
  if (head === null) return null;
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    const moreargs = argv.length - 1 - j;
    if (count === -1 && moreargs > 0 && isWord(argv[j]!, 'count')) {
      j++;
      const v = parseLong(argv[j]!);
      if (v === null || v < 1) {
        c.addError('ERR count should be greater than 0');
        return null;
      }
      count = v;
    } else {
      c.addError(ERR.syntax);
      return null;
    }
  }
  if (count === -1) count = 1;
  return { keys: argv.slice(numkeysIdx + 1, whereIdx), head, count };
}

function lmpop(c: Client): void {
  const p = parseMpop(c, 1);
  if (p === null) return;
  if (!mpopFirstNonEmpty(c, p.keys, p.head, p.count)) c.addNullArray();
}

/**
 * Pops up to `count` elements from the first non-empty list among `keys`, replying
 * `[key, [elements]]` and propagating LPOP/RPOP key n. False when no key holds a list (nothing
 * replied), true when done or after a WRONGTYPE reply.
 */
function mpopFirstNonEmpty(c: Client, keys: string[], head: boolean, count: number): boolean {
  for (const key of keys) {
    const l = listForWrite(c, key);
    if (l === null) return true;
    if (l === undefined || l.length === 0) continue;
    const ks = c.db.ks;
    const d0 = ks.dirty;
    const n = popRangeWithKey(c, key, l, head, count);
    ks.dirty = d0 + n;
    c.server.effects.rewrite([head ? 'LPOP' : 'RPOP', key, String(n)]);
    return true;
  }
  return false;
}

// ---- blocking -----------------------------------------------------------------------------

/**
 * A client blocked by BLPOP/BRPOP/BLMPOP/BLMOVE/BRPOPLPUSH: what to do when one of its keys holds
 * a list again (serveClientBlockedOnList in blocked.c of Redis 7.0).
 */
class ListWait implements BlockRequest {
  readonly type = 'list' as const;
  constructor(
    readonly keys: string[],
    readonly deadline: number,
    /** pop from the head (LEFT) */
    readonly fromHead: boolean,
    /** BLMPOP's COUNT, -1 for BLPOP/BRPOP */
    readonly count: number,
    /** BLMOVE/BRPOPLPUSH destination, or null */
    readonly dst: string | null,
    readonly toHead: boolean,
    readonly brpoplpush: boolean,
  ) {}

  serve(c: Client, key: string, value: RObject): boolean {
    const l = value as ListObject;
    const db = c.db;
    const ks = db.ks;
    const d0 = ks.dirty;
    const effects = c.server.effects;
    const fromHead = this.fromHead;
    if (this.dst === null) {
      if (this.count > 0) {
        const n = Math.min(this.count, l.length);
        effects.propagate(db.id, [fromHead ? 'LPOP' : 'RPOP', key, String(n)]);
        popRangeWithKey(c, key, l, fromHead, n);
        // listElementsRemoved counts BLMPOP's elements as dirty, unlike BLPOP's serve path
        ks.dirty = d0 + n;
        return true;
      }
      effects.propagate(db.id, [fromHead ? 'LPOP' : 'RPOP', key]);
      const v = (fromHead ? l.popHead() : l.popTail())!;
      c.addRaw('*2\r\n' + bulk(key) + bulk(v));
      ks.notify(NOTIFY_LIST, fromHead ? 'lpop' : 'rpop', key, db.id);
      deleteIfEmpty(c, key, l);
      ks.dirty = d0;
      return true;
    }
    const dstkey = this.dst;
    const dst = db.lookupWrite(dstkey);
    if (dst !== undefined && !(dst instanceof ListObject)) {
      // the element stays; the client is unblocked with the error (checkType on the receiver)
      c.addError(ERR.wrongType);
      c.server.countError(ERR.wrongType);
      return true;
    }
    const v = (fromHead ? l.popHead() : l.popTail())!;
    lmoveHandlePush(c, dstkey, dst, v, this.toHead);
    effects.propagate(db.id, this.brpoplpush
      ? ['RPOPLPUSH', key, dstkey]
      : ['LMOVE', key, dstkey, fromHead ? 'left' : 'right', this.toHead ? 'left' : 'right']);
    ks.notify(NOTIFY_LIST, fromHead ? 'lpop' : 'rpop', key, db.id);
    deleteIfEmpty(c, key, l);
    ks.dirty = d0;
    return true;
  }
}

/**
 * blockingPopGenericCommand: BLPOP/BRPOP (count -1) and BLMPOP (count >= 1) over `keys`; the
 * timeout was already parsed into `deadline`.
 */
function blockingPop(c: Client, keys: string[], head: boolean, count: number, deadline: number): void {
  for (const key of keys) {
    const l = listForWrite(c, key);
    if (l === null) return;
    if (l === undefined || l.length === 0) continue;
    if (count !== -1) {
      mpopFirstNonEmpty(c, [key], head, count);
      return;
    }
    const ks = c.db.ks;
    const d0 = ks.dirty;
    const v = (head ? l.popHead() : l.popTail())!;
    c.addRaw('*2\r\n' + bulk(key) + bulk(v));
    elementsRemoved(c, key, l, head);
    ks.dirty = d0 + 1;
    c.server.effects.rewrite([head ? 'LPOP' : 'RPOP', key]);
    return;
  }
  if (isInMulti(c)) {
    c.addNullArray();
    return;
  }
  blockForKeys(c, new ListWait(keys, deadline, head, count, null, false, false));
}

function bpop(c: Client, head: boolean): void {
  const argv = c.argv;
  const deadline = parseTimeout(c, argv[argv.length - 1]!);
  if (deadline === null) return;
  blockingPop(c, argv.slice(1, argv.length - 1), head, -1, deadline);
}

function blmpop(c: Client): void {
  const p = parseMpop(c, 2);
  if (p === null) return;
  const deadline = parseTimeout(c, c.argv[1]!);
  if (deadline === null) return;
  blockingPop(c, p.keys, p.head, p.count, deadline);
}

/** blmoveGenericCommand: BLMOVE and BRPOPLPUSH. */
function blmoveGeneric(c: Client, fromHead: boolean, toHead: boolean, deadline: number, brpoplpush: boolean): void {
  const argv = c.argv;
  const src = listForWrite(c, argv[1]!);
  if (src === null) return;
  if (src === undefined) {
    if (isInMulti(c)) {
      c.addNull();
      return;
    }
    blockForKeys(c, new ListWait([argv[1]!], deadline, fromHead, -1, argv[2]!, toHead, brpoplpush));
    return;
  }
  lmoveGeneric(c, fromHead, toHead, brpoplpush ? ['RPOPLPUSH', argv[1]!, argv[2]!] : ['LMOVE', argv[1]!, argv[2]!, argv[3]!, argv[4]!]);
}

function blmove(c: Client): void {
  const argv = c.argv;
  const from = whereArg(c, argv[3]!);
  if (from === null) return;
  const to = whereArg(c, argv[4]!);
  if (to === null) return;
  const deadline = parseTimeout(c, argv[5]!);
  if (deadline === null) return;
  blmoveGeneric(c, from, to, deadline, false);
}

function brpoplpush(c: Client): void {
  const deadline = parseTimeout(c, c.argv[3]!);
  if (deadline === null) return;
  blmoveGeneric(c, false, true, deadline, true);
}

/** Handlers of the lists command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const listsCommands: Record<string, Handler> = {
  lpush: (c) => pushGeneric(c, true, false),
  rpush: (c) => pushGeneric(c, false, false),
  lpushx: (c) => pushGeneric(c, true, true),
  rpushx: (c) => pushGeneric(c, false, true),
  lpop: (c) => popGeneric(c, true),
  rpop: (c) => popGeneric(c, false),
  llen,
  lindex,
  lset,
  lrange,
  ltrim,
  lrem,
  linsert,
  lpos,
  lmove,
  rpoplpush,
  lmpop,
  blpop: (c) => bpop(c, true),
  brpop: (c) => bpop(c, false),
  blmove,
  brpoplpush,
  blmpop,
};
