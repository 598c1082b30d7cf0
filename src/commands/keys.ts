import { flushAllSaveRdb } from '../persistence/bgsave.js';
import type { Client } from '../server/client.js';
import { addReplyHelp } from './client.js';
import type { Handler } from './spec.js';
import { STR_UNSHARED, type Database } from '../keyspace/database.js';
import type { Value } from '../keyspace/types/object.js';
import { typeOf } from '../keyspace/types/object.js';
import { ERR } from '../server/dispatch.js';
import { NOTIFY_GENERIC, NOTIFY_KEY_MISS } from '../keyspace/notify.js';
import { parseInt64 } from '../util/number.js';
import { stringMatch } from '../util/glob.js';
import { estimateIdleMs, lfuDecrAndReturn } from '../keyspace/lru.js';

/*
 * The generic keyspace commands of src/db.c and src/object.c (Redis 7.0.15): DEL, UNLINK, EXISTS,
 * TYPE, KEYS, SCAN, RANDOMKEY, RENAME, RENAMENX, MOVE, COPY, SWAPDB, DBSIZE, FLUSHDB, FLUSHALL,
 * TOUCH and OBJECT. Every access goes through the keyspace gate (Database); the handlers add
 * Redis's replies, keyspace notifications and dirty accounting.
 */

const INT_MIN = -2147483648n;
const INT_MAX = 2147483647n;
const ERR_SAME_OBJECT = 'ERR source and destination objects are the same';
const ERR_DB_RANGE = 'ERR DB index is out of range';
const ERR_INT_RANGE = 'ERR value is out of range, value must between -2147483648 and 2147483647';

/**
 * lookupKeyReadWithFlags(LOOKUP_NOTOUCH): the value of `key` or undefined, with lazy expiry and
 * keyspace hit/miss counting, but without updating the key's access clock (TYPE, EXISTS, TTL...).
 * `notifyMiss` false is LOOKUP_NONOTIFY (OBJECT): no `keymiss` event.
 */
export function lookupNoTouch(c: Client, key: string, notifyMiss = true): Value | undefined {
  const db = c.db;
  const v = db.peek(key);
  const ks = db.ks;
  if (v === undefined) {
    ks.stats.keyspaceMisses++;
    if (notifyMiss) ks.notify(NOTIFY_KEY_MISS, 'keymiss', key, db.id);
  } else {
    ks.stats.keyspaceHits++;
  }
  return v;
}

/**
 * getIntFromObjectOrReply: a C int from `s`, or null after replying with Redis's error: `msg` when
 * given, else the not-an-integer or the out-of-int-range error.
 */
export function getIntOrReply(c: Client, s: string, msg?: string): number | null {
  const v = parseInt64(s);
  if (v === null) {
    c.addError(msg ?? ERR.notInteger);
    return null;
  }
  if (v < INT_MIN || v > INT_MAX) {
    c.addError(msg ?? ERR_INT_RANGE);
    return null;
  }
  return Number(v);
}

/** selectDb's range check: the database with index `id`, or undefined. */
function dbAt(c: Client, id: number): Database | undefined {
  return id >= 0 ? c.server.keyspace.dbs[id] : undefined;
}

/**
 * Deletes `key` for a command that already looked it up in this command (dbDelete): its TTL goes
 * first so that a clock tick between the lookup and the delete cannot turn the delete into an
 * expiry (Redis fixes the time for the whole command; Amber's clock is read at each check).
 */
export function dbDelete(db: Database, key: string): void {
  if (db.getExpire(key) !== -1) db.removeExpire(key);
  db.deleteKey(key);
}

function notify(c: Client, event: string, key: string, dbid: number): void {
  c.server.keyspace.notify(NOTIFY_GENERIC, event, key, dbid);
}

// ---- DEL, UNLINK, EXISTS, TYPE, TOUCH, DBSIZE ---------------------------------------------------

/** DEL key [key ...] / UNLINK (delGenericCommand): expired keys count as missing. */
function del(c: Client): void {
  const argv = c.argv;
  const db = c.db;
  let n = 0;
  for (let j = 1; j < argv.length; j++) {
    const key = argv[j]!;
    if (db.deleteKey(key)) {
      notify(c, 'del', key, db.id);
      n++;
    }
  }
  c.addInt(n);
}

/** EXISTS key [key ...]: how many of the keys exist; a key named twice counts twice. */
function exists(c: Client): void {
  const argv = c.argv;
  let n = 0;
  for (let j = 1; j < argv.length; j++) if (lookupNoTouch(c, argv[j]!) !== undefined) n++;
  c.addInt(n);
}

/** TYPE key: the type name as a status reply, `none` for a missing key. */
function type(c: Client): void {
  const v = lookupNoTouch(c, c.argv[1]!);
  c.addSimple(v === undefined ? 'none' : typeOf(v));
}

/** TOUCH key [key ...]: looks the keys up (updating their access clocks); replies how many exist. */
function touch(c: Client): void {
  const argv = c.argv;
  const db = c.db;
  let n = 0;
  for (let j = 1; j < argv.length; j++) if (db.lookupRead(argv[j]!) !== undefined) n++;
  c.addInt(n);
}

/**
 * DBSIZE: the number of keys in the database, including keys whose TTL has passed but that no
 * lookup or expiry cycle has removed yet, as Redis's dictSize.
 */
function dbsize(c: Client): void {
  c.addInt(c.db.size);
}

// ---- KEYS, SCAN, RANDOMKEY ------------------------------------------------------------------------

/**
 * True when `key` has a TTL that has passed (keyIsExpired), without deleting it: KEYS filters such
 * keys out but leaves their reclamation to lookups and the expiry cycle, as Redis does.
 */
function isExpired(db: Database, key: string, now: number): boolean {
  if (db.expires.size === 0 || db.ks.loading) return false;
  const when = db.expires.get(key);
  return when !== undefined && when < now;
}

/** KEYS pattern: every non-expired key matching the glob pattern (stringmatchlen), in table order. */
function keys(c: Client): void {
  const pattern = c.argv[1]!;
  const all = pattern === '*';
  const db = c.db;
  const now = db.ks.now();
  const out: string[] = [];
  for (const seg of db.segments) {
    for (const key of seg.keys()) {
      if ((all || stringMatch(pattern, key)) && !isExpired(db, key, now)) out.push(key);
    }
  }
  c.addBulkArray(out);
}

const ULONG_MAX = (1n << 64n) - 1n;

/**
 * parseScanCursorOrReply: the cursor as strtoul(3) reads it (unsigned 64-bit; an optional sign,
 * "-n" wrapping modulo 2^64; the empty string is 0), or null after replying 'ERR invalid cursor'
 * for leading space, trailing garbage or overflow.
 */
export function parseScanCursorOrReply(c: Client, s: string): bigint | null {
  if (s.length === 0) return 0n;
  let i = 0;
  const first = s.charCodeAt(0);
  if (first === 43 || first === 45) i = 1; // + -
  let ok = i < s.length;
  for (let j = i; ok && j < s.length; j++) {
    const ch = s.charCodeAt(j);
    if (ch < 48 || ch > 57) ok = false;
  }
  if (!ok) {
    c.addError('ERR invalid cursor');
    return null;
  }
  const v = BigInt(s.slice(i));
  if (v > ULONG_MAX) {
    c.addError('ERR invalid cursor');
    return null;
  }
  return first === 45 ? (ULONG_MAX + 1n - v) & ULONG_MAX : v;
}

/**
 * SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] (scanGenericCommand for the keyspace).
 * Each step visits one cursor position of the database's segment table (Database.scanStep, the
 * reverse-binary cursor of dictScan), and steps repeat until COUNT keys were collected, the
 * iteration ends, or COUNT*10 steps were made, as Redis. Then keys are filtered by pattern, by
 * type (a lookup that counts keyspace hits/misses, as Redis's), and expired keys are deleted and
 * left out. A key present for the whole iteration is returned at least once, even while the
 * table grows.
 */
function scan(c: Client): void {
  const argv = c.argv;
  let cursor = parseScanCursorOrReply(c, argv[1]!);
  if (cursor === null) return;
  let count = 10;
  let pattern: string | null = null;
  let typeName: string | null = null;
  for (let i = 2; i < argv.length;) {
    const left = argv.length - i;
    const opt = argv[i]!.toLowerCase();
    if (opt === 'count' && left >= 2) {
      const v = parseInt64(argv[i + 1]!);
      if (v === null) {
        c.addError(ERR.notInteger);
        return;
      }
      if (v < 1n) {
        c.addError(ERR.syntax);
        return;
      }
      count = Number(v);
      i += 2;
    } else if (opt === 'match' && left >= 2) {
      pattern = argv[i + 1]!;
      // "*" matches everything: the same as no pattern
      if (pattern === '*') pattern = null;
      i += 2;
    } else if (opt === 'type' && left >= 2) {
      typeName = argv[i + 1]!.toLowerCase();
      i += 2;
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  const db = c.db;
  const found: string[] = [];
  const collect = (key: string): void => {
    found.push(key);
  };
  let maxIterations = count * 10;
  do {
    cursor = db.scanStep(cursor, collect);
  } while (cursor !== 0n && maxIterations-- > 0 && found.length < count);

  const out: string[] = [];
  for (const key of found) {
    if (pattern !== null && !stringMatch(pattern, key)) continue;
    if (typeName !== null) {
      const v = lookupNoTouch(c, key);
      if ((v === undefined ? 'none' : typeOf(v)) !== typeName) continue;
    }
    if (db.expires.size > 0 && db.expireIfNeeded(key)) continue;
    out.push(key);
  }
  c.addArrayLen(2);
  c.addBulk(cursor.toString());
  c.addBulkArray(out);
}

/** RANDOMKEY: a random key that is not expired (expired ones met on the way are deleted). */
function randomkey(c: Client): void {
  const db = c.db;
  for (;;) {
    const key = db.randomKey();
    if (key === undefined) {
      c.addNull();
      return;
    }
    if (db.expires.size > 0 && db.expireIfNeeded(key)) continue;
    c.addBulk(key);
    return;
  }
}

// ---- RENAME, RENAMENX, MOVE, COPY, SWAPDB -------------------------------------------------------

/**
 * RENAME / RENAMENX (renameGenericCommand): the value and its TTL move to the new name, which is
 * overwritten (RENAME) or must not exist (RENAMENX). Renaming a key to itself is a no-op that
 * still requires the key. Notifies `new` (through the gate), `rename_from`, `rename_to`; counts
 * one change.
 */
function renameGeneric(c: Client, nx: boolean): void {
  const src = c.argv[1]!;
  const dst = c.argv[2]!;
  const db = c.db;
  const o = db.lookupWrite(src);
  if (o === undefined) {
    c.addError(ERR.noSuchKey);
    return;
  }
  if (src === dst) {
    if (nx) c.addInt(0);
    else c.addOk();
    return;
  }
  const expire = db.getExpire(src);
  const ks = db.ks;
  const dirty = ks.dirty;
  if (db.lookupWrite(dst) !== undefined) {
    if (nx) {
      c.addInt(0);
      return;
    }
    dbDelete(db, dst);
  }
  const lru = db.lruOf(src, o);
  db.setKey(dst, o, expire === -1 ? undefined : expire);
  db.setLru(dst, o, lru);
  db.copyStringEncoding(src, db, dst);
  dbDelete(db, src);
  notify(c, 'rename_from', src, db.id);
  notify(c, 'rename_to', dst, db.id);
  ks.dirty = dirty + 1;
  if (nx) c.addInt(1);
  else c.addOk();
}

const rename: Handler = (c) => renameGeneric(c, false);
const renamenx: Handler = (c) => renameGeneric(c, true);

/** MOVE key db: moves a key with its TTL to another database unless the key exists there. */
function move(c: Client): void {
  const key = c.argv[1]!;
  const src = c.db;
  const id = getIntOrReply(c, c.argv[2]!);
  if (id === null) return;
  const dst = dbAt(c, id);
  if (dst === undefined) {
    c.addError(ERR_DB_RANGE);
    return;
  }
  if (dst === src) {
    c.addError(ERR_SAME_OBJECT);
    return;
  }
  const o = src.lookupWrite(key);
  if (o === undefined) {
    c.addInt(0);
    return;
  }
  const expire = src.getExpire(key);
  if (dst.lookupWrite(key) !== undefined) {
    c.addInt(0);
    return;
  }
  const ks = src.ks;
  const dirty = ks.dirty;
  const lru = src.lruOf(key, o);
  dst.setKey(key, o, expire === -1 ? undefined : expire);
  dst.setLru(key, o, lru);
  src.copyStringEncoding(key, dst, key);
  dbDelete(src, key);
  notify(c, 'move_from', key, src.id);
  notify(c, 'move_to', key, dst.id);
  ks.dirty = dirty + 1;
  c.addInt(1);
}

/**
 * COPY source destination [DB destination-db] [REPLACE]: a deep copy (RObject.clone; strings are
 * immutable and shared) with the source's TTL. Notifies `new` (through the gate) and `copy_to`.
 */
function copy(c: Client): void {
  const argv = c.argv;
  const src = c.db;
  let dst = c.db;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    const additional = argv.length - j - 1;
    const opt = argv[j]!.toLowerCase();
    if (opt === 'replace') {
      replace = true;
    } else if (opt === 'db' && additional >= 1) {
      const id = getIntOrReply(c, argv[j + 1]!);
      if (id === null) return;
      const d = dbAt(c, id);
      if (d === undefined) {
        c.addError(ERR_DB_RANGE);
        return;
      }
      dst = d;
      j++;
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  const key = argv[1]!;
  const newkey = argv[2]!;
  if (src === dst && key === newkey) {
    c.addError(ERR_SAME_OBJECT);
    return;
  }
  const o = src.lookupRead(key);
  if (o === undefined) {
    c.addInt(0);
    return;
  }
  const expire = src.getExpire(key);
  let mustDelete = false;
  if (dst.lookupWrite(newkey) !== undefined) {
    if (!replace) {
      c.addInt(0);
      return;
    }
    mustDelete = true;
  }
  const ks = src.ks;
  const dirty = ks.dirty;
  const dup = typeof o === 'string' ? o : o.clone();
  if (mustDelete) dbDelete(dst, newkey);
  dst.setKey(newkey, dup, expire === -1 ? undefined : expire);
  src.copyStringEncoding(key, dst, newkey);
  // dupStringObject gives an int-encoded string an object of its own, shared integer or not
  if (typeof o === 'string' && src.stringEncodingOf(key, o) === 'int') dst.markStringEncoding(newkey, STR_UNSHARED);
  notify(c, 'copy_to', newkey, dst.id);
  ks.dirty = dirty + 1;
  c.addInt(1);
}

/** SWAPDB index1 index2: exchanges two databases' contents; clients stay on their index. */
function swapdb(c: Client): void {
  const id1 = getIntOrReply(c, c.argv[1]!, 'ERR invalid first DB index');
  if (id1 === null) return;
  const id2 = getIntOrReply(c, c.argv[2]!, 'ERR invalid second DB index');
  if (id2 === null) return;
  const db1 = dbAt(c, id1);
  const db2 = dbAt(c, id2);
  if (db1 === undefined || db2 === undefined) {
    c.addError(ERR_DB_RANGE);
    return;
  }
  if (db1 !== db2) db1.swapWith(db2);
  c.server.keyspace.dirty++;
  c.addOk();
}

// ---- FLUSHDB, FLUSHALL ------------------------------------------------------------------------------

/** getFlushCommandFlags: validates [ASYNC|SYNC]; false after replying with a syntax error. */
function flushArgsOk(c: Client): boolean {
  const argv = c.argv;
  if (argv.length === 1) return true;
  if (argv.length === 2) {
    const m = argv[1]!.toLowerCase();
    if (m === 'sync' || m === 'async') return true;
  }
  c.addError(ERR.syntax);
  return false;
}

/**
 * FLUSHDB [ASYNC|SYNC]: empties the current database (ASYNC and SYNC are the same here: the old
 * segments are dropped at once and reclaimed by the garbage collector). Counts one change per key
 * removed and always propagates, even when the database was already empty.
 */
function flushdb(c: Client): void {
  if (!flushArgsOk(c)) return;
  const ks = c.server.keyspace;
  ks.dirty += c.db.clear();
  c.server.effects.rewrite(c.argv);
  c.addOk();
}

/**
 * FLUSHALL [ASYNC|SYNC]: empties every database; counts one change per key removed and always
 * propagates. (Redis also runs a synchronous SAVE when save points are configured; that belongs
 * to the RDB layer.)
 */
function flushall(c: Client): void {
  if (!flushArgsOk(c)) return;
  const ks = c.server.keyspace;
  ks.dirty += ks.flushAll();
  flushAllSaveRdb(c.server);
  c.server.effects.rewrite(c.argv);
  c.addOk();
}

// ---- OBJECT -------------------------------------------------------------------------------------------

const OBJECT_HELP = [
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
];

/** OBJECT_SHARED_INTEGERS: Redis shares the integer objects 0..9999. */
const SHARED_INTEGERS = 10000;

/** The OBJECT ENCODING name of the value `v` of `key` in `db`. */
export function encodingOf(db: Database, key: string, v: Value): string {
  return typeof v === 'string' ? db.stringEncodingOf(key, v) : v.encoding();
}

/** maxmemory policies under which Redis does not share integers (MAXMEMORY_FLAG_NO_SHARED_INTEGERS). */
function noSharedIntegers(c: Client): boolean {
  const cfg = c.server.config;
  if (cfg.get<number>('maxmemory') === 0) return false;
  const p = cfg.get<string>('maxmemory-policy');
  return p.endsWith('-lru') || p.endsWith('-lfu');
}

function isLfuPolicy(c: Client): boolean {
  return c.server.config.get<string>('maxmemory-policy').endsWith('-lfu');
}

/** objectCommandLookupOrReply: the value (hit/miss counted, no access update, no keymiss event), or a null reply. */
function objectLookup(c: Client): Value | undefined {
  const v = lookupNoTouch(c, c.argv[2]!, false);
  if (v === undefined) c.addNull();
  return v;
}

const objectHelp: Handler = (c) => addReplyHelp(c, OBJECT_HELP);

const objectEncoding: Handler = (c) => {
  const v = objectLookup(c);
  if (v !== undefined) c.addBulk(encodingOf(c.db, c.argv[2]!, v));
};

/**
 * The refcount Redis reports for the value `v` of `key` (OBJECT REFCOUNT, DEBUG OBJECT):
 * 2147483647 (OBJ_SHARED_REFCOUNT) for a value Redis would store as one of its shared integers
 * 0..9999 (not a COPY's, which has an object of its own), else 1 (Amber shares no other values).
 * Redis shares integers unless maxmemory is set with an LRU or LFU policy
 * (MAXMEMORY_FLAG_NO_SHARED_INTEGERS) and decides when the value is made; Amber decides by the
 * policy of the moment, so a value made before the policy changed reads as the new policy would
 * have made it.
 */
export function refcountOf(c: Client, key: string, v: Value): number {
  if (typeof v === 'string' && c.db.stringEncodingOf(key, v) === 'int' && !noSharedIntegers(c) && !c.db.unsharedInteger(key)) {
    const n = Number(v);
    if (n >= 0 && n < SHARED_INTEGERS) return 2147483647;
  }
  return 1;
}

/** OBJECT REFCOUNT (see {@link refcountOf}). */
const objectRefcount: Handler = (c) => {
  const v = objectLookup(c);
  if (v !== undefined) c.addInt(refcountOf(c, c.argv[2]!, v));
};

/** OBJECT IDLETIME: seconds since the key's last access (see keyspace/lru.ts); refused under LFU. */
const objectIdletime: Handler = (c) => {
  const v = objectLookup(c);
  if (v === undefined) return;
  if (isLfuPolicy(c)) {
    c.addError('ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.');
    return;
  }
  c.addInt(Math.floor(estimateIdleMs(c.db.ks, c.db.lruOf(c.argv[2]!, v)) / 1000));
};

/** OBJECT FREQ: the key's logarithmic access counter after decay; refused unless an LFU policy is set. */
const objectFreq: Handler = (c) => {
  const v = objectLookup(c);
  if (v === undefined) return;
  if (!isLfuPolicy(c)) {
    c.addError('ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.');
    return;
  }
  c.addInt(lfuDecrAndReturn(c.db.ks, c.db.lruOf(c.argv[2]!, v)));
};

/** Handlers of the keys command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const keysCommands: Record<string, Handler> = {
  del,
  unlink: del,
  exists,
  type,
  touch,
  dbsize,
  keys,
  scan,
  randomkey,
  rename,
  renamenx,
  move,
  copy,
  swapdb,
  flushdb,
  flushall,
  'object|help': objectHelp,
  'object|encoding': objectEncoding,
  'object|refcount': objectRefcount,
  'object|idletime': objectIdletime,
  'object|freq': objectFreq,
};
