import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { addReplyHelp, addReplySubcommandSyntaxError } from './client.js';
import type { RObject, Value } from '../keyspace/types/object.js';
import {
  Stream, StreamCG, StreamConsumer, type StreamNACK, type StreamID, SCG_INVALID_ENTRIES_READ,
  streamIdKey, streamIdFromKey, compareStreamId, formatStreamId, ensureStreamLayout, markDeleted,
} from '../keyspace/types/stream.js';
import { NOTIFY_STREAM } from '../keyspace/notify.js';
import { ERR } from '../server/dispatch.js';
import { parseInt64 } from '../util/number.js';
import { blockForKeys, blockedClientCount, isInMulti, parseTimeout, type BlockRequest } from '../server/blocking.js';
// registers the AOF rewrite of stream values (XADD, XSETID, XGROUP CREATE, XCLAIM...)
import './../persistence/aof/stream-rewrite.js';

/**
 * The stream commands of Redis 7.0.15 (src/t_stream.c, the stream part of src/blocked.c): XADD,
 * XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XREAD, XREADGROUP, XGROUP, XACK, XPENDING, XCLAIM,
 * XAUTOCLAIM, XINFO and XSETID, with Redis's replies, errors, keyspace notifications and
 * propagation (XADD with its resolved ID and deterministic trimming, XREADGROUP and XAUTOCLAIM
 * as XCLAIM / XGROUP SETID / XGROUP CREATECONSUMER effects).
 *
 * Entries live in the Stream's SortedKeyMap keyed by 16-byte big-endian IDs, so comparing keys
 * compares IDs; the listpack node layout Redis would have is kept beside it (StreamLayout) for
 * approximate trimming and XINFO.
 */

// ---- IDs --------------------------------------------------------------------------------------

const U64_MAX = 18446744073709551615n;
const ZERO_ID: StreamID = Object.freeze({ ms: 0n, seq: 0n }) as StreamID;
const MAX_ID: StreamID = Object.freeze({ ms: U64_MAX, seq: U64_MAX }) as StreamID;
const MAX_KEY = streamIdKey(MAX_ID);
const MIN_KEY = streamIdKey(ZERO_ID);

const ERR_INVALID_ID = 'ERR Invalid stream ID specified as stream command argument';
const ERR_XADD_SMALLER = 'ERR The ID specified in XADD is equal or smaller than the target stream top item';
const ERR_NOT_INTEGER = ERR.notInteger;

function isZero(id: StreamID): boolean {
  return id.ms === 0n && id.seq === 0n;
}

function isMax(id: StreamID): boolean {
  return id.ms === U64_MAX && id.seq === U64_MAX;
}

/** streamIncrID: the next ID; the maximum wraps to 0-0 (callers check {@link isMax} first). */
function incrId(id: StreamID): StreamID {
  if (id.seq === U64_MAX) {
    if (id.ms === U64_MAX) return { ms: 0n, seq: 0n };
    return { ms: id.ms + 1n, seq: 0n };
  }
  return { ms: id.ms, seq: id.seq + 1n };
}

/** streamDecrID: the previous ID; 0-0 wraps to the maximum (callers check first). */
function decrId(id: StreamID): StreamID {
  if (id.seq === 0n) {
    if (id.ms === 0n) return { ms: U64_MAX, seq: U64_MAX };
    return { ms: id.ms - 1n, seq: U64_MAX };
  }
  return { ms: id.ms, seq: id.seq - 1n };
}

/** The 16-byte key of an ID given as two integers below 2^53 (streamIdKey without BigInt). */
function numKey(ms: number, seq: number): string {
  const ml = ms >>> 0;
  const mh = (ms - ml) / 4294967296;
  const sl = seq >>> 0;
  const sh = (seq - sl) / 4294967296;
  return String.fromCharCode(mh >>> 24, (mh >>> 16) & 0xff, (mh >>> 8) & 0xff, mh & 0xff, ml >>> 24, (ml >>> 16) & 0xff, (ml >>> 8) & 0xff, ml & 0xff,
    sh >>> 24, (sh >>> 16) & 0xff, (sh >>> 8) & 0xff, sh & 0xff, sl >>> 24, (sl >>> 16) & 0xff, (sl >>> 8) & 0xff, sl & 0xff);
}

const SAFE = 9007199254740991n;

/** streamIdKey, through numbers when both halves are below 2^53 (nearly always). */
function idKey(id: StreamID): string {
  return id.ms <= SAFE && id.seq <= SAFE ? numKey(Number(id.ms), Number(id.seq)) : streamIdKey(id);
}

/** `ms-seq` of a 16-byte key; plain number arithmetic while both halves stay below 2^53. */
function fmtKey(k: string): string {
  const h0 = ((k.charCodeAt(0) << 24) | (k.charCodeAt(1) << 16) | (k.charCodeAt(2) << 8) | k.charCodeAt(3)) >>> 0;
  const h1 = ((k.charCodeAt(8) << 24) | (k.charCodeAt(9) << 16) | (k.charCodeAt(10) << 8) | k.charCodeAt(11)) >>> 0;
  if (h0 < 0x200000 && h1 < 0x200000) {
    const l0 = ((k.charCodeAt(4) << 24) | (k.charCodeAt(5) << 16) | (k.charCodeAt(6) << 8) | k.charCodeAt(7)) >>> 0;
    const l1 = ((k.charCodeAt(12) << 24) | (k.charCodeAt(13) << 16) | (k.charCodeAt(14) << 8) | k.charCodeAt(15)) >>> 0;
    return (h0 * 4294967296 + l0) + '-' + (h1 * 4294967296 + l1);
  }
  return formatStreamId(streamIdFromKey(k));
}

/** The argument as C sees it through strcmp/strcasecmp: up to its first NUL byte. */
function cstr(s: string): string {
  const i = s.indexOf('\0');
  return i < 0 ? s : s.slice(0, i);
}

/** strcasecmp(arg, word) === 0 for a lower-case ASCII `word`. */
function is(arg: string, word: string): boolean {
  return arg.length >= word.length && cstr(arg).toLowerCase() === word;
}

function isSpace(ch: number): boolean {
  return ch === 32 || (ch >= 9 && ch <= 13);
}

/**
 * string2ull (util.c): string2ll first (a negative value is refused), else strtoull in base 10:
 * leading spaces, an optional sign ('-' negates modulo 2^64), digits to the end; null when out of
 * range or malformed.
 */
function string2ull(s: string): bigint | null {
  const ll = parseInt64(s);
  if (ll !== null) return ll < 0n ? null : ll;
  const n = s.length;
  let i = 0;
  while (i < n && isSpace(s.charCodeAt(i))) i++;
  let neg = false;
  if (i < n && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) {
    neg = s.charCodeAt(i) === 45;
    i++;
  }
  if (i >= n) return null;
  for (let j = i; j < n; j++) {
    const ch = s.charCodeAt(j);
    if (ch < 48 || ch > 57) return null;
  }
  const v = BigInt(s.slice(i));
  if (v > U64_MAX) return null;
  return neg && v !== 0n ? (1n << 64n) - v : v;
}

/** A parsed ID argument; `seqGiven` is false for XADD's `<ms>-*` form. */
interface ParsedId {
  id: StreamID;
  seqGiven: boolean;
}

/**
 * streamGenericParseIDOrReply: `-` and `+` (refused when `strict`), `<ms>`, `<ms>-<seq>` and,
 * when `allowSeqStar`, `<ms>-*`. A missing sequence is `missingSeq`. Null (no reply) when invalid.
 */
function parseIdArg(arg: string, missingSeq: bigint, strict: boolean, allowSeqStar = false): ParsedId | null {
  if (arg.length > 127) return null;
  const buf = cstr(arg);
  if (buf === '-' || buf === '+') {
    if (strict) return null;
    return { id: buf === '-' ? { ms: 0n, seq: 0n } : { ms: U64_MAX, seq: U64_MAX }, seqGiven: true };
  }
  const dash = buf.indexOf('-');
  const msPart = dash < 0 ? buf : buf.slice(0, dash);
  const ms = string2ull(msPart);
  if (ms === null) return null;
  if (dash < 0) return { id: { ms, seq: missingSeq }, seqGiven: true };
  const seqPart = buf.slice(dash + 1);
  if (allowSeqStar && seqPart === '*') return { id: { ms, seq: 0n }, seqGiven: false };
  const seq = string2ull(seqPart);
  if (seq === null) return null;
  return { id: { ms, seq }, seqGiven: true };
}

/** streamParseStrictIDOrReply / streamParseIDOrReply: the ID or null after the error reply. */
function parseIdOrReply(c: Client, arg: string, missingSeq: bigint, strict: boolean): StreamID | null {
  const p = parseIdArg(arg, missingSeq, strict);
  if (p === null) {
    c.addError(ERR_INVALID_ID);
    return null;
  }
  return p.id;
}

/**
 * streamParseIntervalIDOrReply: like {@link parseIdOrReply}, with the `(` prefix of an exclusive
 * bound (then `-` and `+` are refused). Null after the error reply.
 */
function parseIntervalOrReply(c: Client, arg: string, missingSeq: bigint): { id: StreamID; exclusive: boolean } | null {
  const exclusive = arg.length > 1 && arg.charCodeAt(0) === 40;
  const p = exclusive ? parseIdArg(arg.slice(1), missingSeq, true) : parseIdArg(arg, missingSeq, false);
  if (p === null) {
    c.addError(ERR_INVALID_ID);
    return null;
  }
  return { id: p.id, exclusive };
}

/** getLongLongFromObjectOrReply: the int64 or null after replying `msg` (default: not an integer). */
function int64OrReply(c: Client, arg: string, msg: string = ERR_NOT_INTEGER): bigint | null {
  const v = parseInt64(arg);
  if (v === null) c.addError(msg);
  return v;
}

// ---- replies ------------------------------------------------------------------------------------

function bulk(s: string): string {
  return '$' + s.length + '\r\n' + s + '\r\n';
}

/** One entry as streamReplyWithRange emits it: [id, [field, value, ...]]. */
function entryReply(key: string, fields: string[]): string {
  let out = '*2\r\n$';
  const id = fmtKey(key);
  out += id.length + '\r\n' + id + '\r\n*' + fields.length + '\r\n';
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    out += '$' + f.length + '\r\n' + f + '\r\n';
  }
  return out;
}

// ---- lookups ------------------------------------------------------------------------------------

function isStream(v: Value): v is Stream {
  return typeof v !== 'string' && v.type === 'stream';
}

/**
 * The stream at `key`, looked up for reading (lookupKeyRead: hits/misses, keymiss) or, with
 * `write`, for changing in place (lookupKeyWrite); undefined when missing, or null after a
 * WRONGTYPE reply.
 */
function streamAt(c: Client, key: string, write: boolean): Stream | undefined | null {
  const v = write ? c.db.lookupWrite(key) : c.db.lookupRead(key);
  if (v === undefined) return undefined;
  if (!isStream(v)) {
    c.addError(ERR.wrongType);
    return null;
  }
  return v;
}

/** {@link streamAt} for reading. */
function streamForRead(c: Client, key: string): Stream | undefined | null {
  return streamAt(c, key, false);
}

/** {@link streamAt} for writing. */
function streamForWrite(c: Client, key: string): Stream | undefined | null {
  return streamAt(c, key, true);
}

/**
 * A stream found with a read lookup (as Redis looks up XACK, XCLAIM, XREADGROUP...) is about to
 * change: run the write lookup so the snapshot guard sees the segment before it does.
 */
function prepareWrite(c: Client, key: string): void {
  c.db.lookupWrite(key);
}

/**
 * Records a change of a stream's consumer-group state (PEL, consumers, last IDs). Redis signals
 * no modified key for these (WATCH is not touched by XACK or XREADGROUP); Amber signals one so
 * every change reaches change capture, with `dirty` added to the dirty counter.
 */
function groupStateChanged(c: Client, key: string, dirty: number): void {
  c.db.modified(key, dirty);
}

function nodeLimits(c: Client): { maxBytes: number; maxEntries: number } {
  const cfg = c.server.config;
  return { maxBytes: Number(cfg.get<number>('stream-node-max-bytes')), maxEntries: Number(cfg.get<number>('stream-node-max-entries')) };
}

/** mustObeyClient: the AOF loader's client (id 0) replays effects verbatim (no LIMIT on trims). */
function mustObeyClient(c: Client): boolean {
  return c.id === 0 || c.server.keyspace.loading;
}

// ---- stream bookkeeping -------------------------------------------------------------------------

/** The key of the last live entry (streamLastValidID), or undefined when empty. */
function lastValidKey(s: Stream): string | undefined {
  return s.entries.lastKey();
}

/** streamRangeHasTombstones (7.0.15): whether `start`..`end` (null: open) may hold a deleted entry. */
function rangeHasTombstones(s: Stream, start: StreamID | null, end: StreamID | null): boolean {
  if (s.length === 0 || isZero(s.maxDeletedEntryId)) return false;
  // the latest deletion is before the first entry (XSETID MAXDELETEDID can set it so)
  if (compareStreamId(s.firstId, s.maxDeletedEntryId) > 0) return false;
  const st = start ?? ZERO_ID;
  const en = end ?? MAX_ID;
  return compareStreamId(st, s.maxDeletedEntryId) <= 0 && compareStreamId(s.maxDeletedEntryId, en) <= 0;
}

/**
 * streamEstimateDistanceFromFirstEverEntry as in Redis 7.0.15: the logical read counter of `id`,
 * or SCG_INVALID_ENTRIES_READ when it cannot be known.
 */
function estimateDistance(s: Stream, id: StreamID): number {
  if (s.entriesAdded === 0) return 0;
  if (s.length === 0 && compareStreamId(id, s.lastId) < 1) return s.entriesAdded;
  const cmpLast = compareStreamId(id, s.lastId);
  if (cmpLast === 0) return s.entriesAdded;
  if (cmpLast > 0) return SCG_INVALID_ENTRIES_READ;
  const cmpFirst = compareStreamId(id, s.firstId);
  if (isZero(s.maxDeletedEntryId) || compareStreamId(s.maxDeletedEntryId, s.firstId) < 0) {
    if (cmpFirst < 0) return s.entriesAdded - s.length;
    if (cmpFirst === 0) return s.entriesAdded - s.length + 1;
  }
  return SCG_INVALID_ENTRIES_READ;
}

/** streamReplyWithCGLag (7.0.15): the group's lag, or null when it cannot be computed. */
function groupLag(s: Stream, cg: StreamCG): number | null {
  if (s.entriesAdded === 0) return 0;
  if (cg.entriesRead !== SCG_INVALID_ENTRIES_READ && !rangeHasTombstones(s, cg.lastId, null)) {
    return s.entriesAdded - cg.entriesRead;
  }
  const er = estimateDistance(s, cg.lastId);
  return er === SCG_INVALID_ENTRIES_READ ? null : s.entriesAdded - er;
}

function addLag(c: Client, lag: number | null): void {
  if (lag === null) c.addNull();
  else c.addInt(lag);
}

/** Recomputes first-id after deletions (streamGetEdgeID skipping tombstones; 0-0 when empty). */
function refreshFirstId(s: Stream): void {
  s.updateFirstId();
}

/**
 * Streams that XADD or XGROUP DESTROY made ready (signalKeyAsReady) since the event loop last
 * ran: Redis serves blocked XREAD/XREADGROUP clients only after those, not after any change.
 */
const readyStreams = new Set<Stream>();
let readyClearQueued = false;

function signalStreamReady(c: Client, s: Stream): void {
  if (blockedClientCount(c.server) === 0) return;
  readyStreams.add(s);
  if (!readyClearQueued) {
    readyClearQueued = true;
    queueMicrotask(() => {
      readyStreams.clear();
      readyClearQueued = false;
    });
  }
}

// ---- consumers and groups -----------------------------------------------------------------------

/**
 * streamCreateConsumer with SCC_DEFAULT: a new consumer seen now; counts a dirty change and
 * notifies `xgroup-createconsumer`. Returns null when it exists.
 */
function createConsumer(c: Client, cg: StreamCG, name: string, key: string, now: number): StreamConsumer | null {
  if (cg.consumers.has(name)) return null;
  const consumer = new StreamConsumer(name, now);
  cg.consumers.set(name, consumer);
  c.db.ks.dirty++;
  c.db.ks.notify(NOTIFY_STREAM, 'xgroup-createconsumer', key, c.db.id);
  return consumer;
}

/** streamLookupConsumer with SLC_DEFAULT (refreshes seen-time), creating it when missing. */
function lookupOrCreateConsumer(c: Client, cg: StreamCG, name: string, key: string, now: number): { consumer: StreamConsumer; created: boolean } {
  const existing = cg.consumers.get(name);
  if (existing !== undefined) {
    existing.seenTime = now;
    return { consumer: existing, created: false };
  }
  return { consumer: createConsumer(c, cg, name, key, now)!, created: true };
}

/** streamDelConsumer: drops its pending entries from the group PEL too. */
function deleteConsumer(cg: StreamCG, consumer: StreamConsumer): void {
  for (const [k] of consumer.pel.entries()) cg.pel.delete(k);
  cg.consumers.delete(consumer.name);
}

/** XCLAIM <key> <group> <consumer> 0 <id> TIME <ms> RETRYCOUNT <n> FORCE JUSTID LASTID <id> (streamPropagateXCLAIM). */
function propagateXclaim(c: Client, key: string, group: StreamCG, groupArg: string, idArg: string, nack: StreamNACK): void {
  c.server.effects.propagate(c.db.id, [
    'XCLAIM', key, groupArg, nack.consumer!.name, '0', idArg, 'TIME', String(nack.deliveryTime),
    'RETRYCOUNT', String(nack.deliveryCount), 'FORCE', 'JUSTID', 'LASTID', formatStreamId(group.lastId),
  ]);
}

/** XGROUP SETID <key> <group> <last-id> ENTRIESREAD <n> (streamPropagateGroupID). */
function propagateGroupId(c: Client, key: string, group: StreamCG, groupArg: string): void {
  c.server.effects.propagate(c.db.id, ['XGROUP', 'SETID', key, groupArg, formatStreamId(group.lastId), 'ENTRIESREAD', String(group.entriesRead)]);
}

/** XGROUP CREATECONSUMER <key> <group> <consumer> (streamPropagateConsumerCreation). */
function propagateConsumerCreation(c: Client, key: string, groupArg: string, name: string): void {
  c.server.effects.propagate(c.db.id, ['XGROUP', 'CREATECONSUMER', key, groupArg, name]);
}

// ---- ranges -------------------------------------------------------------------------------------

/**
 * streamReplyWithRange without a group: the entries from `startKey` to `endKey` (inclusive) in
 * order or reversed, at most `count` (0: all), as the protocol of an array (or, `raw`, the
 * entries only). Returns the number of entries.
 */
function replyRange(c: Client, s: Stream, startKey: string, endKey: string, count: number, rev: boolean, raw: boolean): number {
  const keys: string[] = [];
  const vals: string[][] = [];
  const n = s.entries.collect(startKey, endKey, rev, count, keys, vals);
  let body = raw ? '' : '*' + n + '\r\n';
  for (let i = 0; i < n; i++) body += entryReply(keys[i]!, vals[i]!);
  c.addRaw(body);
  return n;
}

/** The group side of a read: who reads, how, and whether to propagate. */
interface GroupRead {
  cg: StreamCG;
  consumer: StreamConsumer;
  noack: boolean;
  /** the key and group name as given, for the propagated XCLAIM / XGROUP SETID */
  key: string;
  groupArg: string;
}

/**
 * streamReplyWithRange with a group, for `>` reads: the entries after `startKey`, at most `count`
 * (0: all); moves the group's last-delivered ID and read counter, adds each entry to the PELs
 * (unless NOACK) and propagates one XCLAIM per entry, plus XGROUP SETID under NOACK. Writes the
 * array. Returns the number of entries.
 */
function replyGroupRange(c: Client, s: Stream, startKey: string, count: number, g: GroupRead, now: number): number {
  const cg = g.cg;
  let cgLastKey = idKey(cg.lastId);
  let propagateLastId = false;
  let body = '';
  const keys: string[] = [];
  const vals: string[][] = [];
  const n = s.entries.collect(startKey, MAX_KEY, false, count, keys, vals);
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    const fields = vals[i]!;
    if (k > cgLastKey) {
      const id = streamIdFromKey(k);
      if (cg.entriesRead !== SCG_INVALID_ENTRIES_READ && !rangeHasTombstones(s, id, null)) {
        cg.entriesRead++;
      } else if (s.entriesAdded !== 0) {
        cg.entriesRead = estimateDistance(s, id);
      }
      cg.lastId = id;
      cgLastKey = k;
      if (g.noack) propagateLastId = true;
    }
    body += entryReply(k, fields);
    if (!g.noack) {
      let nack = cg.pel.get(k);
      if (nack === undefined) {
        nack = { deliveryTime: now, deliveryCount: 1, consumer: g.consumer };
        cg.pel.set(k, nack);
        g.consumer.pel.set(k, nack);
      } else {
        nack.consumer?.pel.delete(k);
        nack.consumer = g.consumer;
        nack.deliveryTime = now;
        nack.deliveryCount = 1;
        g.consumer.pel.set(k, nack);
      }
      propagateXclaim(c, g.key, cg, g.groupArg, fmtKey(k), nack);
    }
  }
  if (propagateLastId) propagateGroupId(c, g.key, cg, g.groupArg);
  c.addRaw('*' + n + '\r\n' + body);
  return n;
}

/**
 * streamReplyWithRangeFromConsumerPEL: a consumer's history from `startKey`, at most `count`;
 * entries deleted since are [id, null]. Each delivered entry counts one more delivery.
 */
function replyConsumerHistory(c: Client, s: Stream, startKey: string, count: number, consumer: StreamConsumer, now: number): number {
  let body = '';
  const nullArray = c.resp === 2 ? '*-1\r\n' : '_\r\n';
  const keys: string[] = [];
  const nacks: StreamNACK[] = [];
  const n = consumer.pel.collect(startKey, MAX_KEY, false, count, keys, nacks);
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    const nack = nacks[i]!;
    const fields = s.entries.get(k);
    if (fields === undefined) {
      body += '*2\r\n' + bulk(fmtKey(k)) + nullArray;
    } else {
      body += entryReply(k, fields);
      nack.deliveryTime = now;
      nack.deliveryCount++;
    }
  }
  c.addRaw('*' + n + '\r\n' + body);
  return n;
}

// ---- XADD / XTRIM -------------------------------------------------------------------------------

const TRIM_NONE = 0;
const TRIM_MAXLEN = 1;
const TRIM_MINID = 2;

/** streamAddTrimArgs. */
interface AddTrimArgs {
  id: StreamID;
  idGiven: boolean;
  seqGiven: boolean;
  noMkstream: boolean;
  trimStrategy: number;
  /** argv index of the MAXLEN count / MINID id, for the propagated rewrite */
  trimArgIdx: number;
  approx: boolean;
  /** max entries a trim may remove, 0: no limit */
  limit: number;
  maxlen: number;
  minid: StreamID;
  /** argv index of the ID (XADD) */
  idpos: number;
}

/**
 * The part MAXLEN and MINID share in streamParseAddOrTrimArgsOrReply (t_stream.c): refuses a
 * second trim strategy, then reads the optional `~` (approximate) or `=` after the option.
 * `next` is the argument after the option, `moreargs` the count after the option's. Returns how
 * many arguments the operator took (0 or 1), or -1 after replying with the error.
 */
function trimOperator(c: Client, a: AddTrimArgs, next: string, moreargs: number): number {
  if (a.trimStrategy !== TRIM_NONE) {
    c.addError('ERR syntax error, MAXLEN and MINID options at the same time are not compatible');
    return -1;
  }
  a.approx = false;
  if (moreargs < 2) return 0;
  const op = cstr(next);
  if (op === '~') a.approx = true;
  return op === '~' || op === '=' ? 1 : 0;
}

/**
 * streamParseAddOrTrimArgsOrReply (7.0.15) for XADD (`xadd`) or XTRIM. Null after the error reply.
 */
function parseAddTrim(c: Client, xadd: boolean): AddTrimArgs | null {
  const argv = c.argv;
  const argc = argv.length;
  const a: AddTrimArgs = {
    id: ZERO_ID, idGiven: false, seqGiven: false, noMkstream: false, trimStrategy: TRIM_NONE, trimArgIdx: 0,
    approx: false, limit: 0, maxlen: 0, minid: ZERO_ID, idpos: 0,
  };
  let limitGiven = false;
  let i = 2;
  for (; i < argc; i++) {
    const moreargs = argc - 1 - i;
    const opt = argv[i]!;
    if (xadd && opt.charCodeAt(0) === 42 && (opt.length === 1 || opt.charCodeAt(1) === 0)) {
      break; // '*': the common case of an auto-generated ID
    } else if (moreargs > 0 && is(opt, 'maxlen')) {
      const op = trimOperator(c, a, argv[i + 1]!, moreargs);
      if (op < 0) return null;
      i += op;
      const v = int64OrReply(c, argv[i + 1]!);
      if (v === null) return null;
      if (v < 0n) {
        c.addError('ERR The MAXLEN argument must be >= 0.');
        return null;
      }
      a.maxlen = Number(v);
      i++;
      a.trimStrategy = TRIM_MAXLEN;
      a.trimArgIdx = i;
    } else if (moreargs > 0 && is(opt, 'minid')) {
      const op = trimOperator(c, a, argv[i + 1]!, moreargs);
      if (op < 0) return null;
      i += op;
      const id = parseIdOrReply(c, argv[i + 1]!, 0n, true);
      if (id === null) return null;
      a.minid = id;
      i++;
      a.trimStrategy = TRIM_MINID;
      a.trimArgIdx = i;
    } else if (moreargs > 0 && is(opt, 'limit')) {
      const v = int64OrReply(c, argv[i + 1]!);
      if (v === null) return null;
      if (v < 0n) {
        c.addError('ERR The LIMIT argument must be >= 0.');
        return null;
      }
      a.limit = Number(v);
      limitGiven = true;
      i++;
    } else if (xadd && is(opt, 'nomkstream')) {
      a.noMkstream = true;
    } else if (xadd) {
      const p = parseIdArg(opt, 0n, true, true);
      if (p === null) {
        c.addError(ERR_INVALID_ID);
        return null;
      }
      a.id = p.id;
      a.seqGiven = p.seqGiven;
      a.idGiven = true;
      break;
    } else {
      c.addError(ERR.syntax);
      return null;
    }
  }
  a.idpos = i;
  if (a.limit !== 0 && a.trimStrategy === TRIM_NONE) {
    c.addError('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy');
    return null;
  }
  if (!xadd && a.trimStrategy === TRIM_NONE) {
    c.addError('ERR syntax error, XTRIM must be called with a trimming strategy');
    return null;
  }
  if (mustObeyClient(c)) {
    // the trim argument was rewritten to its exact result when propagated
    a.limit = 0;
  } else if (limitGiven) {
    if (!a.approx) {
      c.addError('ERR syntax error, LIMIT cannot be used without the special ~ option');
      return null;
    }
  } else if (a.approx) {
    // at most 100 nodes of work per trim, capped both ways
    let limit = 100 * nodeLimits(c).maxEntries;
    if (limit <= 0) limit = 10000;
    if (limit > 1000000) limit = 1000000;
    a.limit = limit;
  } else {
    a.limit = 0;
  }
  return a;
}

/**
 * streamTrim: removes entries from the head, by MAXLEN or MINID. With `approx` only whole nodes
 * go (so the stream may keep more), and at most `limit` entries (0: no limit). Returns the
 * number of entries removed.
 */
function trimStream(c: Client, s: Stream, a: AddTrimArgs, lim = nodeLimits(c)): number {
  if (a.trimStrategy === TRIM_NONE) return 0;
  const layout = ensureStreamLayout(s, lim.maxBytes, lim.maxEntries);
  const nodes = layout.nodes;
  const maxlenStrategy = a.trimStrategy === TRIM_MAXLEN;
  const maxlen = a.maxlen;
  const minidKey = maxlenStrategy ? '' : idKey(a.minid);
  const limit = a.limit;
  let deleted = 0;
  let removedNodes = 0;
  while (removedNodes < nodes.length) {
    if (maxlenStrategy && s.entries.size <= maxlen) break;
    const node = nodes[removedNodes]!;
    const entries = node.count;
    if (limit !== 0 && deleted + entries > limit) break;
    const removeNode = maxlenStrategy ? s.entries.size - entries >= maxlen : node.lastKey < minidKey;
    if (removeNode) {
      s.entries.deleteFirst(entries);
      layout.live -= entries;
      deleted += entries;
      removedNodes++;
      continue;
    }
    if (a.approx) break;
    // mark entries of this node deleted one by one, from its first: they stay in it as tombstones
    const marked: Array<[string, string[]]> = [];
    const size = s.entries.size;
    for (const e of s.entries.range()) {
      if (marked.length >= entries) break;
      const stop = maxlenStrategy ? size - marked.length <= maxlen : e[0] >= minidKey;
      if (stop) break;
      marked.push(e);
    }
    const n = marked.length;
    s.entries.deleteFirst(n);
    for (const [k, fields] of marked) markDeleted(node, k, fields);
    layout.live -= n;
    deleted += n;
    break;
  }
  if (removedNodes > 0) nodes.splice(0, removedNodes);
  refreshFirstId(s);
  return deleted;
}

/**
 * streamRewriteApproxSpecifier + streamRewriteTrimArgument: `~` becomes `=` and the count the
 * resulting length (MAXLEN) or first ID including tombstones (MINID), so replaying is exact.
 */
function rewriteTrimArgs(argv: string[], s: Stream, a: AddTrimArgs): void {
  argv[a.trimArgIdx - 1] = '=';
  if (a.trimStrategy === TRIM_MAXLEN) {
    argv[a.trimArgIdx] = String(s.length);
  } else {
    const nodes = s.layout?.nodes;
    argv[a.trimArgIdx] = nodes !== undefined && nodes.length > 0 ? fmtKey(nodes[0]!.masterKey) : formatStreamId(MAX_ID);
  }
}

/** XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...] */
function xadd(c: Client): void {
  const argv = c.argv;
  const a = parseAddTrim(c, true);
  if (a === null) return;
  const fieldPos = a.idpos + 1;
  const nf2 = argv.length - fieldPos;
  if (nf2 < 2 || nf2 % 2 === 1) {
    c.addError("ERR wrong number of arguments for 'xadd' command");
    return;
  }
  if (a.idGiven && a.seqGiven && isZero(a.id)) {
    c.addError('ERR The ID specified in XADD must be greater than 0-0');
    return;
  }
  const key = argv[1]!;
  const db = c.db;
  const v = db.lookupWrite(key);
  let s: Stream;
  let created = false;
  if (v === undefined) {
    if (a.noMkstream) {
      c.addNull();
      return;
    }
    s = new Stream();
    created = true;
  } else if (!isStream(v)) {
    c.addError(ERR.wrongType);
    return;
  } else {
    s = v;
  }
  const last = s.lastId;
  if (isMax(last)) {
    c.addError('ERR The stream has exhausted the last possible ID, unable to add more items');
    return;
  }
  let id: StreamID;
  let idStr: string | null = null;
  let numericKey: string | null = null;
  if (a.idGiven) {
    if (a.seqGiven) {
      id = a.id;
    } else if (last.ms === a.id.ms) {
      if (last.seq === U64_MAX) {
        // 7.0.15 fails here without setting errno, so xaddCommand reports this, not EDOM
        c.addError('ERR Elements are too large to be stored');
        return;
      }
      id = { ms: last.ms, seq: last.seq + 1n };
    } else {
      id = a.id;
    }
  } else {
    // streamNextID: the current time, or the last ID plus one when the clock is behind it
    const now = Date.now();
    const ms = BigInt(now);
    if (ms > last.ms) {
      id = { ms, seq: 0n };
      idStr = now + '-0';
      numericKey = numKey(now, 0);
    } else {
      id = incrId(last);
      if (id.ms <= SAFE && id.seq <= SAFE) {
        const m = Number(id.ms);
        const q = Number(id.seq);
        idStr = m + '-' + q;
        numericKey = numKey(m, q);
      }
    }
  }
  if (idStr === null && compareStreamId(id, last) <= 0) {
    c.addError(ERR_XADD_SMALLER);
    return;
  }
  let totelelen = 0;
  for (let i = fieldPos; i < argv.length; i++) totelelen += argv[i]!.length;
  if (totelelen > 1 << 30) {
    c.addError('ERR Elements are too large to be stored');
    return;
  }
  const ks = db.ks;
  const d0 = ks.dirty;
  if (created) db.setKey(key, s);
  const k = numericKey ?? idKey(id);
  const fields = argv.slice(fieldPos);
  const lim = nodeLimits(c);
  ensureStreamLayout(s, lim.maxBytes, lim.maxEntries).append(k, id, fields, lim.maxBytes, lim.maxEntries);
  s.entries.set(k, fields);
  s.entriesAdded++;
  s.lastId = id;
  if (s.entries.size === 1) s.firstId = id;
  if (idStr === null) idStr = fmtKey(k);
  c.addRaw('$' + idStr.length + '\r\n' + idStr + '\r\n');
  ks.notify(NOTIFY_STREAM, 'xadd', key, db.id);
  const effects = c.server.effects;
  let rewrite: string[] | null = null;
  if (a.trimStrategy !== TRIM_NONE) {
    if (trimStream(c, s, a, lim) > 0) ks.notify(NOTIFY_STREAM, 'xtrim', key, db.id);
    if (a.approx && effects.active) {
      rewrite = argv.slice();
      rewriteTrimArgs(rewrite, s, a);
    }
  }
  if ((!a.idGiven || !a.seqGiven) && effects.active) {
    if (rewrite === null) rewrite = argv.slice();
    rewrite[a.idpos] = idStr;
  }
  // a new stream was stored before its first entry: setKey's estimate is of an empty one
  if (!created) db.modified(key, 0);
  else db.reestimate(key);
  ks.dirty = d0 + 1;
  if (rewrite !== null) effects.rewrite(rewrite);
  signalStreamReady(c, s);
}

/** XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] */
function xtrim(c: Client): void {
  const a = parseAddTrim(c, false);
  if (a === null) return;
  const key = c.argv[1]!;
  const s = streamForWrite(c, key);
  if (s === null) return;
  if (s === undefined) {
    c.addInt(0);
    return;
  }
  const deleted = trimStream(c, s, a);
  if (deleted > 0) {
    c.db.ks.notify(NOTIFY_STREAM, 'xtrim', key, c.db.id);
    if (a.approx) {
      const rewrite = c.argv.slice();
      rewriteTrimArgs(rewrite, s, a);
      c.server.effects.rewrite(rewrite);
    }
    c.db.modified(key, deleted);
  }
  c.addInt(deleted);
}

// ---- XRANGE / XREVRANGE / XLEN / XDEL -----------------------------------------------------------

/** xrangeGenericCommand: XRANGE key start end [COUNT n], XREVRANGE key end start [COUNT n]. */
function xrangeGeneric(c: Client, rev: boolean): void {
  const argv = c.argv;
  const startArg = rev ? argv[3]! : argv[2]!;
  const endArg = rev ? argv[2]! : argv[3]!;
  const st = parseIntervalOrReply(c, startArg, 0n);
  if (st === null) return;
  let start = st.id;
  if (st.exclusive) {
    if (isMax(start)) {
      c.addError('ERR invalid start ID for the interval');
      return;
    }
    start = incrId(start);
  }
  const en = parseIntervalOrReply(c, endArg, U64_MAX);
  if (en === null) return;
  let end = en.id;
  if (en.exclusive) {
    if (isZero(end)) {
      c.addError('ERR invalid end ID for the interval');
      return;
    }
    end = decrId(end);
  }
  let count = -1;
  for (let j = 4; j < argv.length; j++) {
    const additional = argv.length - j - 1;
    if (additional >= 1 && is(argv[j]!, 'count')) {
      const v = int64OrReply(c, argv[j + 1]!);
      if (v === null) return;
      count = v < 0n ? 0 : Number(v);
      j++;
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  const s = streamForRead(c, argv[1]!);
  if (s === null) return;
  if (s === undefined) {
    c.addArrayLen(0);
    return;
  }
  if (count === 0) {
    c.addNullArray();
    return;
  }
  replyRange(c, s, idKey(start), idKey(end), count === -1 ? 0 : count, rev, false);
}

function xlen(c: Client): void {
  const s = streamForRead(c, c.argv[1]!);
  if (s === null) return;
  c.addInt(s === undefined ? 0 : s.length);
}

/** XDEL key id [id ...] */
function xdel(c: Client): void {
  const argv = c.argv;
  const key = argv[1]!;
  const s = streamForWrite(c, key);
  if (s === null) return;
  if (s === undefined) {
    c.addInt(0);
    return;
  }
  const ids: StreamID[] = [];
  for (let j = 2; j < argv.length; j++) {
    const id = parseIdOrReply(c, argv[j]!, 0n, true);
    if (id === null) return;
    ids.push(id);
  }
  const lim = nodeLimits(c);
  const layout = ensureStreamLayout(s, lim.maxBytes, lim.maxEntries);
  let deleted = 0;
  let firstEntry = false;
  for (const id of ids) {
    const k = idKey(id);
    const fields = s.entries.get(k);
    if (fields === undefined) continue;
    s.entries.delete(k);
    layout.remove(k, fields);
    if (compareStreamId(id, s.firstId) === 0) firstEntry = true;
    if (compareStreamId(id, s.maxDeletedEntryId) > 0) s.maxDeletedEntryId = id;
    deleted++;
  }
  if (deleted > 0) {
    if (s.length === 0) s.firstId = { ms: 0n, seq: 0n };
    else if (firstEntry) refreshFirstId(s);
    c.db.modified(key, deleted);
    c.db.ks.notify(NOTIFY_STREAM, 'xdel', key, c.db.id);
  }
  c.addInt(deleted);
}

// ---- XREAD / XREADGROUP -------------------------------------------------------------------------

/** XREAD_BLOCKED_DEFAULT_COUNT: a blocked XREAD without COUNT gets at most this many entries. */
const XREAD_BLOCKED_DEFAULT_COUNT = 1000;

/** xreadCommand: XREAD and XREADGROUP. */
function xread(c: Client, xreadgroup: boolean): void {
  const argv = c.argv;
  const argc = argv.length;
  let block = false;
  let deadline = 0;
  let count = 0;
  let streamsArg = 0;
  let streamsCount = 0;
  let noack = false;
  let groupArg: string | null = null;
  let consumerArg: string | null = null;
  c.server.effects.prevent();
  for (let i = 1; i < argc; i++) {
    const moreargs = argc - i - 1;
    const o = argv[i]!;
    if (moreargs > 0 && is(o, 'block')) {
      if (c.script) {
        // no sense in blocking from a script: refused outright, as Redis keeps it for compatibility
        c.addError(`ERR ${c.cmd?.name ?? 'xread'} command is not allowed with BLOCK option from scripts`);
        return;
      }
      i++;
      const d = parseTimeout(c, argv[i]!, 'milliseconds');
      if (d === null) return;
      block = true;
      deadline = d;
    } else if (moreargs > 0 && is(o, 'count')) {
      i++;
      const v = int64OrReply(c, argv[i]!);
      if (v === null) return;
      count = v < 0n ? 0 : Number(v);
    } else if (moreargs > 0 && is(o, 'streams')) {
      streamsArg = i + 1;
      streamsCount = argc - streamsArg;
      if (streamsCount % 2 !== 0) {
        c.addError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
        return;
      }
      streamsCount /= 2;
      break;
    } else if (moreargs >= 2 && is(o, 'group')) {
      if (!xreadgroup) {
        c.addError('ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.');
        return;
      }
      groupArg = argv[i + 1]!;
      consumerArg = argv[i + 2]!;
      i += 2;
    } else if (is(o, 'noack')) {
      if (!xreadgroup) {
        c.addError('ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.');
        return;
      }
      noack = true;
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  if (streamsArg === 0) {
    c.addError(ERR.syntax);
    return;
  }
  if (xreadgroup && groupArg === null) {
    c.addError('ERR Missing GROUP option for XREADGROUP');
    return;
  }
  const db = c.db;
  const ids: StreamID[] = new Array<StreamID>(streamsCount);
  const groups: Array<StreamCG | null> = new Array<StreamCG | null>(streamsCount).fill(null);
  for (let i = 0; i < streamsCount; i++) {
    const key = argv[streamsArg + i]!;
    const idArg = argv[streamsArg + streamsCount + i]!;
    const s = streamForRead(c, key);
    if (s === null) return;
    if (groupArg !== null) {
      const cg = s === undefined ? undefined : s.groups.get(groupArg);
      if (cg === undefined) {
        c.addError(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(groupArg)}' in XREADGROUP with GROUP option`);
        return;
      }
      groups[i] = cg;
    }
    const idc = cstr(idArg);
    if (idc === '$') {
      if (xreadgroup) {
        c.addError('ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.');
        return;
      }
      ids[i] = s !== undefined ? s.lastId : ZERO_ID;
      continue;
    } else if (idc === '>') {
      if (!xreadgroup) {
        c.addError('ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.');
        return;
      }
      // the maximum ID stands for '>', as in Redis (an explicit maximum ID reads as '>' too)
      ids[i] = MAX_ID;
      continue;
    }
    const id = parseIdOrReply(c, idArg, 0n, true);
    if (id === null) return;
    ids[i] = id;
  }

  // serve synchronously what can be served
  const now = Date.now();
  const saved = c.out;
  c.out = '';
  let arraylen = 0;
  for (let i = 0; i < streamsCount; i++) {
    const key = argv[streamsArg + i]!;
    const v = db.lookupRead(key);
    if (v === undefined) continue;
    const s = v as Stream;
    let gt = ids[i]!;
    let serve = false;
    let history = false;
    let group: GroupRead | null = null;
    const cg = groups[i];
    if (cg !== null && cg !== undefined) {
      if (!isMax(gt)) {
        serve = true;
        history = true;
      } else if (s.length > 0) {
        const maxKey = lastValidKey(s)!;
        if (maxKey > idKey(cg.lastId)) {
          serve = true;
          gt = cg.lastId;
        }
      }
    } else if (s.length > 0) {
      if (lastValidKey(s)! > idKey(gt)) serve = true;
    }
    if (!serve) continue;
    arraylen++;
    const start = incrId(gt);
    if (c.resp === 2) c.addRaw('*2\r\n');
    c.addBulk(key);
    if (cg !== null && cg !== undefined) {
      // the consumer exists from its first served read (a blocked one is created when served)
      prepareWrite(c, key);
      const { consumer, created } = lookupOrCreateConsumer(c, cg, consumerArg!, key, now);
      if (created && noack) propagateConsumerCreation(c, key, groupArg!, consumer.name);
      groupStateChanged(c, key, 0);
      group = { cg, consumer, noack, key, groupArg: groupArg! };
    }
    if (group === null) {
      replyRange(c, s, idKey(start), MAX_KEY, count, false, false);
    } else if (history) {
      replyConsumerHistory(c, s, idKey(start), count, group.consumer, now);
      groupStateChanged(c, key, 0);
    } else {
      const n = replyGroupRange(c, s, idKey(start), count, group, now);
      if (n > 0) groupStateChanged(c, key, 1);
    }
  }
  const body = c.out;
  c.out = saved;
  if (arraylen > 0) {
    c.addRaw((c.resp === 2 ? '*' : '%') + arraylen + '\r\n' + body);
    return;
  }
  c.addRaw(body);
  if (block) {
    if (isInMulti(c)) {
      c.addNullArray();
      return;
    }
    const keys: string[] = [];
    const byKey = new Map<string, StreamID>();
    const seen = new Map<string, Stream | undefined>();
    for (let i = 0; i < streamsCount; i++) {
      const key = argv[streamsArg + i]!;
      if (byKey.has(key)) continue;
      keys.push(key);
      byKey.set(key, ids[i]!);
      const v = db.peek(key);
      seen.set(key, v !== undefined && isStream(v) ? v : undefined);
    }
    blockForKeys(c, new StreamWait(keys, deadline, byKey, seen, groupArg, consumerArg, noack, count !== 0 ? count : XREAD_BLOCKED_DEFAULT_COUNT));
    return;
  }
  c.addNullArray();
}

/**
 * A client blocked by XREAD/XREADGROUP BLOCK (serveClientsBlockedOnStreamKey and
 * unblockDeletedStreamReadgroupClients in Redis 7.0's blocked.c).
 */
class StreamWait implements BlockRequest {
  readonly type = 'stream' as const;
  readonly onKeyMissing: ((c: Client, key: string) => boolean) | undefined;

  constructor(
    readonly keys: string[],
    readonly deadline: number,
    /** the ID each key is read after; the maximum ID for '>' */
    private readonly ids: Map<string, StreamID>,
    /** the stream each key held when last looked at, to tell a deleted and re-created key */
    private readonly seen: Map<string, Stream | undefined>,
    readonly group: string | null,
    readonly consumer: string | null,
    readonly noack: boolean,
    readonly count: number,
  ) {
    this.onKeyMissing = group === null ? undefined : StreamWait.keyGone;
  }

  /** An XREADGROUP waiter whose stream was deleted or replaced is unblocked with an error. */
  private static keyGone(c: Client, _key: string): boolean {
    const msg = 'UNBLOCKED the stream key no longer exists';
    c.addError(msg);
    c.server.countError(msg);
    return true;
  }

  serve(c: Client, key: string, value: RObject): boolean {
    const s = value as Stream;
    const before = this.seen.get(key);
    this.seen.set(key, s);
    // Redis looks at a stream key only after XADD, XGROUP DESTROY or its deletion
    if (before === s && !readyStreams.has(s)) return false;
    let gt = this.ids.get(key)!;
    let cg: StreamCG | undefined;
    if (this.group !== null) {
      cg = s.groups.get(this.group);
      if (cg === undefined) {
        const msg = 'NOGROUP the consumer group this client was blocked on no longer exists';
        c.addError(msg);
        c.server.countError(msg);
        return true;
      }
      gt = cg.lastId;
    }
    if (compareStreamId(s.lastId, gt) <= 0) return false;
    const db = c.db;
    const effects = c.server.effects;
    const now = Date.now();
    // one propagation unit, wrapped in MULTI/EXEC when it has several effects (afterCommand)
    effects.beginCommand(db.id);
    try {
      const start = incrId(gt);
      c.addRaw(c.resp === 2 ? '*1\r\n*2\r\n' : '%1\r\n');
      c.addBulk(key);
      if (cg === undefined) {
        replyRange(c, s, idKey(start), MAX_KEY, this.count, false, false);
      } else {
        const { consumer, created } = lookupOrCreateConsumer(c, cg, this.consumer!, key, now);
        if (created && this.noack) propagateConsumerCreation(c, key, this.group!, consumer.name);
        const n = replyGroupRange(c, s, idKey(start), this.count, { cg, consumer, noack: this.noack, key, groupArg: this.group! }, now);
        groupStateChanged(c, key, n > 0 ? 1 : 0);
      }
    } finally {
      effects.endCommand(null);
    }
    return true;
  }
}

// ---- XGROUP / XSETID ----------------------------------------------------------------------------

const XGROUP_HELP = [
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  "      Set the group's entries_read counter (internal use).",
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
];

/** xgroupCommand: XGROUP CREATE | SETID | DESTROY | CREATECONSUMER | DELCONSUMER | HELP. */
function xgroup(c: Client): void {
  const argv = c.argv;
  const argc = argv.length;
  const opt = argv[1]!;
  let s: Stream | undefined;
  let cg: StreamCG | undefined;
  let mkstream = false;
  let entriesRead = SCG_INVALID_ENTRIES_READ;
  let grpname = '';
  const create = is(opt, 'create');
  const setid = is(opt, 'setid');
  if (argc >= 4) {
    let i = 5;
    while (i < argc) {
      if (create && is(argv[i]!, 'mkstream')) {
        mkstream = true;
        i++;
      } else if ((create || setid) && is(argv[i]!, 'entriesread') && i + 1 < argc) {
        const v = int64OrReply(c, argv[i + 1]!);
        if (v === null) return;
        if (v < 0n && v !== -1n) {
          c.addError('ERR value for ENTRIESREAD must be positive or -1');
          return;
        }
        entriesRead = Number(v);
        i += 2;
      } else {
        addReplySubcommandSyntaxError(c);
        return;
      }
    }
    const found = streamForWrite(c, argv[2]!);
    if (found === null) return;
    s = found;
    grpname = argv[3]!;
  }
  if (argc >= 4 && !mkstream) {
    if (s === undefined) {
      c.addError('ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.');
      return;
    }
    cg = s.groups.get(grpname);
    if (cg === undefined && (setid || is(opt, 'createconsumer') || is(opt, 'delconsumer'))) {
      c.addError(`NOGROUP No such consumer group '${cstr(grpname)}' for key name '${cstr(argv[2]!)}'`);
      return;
    }
  }
  const key = argv[2]!;
  const db = c.db;
  const ks = db.ks;
  if (argc === 2 && is(opt, 'help')) {
    addReplyHelp(c, XGROUP_HELP);
  } else if (create && argc >= 5 && argc <= 8) {
    let id: StreamID;
    if (cstr(argv[4]!) === '$') {
      id = s !== undefined ? s.lastId : ZERO_ID;
    } else {
      const p = parseIdOrReply(c, argv[4]!, 0n, true);
      if (p === null) return;
      id = p;
    }
    if (s !== undefined && s.groups.has(grpname)) {
      c.addError('BUSYGROUP Consumer Group name already exists');
      return;
    }
    const d0 = ks.dirty;
    if (s === undefined) {
      s = new Stream();
      db.setKey(key, s);
    }
    s.groups.set(grpname, new StreamCG(grpname, { ms: id.ms, seq: id.seq }, entriesRead));
    c.addOk();
    groupStateChanged(c, key, 0);
    ks.dirty = d0 + 1;
    ks.notify(NOTIFY_STREAM, 'xgroup-create', key, db.id);
  } else if (setid && (argc === 5 || argc === 7)) {
    let id: StreamID;
    if (cstr(argv[4]!) === '$') {
      id = s!.lastId;
    } else {
      const p = parseIdOrReply(c, argv[4]!, 0n, false);
      if (p === null) return;
      id = p;
    }
    cg!.lastId = { ms: id.ms, seq: id.seq };
    cg!.entriesRead = entriesRead;
    c.addOk();
    groupStateChanged(c, key, 1);
    ks.notify(NOTIFY_STREAM, 'xgroup-setid', key, db.id);
  } else if (is(opt, 'destroy') && argc === 4) {
    if (cg !== undefined) {
      s!.groups.delete(grpname);
      c.addInt(1);
      groupStateChanged(c, key, 1);
      ks.notify(NOTIFY_STREAM, 'xgroup-destroy', key, db.id);
      // blocked XREADGROUP clients of that group get -NOGROUP
      signalStreamReady(c, s!);
    } else {
      c.addInt(0);
    }
  } else if (is(opt, 'createconsumer') && argc === 5) {
    const d0 = ks.dirty;
    const created = createConsumer(c, cg!, argv[4]!, key, Date.now());
    c.addInt(created !== null ? 1 : 0);
    if (created !== null) {
      groupStateChanged(c, key, 0);
      ks.dirty = d0 + 1;
    }
  } else if (is(opt, 'delconsumer') && argc === 5) {
    const consumer = cg!.consumers.get(argv[4]!);
    let pending = 0;
    if (consumer !== undefined) {
      pending = consumer.pel.size;
      deleteConsumer(cg!, consumer);
      groupStateChanged(c, key, 1);
      ks.notify(NOTIFY_STREAM, 'xgroup-delconsumer', key, db.id);
    }
    c.addInt(pending);
  } else {
    addReplySubcommandSyntaxError(c);
  }
}

/** XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id] */
function xsetid(c: Client): void {
  const argv = c.argv;
  const argc = argv.length;
  const id = parseIdOrReply(c, argv[2]!, 0n, true);
  if (id === null) return;
  let entriesAdded = -1n;
  let maxXdel: StreamID = ZERO_ID;
  let i = 3;
  while (i < argc) {
    const moreargs = argc - 1 - i;
    const opt = argv[i]!;
    if (moreargs > 0 && is(opt, 'entriesadded')) {
      const v = int64OrReply(c, argv[i + 1]!);
      if (v === null) return;
      if (v < 0n) {
        c.addError('ERR entries_added must be positive');
        return;
      }
      entriesAdded = v;
      i += 2;
    } else if (moreargs > 0 && is(opt, 'maxdeletedid')) {
      const m = parseIdOrReply(c, argv[i + 1]!, 0n, true);
      if (m === null) return;
      if (compareStreamId(id, m) < 0) {
        c.addError('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id');
        return;
      }
      maxXdel = m;
      i += 2;
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  const key = argv[1]!;
  const s = streamForWrite(c, key);
  if (s === null) return;
  if (s === undefined) {
    c.addError(ERR.noSuchKey);
    return;
  }
  if (s.length > 0) {
    const maxKey = lastValidKey(s)!;
    if (idKey(id) < maxKey) {
      c.addError('ERR The ID specified in XSETID is smaller than the target stream top item');
      return;
    }
    if (entriesAdded !== -1n && BigInt(s.length) > entriesAdded) {
      c.addError('ERR The entries_added specified in XSETID is smaller than the target stream length');
      return;
    }
  }
  s.lastId = { ms: id.ms, seq: id.seq };
  if (entriesAdded !== -1n) s.entriesAdded = Number(entriesAdded);
  if (!isZero(maxXdel)) s.maxDeletedEntryId = { ms: maxXdel.ms, seq: maxXdel.seq };
  c.addOk();
  groupStateChanged(c, key, 1);
  c.db.ks.notify(NOTIFY_STREAM, 'xsetid', key, c.db.id);
}

// ---- XACK / XPENDING / XCLAIM / XAUTOCLAIM ------------------------------------------------------

/** XACK key group id [id ...] */
function xack(c: Client): void {
  const argv = c.argv;
  const key = argv[1]!;
  const s = streamForRead(c, key);
  if (s === null) return;
  const cg = s === undefined ? undefined : s.groups.get(argv[2]!);
  if (cg === undefined) {
    c.addInt(0);
    return;
  }
  const keys: string[] = [];
  for (let j = 3; j < argv.length; j++) {
    const id = parseIdOrReply(c, argv[j]!, 0n, true);
    if (id === null) return;
    keys.push(idKey(id));
  }
  let acknowledged = 0;
  for (const k of keys) {
    const nack = cg.pel.get(k);
    if (nack === undefined) continue;
    if (acknowledged === 0) prepareWrite(c, key);
    cg.pel.delete(k);
    nack.consumer?.pel.delete(k);
    acknowledged++;
  }
  if (acknowledged > 0) groupStateChanged(c, key, acknowledged);
  c.addInt(acknowledged);
}

/** XPENDING key group [[IDLE min-idle-time] start end count [consumer]] */
function xpending(c: Client): void {
  const argv = c.argv;
  const argc = argv.length;
  const justinfo = argc === 3;
  const key = argv[1]!;
  const groupArg = argv[2]!;
  if (argc !== 3 && (argc < 6 || argc > 9)) {
    c.addError(ERR.syntax);
    return;
  }
  let startKey = MIN_KEY;
  let endKey = MAX_KEY;
  let count = 0;
  let minidle = 0;
  let consumerArg: string | null = null;
  if (argc >= 6) {
    let startidx = 3;
    if (is(argv[3]!, 'idle')) {
      const v = int64OrReply(c, argv[4]!);
      if (v === null) return;
      minidle = Number(v);
      if (argc < 8) {
        c.addError(ERR.syntax);
        return;
      }
      startidx += 2;
    }
    const cv = int64OrReply(c, argv[startidx + 2]!);
    if (cv === null) return;
    count = cv < 0n ? 0 : Number(cv);
    const st = parseIntervalOrReply(c, argv[startidx]!, 0n);
    if (st === null) return;
    let start = st.id;
    if (st.exclusive) {
      if (isMax(start)) {
        c.addError('ERR invalid start ID for the interval');
        return;
      }
      start = incrId(start);
    }
    const en = parseIntervalOrReply(c, argv[startidx + 1]!, U64_MAX);
    if (en === null) return;
    let end = en.id;
    if (en.exclusive) {
      if (isZero(end)) {
        c.addError('ERR invalid end ID for the interval');
        return;
      }
      end = decrId(end);
    }
    startKey = idKey(start);
    endKey = idKey(end);
    if (startidx + 3 < argc) consumerArg = argv[startidx + 3]!;
  }
  const s = streamForRead(c, key);
  if (s === null) return;
  const cg = s === undefined ? undefined : s.groups.get(groupArg);
  if (cg === undefined) {
    c.addError(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(groupArg)}'`);
    return;
  }
  if (justinfo) {
    c.addArrayLen(4);
    c.addInt(cg.pel.size);
    if (cg.pel.size === 0) {
      c.addNull();
      c.addNull();
      c.addNullArray();
      return;
    }
    c.addBulk(fmtKey(cg.pel.firstKey()!));
    c.addBulk(fmtKey(cg.pel.lastKey()!));
    let body = '';
    let n = 0;
    for (const consumer of cg.sortedConsumers()) {
      if (consumer.pel.size === 0) continue;
      body += '*2\r\n' + bulk(consumer.name) + bulk(String(consumer.pel.size));
      n++;
    }
    c.addRaw('*' + n + '\r\n' + body);
    return;
  }
  let pel = cg.pel;
  if (consumerArg !== null) {
    const consumer = cg.consumers.get(consumerArg);
    if (consumer === undefined) {
      c.addArrayLen(0);
      return;
    }
    pel = consumer.pel;
  }
  const now = Date.now();
  let body = '';
  let n = 0;
  if (count > 0 && startKey <= endKey) {
    for (const [k, nack] of pel.range(startKey, endKey)) {
      if (minidle !== 0 && now - nack.deliveryTime < minidle) continue;
      n++;
      let elapsed = now - nack.deliveryTime;
      if (elapsed < 0) elapsed = 0;
      body += '*4\r\n' + bulk(fmtKey(k)) + bulk(nack.consumer!.name) + ':' + elapsed + '\r\n:' + nack.deliveryCount + '\r\n';
      if (n === count) break;
    }
  }
  c.addRaw('*' + n + '\r\n' + body);
}

/** XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-ms] [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id] */
function xclaim(c: Client): void {
  const argv = c.argv;
  const argc = argv.length;
  const key = argv[1]!;
  const groupArg = argv[2]!;
  c.server.effects.prevent();
  const s = streamForRead(c, key);
  if (s === null) return;
  const cg = s === undefined ? undefined : s.groups.get(groupArg);
  if (s === undefined || cg === undefined) {
    c.addError(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(groupArg)}'`);
    return;
  }
  const mi = int64OrReply(c, argv[4]!, 'ERR Invalid min-idle-time argument for XCLAIM');
  if (mi === null) return;
  const minidle = mi < 0n ? 0 : Number(mi);
  const ids: StreamID[] = [];
  let j = 5;
  for (; j < argc; j++) {
    const p = parseIdArg(argv[j]!, 0n, true);
    if (p === null) break;
    ids.push(p.id);
  }
  const lastIdArg = j - 1;
  const now = Date.now();
  let retrycount = -1;
  let deliverytime = -1;
  let force = false;
  let justid = false;
  let lastId: StreamID = ZERO_ID;
  for (; j < argc; j++) {
    const moreargs = argc - 1 - j;
    const opt = argv[j]!;
    if (is(opt, 'force')) {
      force = true;
    } else if (is(opt, 'justid')) {
      justid = true;
    } else if (moreargs > 0 && is(opt, 'idle')) {
      j++;
      const v = int64OrReply(c, argv[j]!, 'ERR Invalid IDLE option argument for XCLAIM');
      if (v === null) return;
      deliverytime = now - Number(v);
    } else if (moreargs > 0 && is(opt, 'time')) {
      j++;
      const v = int64OrReply(c, argv[j]!, 'ERR Invalid TIME option argument for XCLAIM');
      if (v === null) return;
      deliverytime = Number(v);
    } else if (moreargs > 0 && is(opt, 'retrycount')) {
      j++;
      const v = int64OrReply(c, argv[j]!, 'ERR Invalid RETRYCOUNT option argument for XCLAIM');
      if (v === null) return;
      retrycount = Number(v);
    } else if (moreargs > 0 && is(opt, 'lastid')) {
      j++;
      const id = parseIdOrReply(c, argv[j]!, 0n, true);
      if (id === null) return;
      lastId = id;
    } else {
      c.addError(`ERR Unrecognized XCLAIM option '${cstr(opt)}'`);
      return;
    }
  }
  const ks = c.db.ks;
  const d0 = ks.dirty;
  let changed = false;
  let propagateLastId = false;
  if (compareStreamId(lastId, cg.lastId) > 0) {
    prepareWrite(c, key);
    changed = true;
    cg.lastId = lastId;
    propagateLastId = true;
  }
  if (deliverytime !== -1) {
    // a bogus time (negative, in the future) is taken as now rather than refused
    if (deliverytime < 0 || deliverytime > now) deliverytime = now;
  } else {
    deliverytime = now;
  }
  let consumer: StreamConsumer | null = null;
  let body = '';
  let n = 0;
  for (let a = 5; a <= lastIdArg; a++) {
    const id = ids[a - 5]!;
    const k = idKey(id);
    let nack = cg.pel.get(k);
    if (!s.entries.has(k)) {
      // the entry is gone: drop its PEL entry, propagating that as an XCLAIM of it
      if (nack !== undefined) {
        if (!changed) prepareWrite(c, key);
        changed = true;
        propagateXclaim(c, key, cg, groupArg, argv[a]!, nack);
        propagateLastId = false;
        ks.dirty++;
        cg.pel.delete(k);
        nack.consumer?.pel.delete(k);
      }
      continue;
    }
    if (force && nack === undefined) {
      if (!changed) prepareWrite(c, key);
      changed = true;
      nack = { deliveryTime: now, deliveryCount: 1, consumer: null };
      cg.pel.set(k, nack);
    }
    if (nack === undefined) continue;
    if (nack.consumer !== null && minidle !== 0 && now - nack.deliveryTime < minidle) continue;
    if (!changed) prepareWrite(c, key);
    changed = true;
    if (consumer === null) consumer = lookupOrCreateConsumer(c, cg, argv[3]!, key, now).consumer;
    if (nack.consumer !== consumer) nack.consumer?.pel.delete(k);
    nack.deliveryTime = deliverytime;
    if (retrycount >= 0) nack.deliveryCount = retrycount;
    else if (!justid) nack.deliveryCount++;
    if (nack.consumer !== consumer) {
      consumer.pel.set(k, nack);
      nack.consumer = consumer;
    }
    body += justid ? bulk(fmtKey(k)) : entryReply(k, s.entries.get(k)!);
    n++;
    propagateXclaim(c, key, cg, groupArg, argv[a]!, nack);
    propagateLastId = false;
    ks.dirty++;
  }
  if (propagateLastId) {
    propagateGroupId(c, key, cg, groupArg);
    ks.dirty++;
  }
  c.addRaw('*' + n + '\r\n' + body);
  if (changed) {
    const d = ks.dirty - d0;
    ks.dirty = d0;
    groupStateChanged(c, key, d);
  }
}

/** XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID] */
function xautoclaim(c: Client): void {
  const argv = c.argv;
  const argc = argv.length;
  const key = argv[1]!;
  const groupArg = argv[2]!;
  c.server.effects.prevent();
  const found = c.db.lookupRead(key);
  const mi = int64OrReply(c, argv[4]!, 'ERR Invalid min-idle-time argument for XAUTOCLAIM');
  if (mi === null) return;
  const minidle = mi < 0n ? 0 : Number(mi);
  const st = parseIntervalOrReply(c, argv[5]!, 0n);
  if (st === null) return;
  let start = st.id;
  if (st.exclusive) {
    if (isMax(start)) {
      c.addError('ERR invalid start ID for the interval');
      return;
    }
    start = incrId(start);
  }
  let count = 100;
  let justid = false;
  // Redis allocates COUNT stream IDs up front: beyond what an address space holds it fails
  const maxAllocCount = 4398046511104;
  // LONG_MAX / max(sizeof(streamID), attempts_factor)
  const maxCount = 576460752303423487n;
  for (let j = 6; j < argc; j++) {
    const moreargs = argc - 1 - j;
    const opt = argv[j]!;
    if (moreargs > 0 && is(opt, 'count')) {
      // getRangeLongFromObjectOrReply with a message: the same error for both failures
      const v = parseInt64(argv[j + 1]!);
      if (v === null || v < 1n || v > maxCount) {
        c.addError('ERR COUNT must be > 0');
        return;
      }
      count = Number(v);
      j++;
    } else if (is(opt, 'justid')) {
      justid = true;
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  if (found !== undefined && !isStream(found)) {
    c.addError(ERR.wrongType);
    return;
  }
  const s = found;
  const cg = s === undefined ? undefined : s.groups.get(groupArg);
  if (s === undefined || cg === undefined) {
    c.addError(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(groupArg)}'`);
    return;
  }
  if (count >= maxAllocCount) {
    c.addError('ERR Insufficient memory, failed allocating transient memory, COUNT too high.');
    return;
  }
  prepareWrite(c, key);
  const ks = c.db.ks;
  const d0 = ks.dirty;
  const now = Date.now();
  // looked up (or created) at the first entry claimed, as XCLAIM does
  let consumer: StreamConsumer | null = null;
  let attempts = count * 10;
  // the PEL keys from start, enough for every attempt plus the cursor after them
  const candidates: string[] = [];
  const want = Math.min(attempts, cg.pel.size) + 1;
  for (const [k] of cg.pel.range(idKey(start))) {
    candidates.push(k);
    if (candidates.length >= want) break;
  }
  let body = '';
  let n = 0;
  const deleted: string[] = [];
  let pos = 0;
  while (attempts-- > 0 && count > 0 && pos < candidates.length) {
    const k = candidates[pos++]!;
    const nack = cg.pel.get(k)!;
    if (!s.entries.has(k)) {
      propagateXclaim(c, key, cg, groupArg, fmtKey(k), nack);
      ks.dirty++;
      cg.pel.delete(k);
      nack.consumer?.pel.delete(k);
      deleted.push(k);
      count--;
      continue;
    }
    if (minidle !== 0 && now - nack.deliveryTime < minidle) continue;
    if (consumer === null) consumer = lookupOrCreateConsumer(c, cg, argv[3]!, key, now).consumer;
    if (nack.consumer !== consumer) nack.consumer?.pel.delete(k);
    nack.deliveryTime = now;
    if (!justid) nack.deliveryCount++;
    if (nack.consumer !== consumer) {
      consumer.pel.set(k, nack);
      nack.consumer = consumer;
    }
    body += justid ? bulk(fmtKey(k)) : entryReply(k, s.entries.get(k)!);
    n++;
    count--;
    propagateXclaim(c, key, cg, groupArg, fmtKey(k), nack);
    ks.dirty++;
  }
  const cursor = pos < candidates.length ? fmtKey(candidates[pos]!) : '0-0';
  c.addArrayLen(3);
  c.addBulk(cursor);
  c.addRaw('*' + n + '\r\n' + body);
  c.addArrayLen(deleted.length);
  for (const k of deleted) c.addBulk(fmtKey(k));
  const d = ks.dirty - d0;
  ks.dirty = d0;
  groupStateChanged(c, key, d);
}

// ---- XINFO --------------------------------------------------------------------------------------

const XINFO_HELP = [
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
];

function xinfoHelp(c: Client): void {
  addReplyHelp(c, XINFO_HELP);
}

/** The stream of XINFO's key (lookupKeyReadOrReply with no-such-key), or null after a reply. */
function xinfoStreamOrReply(c: Client): Stream | null {
  const s = streamForRead(c, c.argv[2]!);
  if (s === null) return null;
  if (s === undefined) {
    c.addError(ERR.noSuchKey);
    return null;
  }
  return s;
}

/** XINFO CONSUMERS key group */
function xinfoConsumers(c: Client): void {
  const s = xinfoStreamOrReply(c);
  if (s === null) return;
  const cg = s.groups.get(c.argv[3]!);
  if (cg === undefined) {
    c.addError(`NOGROUP No such consumer group '${cstr(c.argv[3]!)}' for key name '${cstr(c.argv[2]!)}'`);
    return;
  }
  const consumers = cg.sortedConsumers();
  c.addArrayLen(consumers.length);
  const now = Date.now();
  for (const consumer of consumers) {
    let idle = now - consumer.seenTime;
    if (idle < 0) idle = 0;
    c.addMapLen(3);
    c.addBulk('name');
    c.addBulk(consumer.name);
    c.addBulk('pending');
    c.addInt(consumer.pel.size);
    c.addBulk('idle');
    c.addInt(idle);
  }
}

/** XINFO GROUPS key */
function xinfoGroups(c: Client): void {
  const s = xinfoStreamOrReply(c);
  if (s === null) return;
  const groups = s.sortedGroups();
  c.addArrayLen(groups.length);
  for (const cg of groups) {
    c.addMapLen(6);
    c.addBulk('name');
    c.addBulk(cg.name);
    c.addBulk('consumers');
    c.addInt(cg.consumers.size);
    c.addBulk('pending');
    c.addInt(cg.pel.size);
    c.addBulk('last-delivered-id');
    c.addBulk(formatStreamId(cg.lastId));
    c.addBulk('entries-read');
    if (cg.entriesRead !== SCG_INVALID_ENTRIES_READ) c.addInt(cg.entriesRead);
    else c.addNull();
    c.addBulk('lag');
    addLag(c, groupLag(s, cg));
  }
}

/** XINFO STREAM key [FULL [COUNT count]] (xinfoReplyWithStreamInfo). */
function xinfoStream(c: Client): void {
  const argv = c.argv;
  const s = xinfoStreamOrReply(c);
  if (s === null) return;
  const optc = argv.length - 3;
  let full = true;
  let count = 10;
  if (optc === 0) {
    full = false;
  } else {
    if ((optc !== 1 && optc !== 3) || !is(argv[3]!, 'full')) {
      addReplySubcommandSyntaxError(c);
      return;
    }
    if (optc === 3) {
      if (!is(argv[4]!, 'count')) {
        addReplySubcommandSyntaxError(c);
        return;
      }
      const v = int64OrReply(c, argv[5]!);
      if (v === null) return;
      count = v < 0n ? 10 : Number(v);
    }
  }
  const lim = nodeLimits(c);
  const layout = ensureStreamLayout(s, lim.maxBytes, lim.maxEntries);
  c.addMapLen(full ? 9 : 10);
  c.addBulk('length');
  c.addInt(s.length);
  c.addBulk('radix-tree-keys');
  c.addInt(layout.nodes.length);
  c.addBulk('radix-tree-nodes');
  c.addInt(layout.raxNodes());
  c.addBulk('last-generated-id');
  c.addBulk(formatStreamId(s.lastId));
  c.addBulk('max-deleted-entry-id');
  c.addBulk(formatStreamId(s.maxDeletedEntryId));
  c.addBulk('entries-added');
  c.addInt(s.entriesAdded);
  c.addBulk('recorded-first-entry-id');
  c.addBulk(formatStreamId(s.firstId));
  if (!full) {
    c.addBulk('groups');
    c.addInt(s.groups.size);
    c.addBulk('first-entry');
    if (replyRange(c, s, MIN_KEY, MAX_KEY, 1, false, true) === 0) c.addNull();
    c.addBulk('last-entry');
    if (replyRange(c, s, MIN_KEY, MAX_KEY, 1, true, true) === 0) c.addNull();
    return;
  }
  c.addBulk('entries');
  replyRange(c, s, MIN_KEY, MAX_KEY, count, false, false);
  c.addBulk('groups');
  const groups = s.sortedGroups();
  c.addArrayLen(groups.length);
  for (const cg of groups) {
    c.addMapLen(7);
    c.addBulk('name');
    c.addBulk(cg.name);
    c.addBulk('last-delivered-id');
    c.addBulk(formatStreamId(cg.lastId));
    c.addBulk('entries-read');
    if (cg.entriesRead !== SCG_INVALID_ENTRIES_READ) c.addInt(cg.entriesRead);
    else c.addNull();
    c.addBulk('lag');
    addLag(c, groupLag(s, cg));
    c.addBulk('pel-count');
    c.addInt(cg.pel.size);
    c.addBulk('pending');
    let body = '';
    let n = 0;
    for (const [k, nack] of cg.pel.entries()) {
      if (count !== 0 && n >= count) break;
      body += '*4\r\n' + bulk(fmtKey(k)) + bulk(nack.consumer!.name) + ':' + nack.deliveryTime + '\r\n:' + nack.deliveryCount + '\r\n';
      n++;
    }
    c.addRaw('*' + n + '\r\n' + body);
    c.addBulk('consumers');
    const consumers = cg.sortedConsumers();
    c.addArrayLen(consumers.length);
    for (const consumer of consumers) {
      c.addMapLen(4);
      c.addBulk('name');
      c.addBulk(consumer.name);
      c.addBulk('seen-time');
      c.addInt(consumer.seenTime);
      c.addBulk('pel-count');
      c.addInt(consumer.pel.size);
      c.addBulk('pending');
      let cbody = '';
      let cn = 0;
      for (const [k, nack] of consumer.pel.entries()) {
        if (count !== 0 && cn >= count) break;
        cbody += '*3\r\n' + bulk(fmtKey(k)) + ':' + nack.deliveryTime + '\r\n:' + nack.deliveryCount + '\r\n';
        cn++;
      }
      c.addRaw('*' + cn + '\r\n' + cbody);
    }
  }
}

/** Handlers of the streams command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const streamsCommands: Record<string, Handler> = {
  xadd,
  xtrim,
  xrange: (c) => xrangeGeneric(c, false),
  xrevrange: (c) => xrangeGeneric(c, true),
  xlen,
  xdel,
  xread: (c) => xread(c, false),
  xreadgroup: (c) => xread(c, true),
  'xgroup|create': xgroup,
  'xgroup|setid': xgroup,
  'xgroup|destroy': xgroup,
  'xgroup|createconsumer': xgroup,
  'xgroup|delconsumer': xgroup,
  'xgroup|help': xgroup,
  xsetid,
  xack,
  xpending,
  xclaim,
  xautoclaim,
  'xinfo|stream': xinfoStream,
  'xinfo|groups': xinfoGroups,
  'xinfo|consumers': xinfoConsumers,
  'xinfo|help': xinfoHelp,
};
